"""The journal invariants catch what they claim to catch."""

import pytest

from harness.errors import CheckFailed
from harness.orchestra import EventKind as K
from harness.orchestra import Journal, check_journal, journal_violations


def journal(*lines):
    j = Journal()
    for kind, trigger, level, player in lines:
        j.record(kind, trigger=trigger, level=level, player=player, attempt=1)
    return j


def test_a_well_ordered_journal_passes():
    j = journal((K.RUN_STARTED, 1, None, None), (K.TRIGGER_SENT, 1, 0, "a"), (K.TRIGGER_SENT, 1, 0, "b"),
                (K.ACK, 1, 0, "b"), (K.MISSED, 1, 0, "a"), (K.TRIGGER_SENT, 1, 1, "c"), (K.NACK, 1, 1, "c"),
                (K.TRIGGER_SENT, 2, 0, "a"), (K.ACK, 2, 0, "a"), (K.RUN_STOPPED, 2, None, None))
    assert journal_violations(j) == []
    check_journal(j)


def test_overlapping_levels_are_found():
    j = journal((K.TRIGGER_SENT, 1, 0, "a"), (K.TRIGGER_SENT, 1, 1, "c"), (K.ACK, 1, 0, "a"), (K.ACK, 1, 1, "c"))
    problems = journal_violations(j)
    assert len(problems) == 1 and "level 1" in problems[0] and "still unresolved" in problems[0]


def test_next_trigger_before_the_last_one_resolved_is_found():
    j = journal((K.TRIGGER_SENT, 1, 2, "z"), (K.TRIGGER_SENT, 2, 0, "a"))
    assert "trigger 1 level 2" in journal_violations(j)[0]


def test_double_resolution_resolution_without_send_and_unresolved_pairs_are_found():
    j = journal((K.TRIGGER_SENT, 1, 0, "a"), (K.ACK, 1, 0, "a"), (K.MISSED, 1, 0, "a"), (K.ACK, 3, 0, "q"),
                (K.TRIGGER_SENT, 2, 0, "a"), (K.RUN_ABORTED, 1, None, None))
    problems = journal_violations(j)
    assert len(problems) == 3
    assert "resolved again" in problems[0] and "never sent" in problems[1] and "never resolved" in problems[2]
    with pytest.raises(CheckFailed, match="3"):
        check_journal(j)


def test_a_new_run_may_reuse_trigger_numbers():
    j = journal((K.RUN_STARTED, 1, None, None), (K.TRIGGER_SENT, 1, 0, "a"), (K.ACK, 1, 0, "a"),
                (K.RUN_STOPPED, 1, None, None), (K.RUN_STARTED, 1, None, None), (K.TRIGGER_SENT, 1, 0, "a"),
                (K.ACK, 1, 0, "a"))
    assert journal_violations(j) == []
