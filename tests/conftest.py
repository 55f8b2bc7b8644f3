"""Test-suite wide fixtures and helpers."""

from __future__ import annotations

pytest_plugins = ["pytester"]
