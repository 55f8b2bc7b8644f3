"""Fixtures for the checks' tests."""

import pytest
from literal_streams import JournalBuilder


@pytest.fixture()
def jb():
    return JournalBuilder()
