"""Checks on a run: rates, ordering, acknowledgements and level order, data-save integrity.

Each ``check_*`` returns a :class:`CheckResult`; each ``assert_*`` raises
:class:`~harness.errors.CheckFailed` (an ``AssertionError``) with a report that names
the stream and the first bad message.
"""

from harness.checks.acks import assert_acks, assert_levels, check_acks, check_levels
from harness.checks.config import ChecksConfig, RateOptions
from harness.checks.integrity import assert_integrity, check_integrity, player_streams
from harness.checks.ordering import assert_ordering, check_ordering
from harness.checks.rates import assert_rates, check_rates, stream_trigger_times
from harness.checks.result import CheckResult, Finding

__all__ = [
    "CheckResult",
    "ChecksConfig",
    "Finding",
    "RateOptions",
    "assert_acks",
    "assert_integrity",
    "assert_levels",
    "assert_ordering",
    "assert_rates",
    "check_acks",
    "check_integrity",
    "check_levels",
    "check_ordering",
    "check_rates",
    "player_streams",
    "stream_trigger_times",
]
