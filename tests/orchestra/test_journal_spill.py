"""The journal keeps only a window of events in memory; the rest go to a spill file and come back in order."""

from __future__ import annotations

import pickle
import tracemalloc

import pytest

from harness.orchestra.journal import EventKind, Journal


class _Name(str):
    pass


def _fill(journal: Journal, triggers: int) -> None:
    for trigger in range(1, triggers + 1):
        journal.record(EventKind.TRIGGER_SENT, trigger=trigger, level=0, player="det", attempt=1)
        journal.record(EventKind.ACK, trigger=trigger, level=0, player="det", attempt=1, latency_s=0.001,
                       counts={"messages": 14, "bytes": 280_000, "delivered": 14, "failed": 0})


def test_memory_stays_flat_however_many_events_are_journaled(tmp_path):
    journal = Journal(window=500, spill_dir=str(tmp_path))
    _fill(journal, 2_000)  # warm up: the spill file exists, the window is full
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        _fill(journal, 40_000)
        grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
    # before: ~25 MB for 80,000 events held as objects; now bounded by the window
    assert grown < 1_000_000, f"the journal grew {grown / 1e6:.1f} MB in memory"
    assert journal.spilled >= 84_000 - 1_000 and len(journal) == 84_000


def test_spilled_events_come_back_complete_and_in_order(tmp_path):
    journal = Journal(window=7, spill_dir=str(tmp_path))
    _fill(journal, 100)
    events = list(journal)
    assert [e.seq for e in events] == list(range(200)) and journal.spilled > 150
    assert events[1].counts["bytes"] == 280_000 and events[1].kind is EventKind.ACK
    assert journal.kind_counts() == {EventKind.TRIGGER_SENT: 100, EventKind.ACK: 100}
    assert [e.trigger for e in journal.of_kind(EventKind.ACK)] == list(range(1, 101))
    copy = pickle.loads(pickle.dumps(journal))
    assert copy.to_rows() == journal.to_rows()
    assert Journal.from_json(journal.to_json()).to_rows() == journal.to_rows()


def test_a_closed_journal_leaves_no_spill_file(tmp_path):
    journal = Journal(window=3, spill_dir=str(tmp_path))
    _fill(journal, 10)
    assert list(tmp_path.iterdir())
    journal.close()
    assert list(tmp_path.iterdir()) == [] and len(journal) == 0


def test_spilled_events_equal_the_events_recorded_field_for_field(tmp_path):
    journal = Journal(window=2, spill_dir=str(tmp_path))
    recorded = [journal.record(EventKind.ACK, trigger=n, level=0, player=f"p{n}", attempt=1, latency_s=n / 7,
                               counts={"messages": n}, detail=f"line {n} \u00e9\n")
                for n in range(1, 9)]
    # a str subclass is not a type marshal stores: it goes through its plain JSON value
    recorded.append(journal.record(EventKind.LEVEL_DONE, trigger=9, player=_Name("p9"), detail='{"acked": 1}'))
    recorded.append(journal.record(EventKind.PLAYER_LEFT, player="p1"))
    journal.record(EventKind.PLAYER_LEFT, player="p2")  # keeps the two before it out of the window
    journal.record(EventKind.PLAYER_LEFT, player="p3")
    assert journal.spilled >= len(recorded)
    assert list(journal)[:len(recorded)] == recorded
    assert [e.to_row() for e in journal][:len(recorded)] == [e.to_row() for e in recorded]


def test_an_unknown_field_is_refused_as_the_dataclass_would(tmp_path):
    journal = Journal()
    with pytest.raises(TypeError, match="tirgger"):
        journal.record(EventKind.ACK, tirgger=1)
    assert len(journal) == 0
