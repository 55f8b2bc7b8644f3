"""Hypothesis settings profiles for tests that run scenarios against a real broker."""

from __future__ import annotations

__all__ = ["PROFILES", "register_profiles"]

#: hypothesis settings profiles for tests that run scenarios against a real broker: examples
#: do I/O, so no deadline; ``donki-ci`` also fixes the seed (``--hypothesis-profile=donki-ci``)
PROFILES = ("donki", "donki-ci")


def register_profiles() -> None:
    """Register :data:`PROFILES` (the plugin does this at start-up)."""
    from hypothesis import HealthCheck, settings

    relaxed = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
    settings.register_profile("donki", deadline=None, suppress_health_check=relaxed)
    settings.register_profile("donki-ci", deadline=None, suppress_health_check=relaxed, derandomize=True,
                              print_blob=True)
