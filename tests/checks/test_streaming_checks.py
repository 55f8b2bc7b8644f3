"""The checks stream: memory per stream and trigger, not per message; findings bounded."""

import tracemalloc
from types import SimpleNamespace

from literal_streams import JournalBuilder, record, stream_records

from harness.checks import check_integrity, check_ordering
from harness.checks.config import ChecksConfig
from harness.checks.findings import MAX_KEPT
from harness.checks.pertrigger import TriggerColumn
from harness.checks.seqranges import Place, SeqRanges
from harness.checks.suite import RecordingPass


def _at(offset):
    return Place("t", 0, offset)


def test_seq_ranges_merge_and_name_gaps_with_their_neighbours():
    seqs = SeqRanges()
    for s in [0, 1, 2, 5, 4, 9, 3]:
        assert seqs.add(s, _at(s)) is None
    assert [(r.low, r.high) for r in seqs.ranges] == [(0, 5), (9, 9)]
    assert len(seqs) == 7
    [(first, last, before, after)] = seqs.gaps()
    assert (first, last, before.high, after.low) == (6, 8, 5, 9)
    assert seqs.gaps(12)[-1][:2] == (10, 11)
    held = seqs.add(2, _at(20))
    assert held is not None and (held.low, held.high) == (0, 5) and held.place_of(0) == _at(0)


def test_a_gap_of_many_messages_is_one_finding():
    records = stream_records("b", 100)
    del records[10:60]
    [finding] = check_ordering(records).findings
    assert finding.message.startswith("stream 'b': seq 10..59 missing (50 messages) (after seq 9 at topic t")


def test_a_trigger_column_stays_dense_and_a_wild_trigger_does_not_allocate():
    column = TriggerColumn("i8", 0)
    for trigger in [5, 3, 2000, 4]:
        column.add(trigger, 2)
    column.add(10**15, 1)  # a damaged header: kept aside, not a petabyte array
    assert column.items() == [(3, 2), (4, 2), (5, 2), (2000, 2), (10**15, 1)]
    assert column.get(6) == 0 and column.get(10**15) == 1


def test_findings_beyond_the_limit_are_counted_not_kept():
    records = [record("b", 1, seq, b"x", crc_of=b"y", offset=seq) for seq in range(MAX_KEPT + 500)]
    result = check_integrity(JournalBuilder().join("b").journal, records)
    assert len(result.findings) == MAX_KEPT and result.omitted == 500
    assert f"{MAX_KEPT + 500} problem(s)" in result.report() and "... and 1490 more" in result.report()
    assert not result.passed and result.to_dict()["omitted"] == 500


def _scenario():
    expect = SimpleNamespace(rate_tolerance=0.05, max_missed=0)
    player = SimpleNamespace(name="d", clock="wall", expect=expect, rate_hz=lambda base: base)
    return SimpleNamespace(rate_hz=1000.0, players=[player])


def _peak_bytes_checking(triggers, per_trigger=4):
    jb = JournalBuilder().join("d")
    for trigger in range(1, triggers + 1):
        jb.ack(trigger, "d", messages=per_trigger, nbytes=per_trigger * 8)
    checks = RecordingPass(_scenario(), list(jb.journal), ChecksConfig())
    tracemalloc.start()
    try:
        seq = 0
        for trigger in range(1, triggers + 1):
            for _ in range(per_trigger):
                checks.feed(record("d", trigger, seq, b"payload!", ts_ms=1_700_000_000_000 + trigger))
                seq += 1
        results = checks.results()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert results["ordering"].passed and results["integrity"].passed, results
    assert results["integrity"].metrics["saved_messages"] == triggers * per_trigger
    return peak


def test_checking_ten_times_the_messages_takes_about_the_same_memory():
    _peak_bytes_checking(100)  # imports and caches out of the way
    small = _peak_bytes_checking(2_000)
    large = _peak_bytes_checking(20_000)
    extra_messages = (20_000 - 2_000) * 4
    # what grows is a few 8-byte slots per trigger (arrays growing by doubling) and, for the
    # verdicts, one time per trigger; a digest kept per message (the old way) was ~500 bytes
    assert large - small < extra_messages * 100, (small, large)
