"""``donki record``, ``donki inspect`` and ``donki replay`` end to end, and their bad input."""

from __future__ import annotations

import json

import pytest
from recording_helpers import mixed_records, produce_records, same_message

from harness.cli.main import EXIT_ERROR, main
from harness.recording.reader.reader import open_recording


@pytest.fixture
def recorded(donki_kafka, donki_topics, tmp_path):
    topic = donki_topics.create("loki_detector", partitions=2)
    sent = mixed_records(topic, 24, partitions=2)
    produce_records(donki_kafka.client_config, sent)
    path = tmp_path / "cli.h5"
    assert main(["record", "-b", donki_kafka.bootstrap_servers, "-t", topic, "-o", str(path), "--until-end",
                 "--quiet"]) == 0
    return topic, sent, path


def test_record_then_inspect(recorded, capsys):
    topic, sent, path = recorded
    capsys.readouterr()
    assert main(["inspect", str(path)]) == 0
    table = capsys.readouterr().out
    assert "format v1, complete (end of topics)" in table and topic in table and " 24 " in table
    assert main(["inspect", "--json", "--messages", "3", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["messages"] == 24 and data["complete"] and data["version"] == 1
    (summary,) = data["topics"]
    assert summary["partitions"] == [0, 1] and summary["schemas"] == {"ev44": 6, "f144": 6, "": 12}
    assert summary["streams"] == ["s"] and summary["bytes"] == sum(len(r.value) for r in sent)
    first = data["first_messages"]
    assert len(first) == 3 and {m["topic"] for m in first} == {topic}
    partition0 = [m for m in first if m["partition"] == 0]
    if partition0:  # message 0 of partition 0 is the first of the stream
        assert partition0[0]["headers"] == {"donki.stream": "s", "donki.trigger": "1", "donki.seq": "0",
                                            "donki.crc32": partition0[0]["headers"]["donki.crc32"]}


def test_replay_into_another_topic(recorded, donki_kafka, donki_topics, tmp_path, capsys):
    topic, sent, path = recorded
    target = donki_topics.create("copy", partitions=2)
    assert main(["replay", str(path), "-b", donki_kafka.bootstrap_servers, "--fast", "--map", f"{topic}={target}",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["messages"], report["delivered"], report["failed"]) == (24, 24, 0)
    copy = tmp_path / "copy.h5"
    assert main(["record", "-b", donki_kafka.bootstrap_servers, "-t", target, "-o", str(copy), "--until-end",
                 "-q"]) == 0
    with open_recording(copy) as again:
        got = sorted(again.records(), key=lambda r: (r.partition, r.offset))
    want = sorted(sent, key=lambda r: (r.partition, r.offset))
    assert len(got) == 24 and all(same_message(a, b) for a, b in zip(want, got, strict=True))


def test_record_refuses_to_overwrite_without_force(recorded, donki_kafka, capsys):
    topic, _, path = recorded
    before = path.read_bytes()
    assert main(["record", "-b", donki_kafka.bootstrap_servers, "-t", topic, "-o", str(path), "--until-end",
                 "-q"]) == EXIT_ERROR
    assert "already exists" in capsys.readouterr().err and path.read_bytes() == before
    assert main(["record", "-b", donki_kafka.bootstrap_servers, "-t", topic, "-o", str(path), "--until-end", "-q",
                 "--force", "--count", "5"]) == 0
    with open_recording(path) as recording:
        assert len(recording) == 5


@pytest.mark.parametrize("argv, message", [
    (["record", "-t", "x", "-o", "{tmp}/a.h5"], "no Kafka cluster given: pass --bootstrap"),
    (["record", "-b", "nonsense", "-t", "x", "-o", "{tmp}/a.h5"], "'nonsense' is not HOST:PORT"),
    (["record", "-b", "127.0.0.1:9", "-t", "x", "-o", "{tmp}/a.h5", "--count", "0"],
     "--count: 0: expected a whole number >= 1"),
    (["record", "-b", "127.0.0.1:9", "-t", "x", "-o", "{tmp}/a.h5", "--start", "yesterday"],
     "start position 'yesterday' is not valid"),
    (["inspect", "{tmp}/missing.h5"], "missing.h5 does not exist"),
    (["inspect", "{tmp}/text.h5"], "text.h5 is not an HDF5 file"),
    (["replay", "{tmp}/text.h5", "-b", "127.0.0.1:9"], "text.h5 is not an HDF5 file"),
    (["replay", "{tmp}/missing.h5", "-b", "127.0.0.1:9"], "missing.h5 does not exist"),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, argv, message):
    (tmp_path / "text.h5").write_text("hello")
    assert main([arg.replace("{tmp}", str(tmp_path)) for arg in argv]) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_record_from_an_unreachable_broker(tmp_path, capsys):
    from harness.kafka.ports import free_ports

    address = f"127.0.0.1:{free_ports(1)[0]}"
    assert main(["record", "-b", address, "-t", "x", "-o", str(tmp_path / "a.h5")]) == EXIT_ERROR
    assert f"no Kafka broker answered at '{address}'" in capsys.readouterr().err
    assert not (tmp_path / "a.h5").exists()


def test_record_a_topic_that_does_not_exist(donki_kafka, tmp_path, capsys):
    assert main(["record", "-b", donki_kafka.bootstrap_servers, "-t", "nope_nothing", "-o",
                 str(tmp_path / "a.h5")]) == EXIT_ERROR
    assert "topic 'nope_nothing' does not exist" in capsys.readouterr().err


def test_replay_bad_map(recorded, donki_kafka, capsys):
    _, _, path = recorded
    assert main(["replay", str(path), "-b", donki_kafka.bootstrap_servers, "--map", "nonsense"]) == EXIT_ERROR
    assert "expected RECORDED=TARGET" in capsys.readouterr().err


def test_golden_diff(capsys):
    from harness.scenarios.goldens import packaged_goldens_dir

    recordings = packaged_goldens_dir()
    assert main(["golden", "diff", str(recordings / "e-mixed.h5"), str(recordings / "e-mixed.h5")]) == 0
    assert "matches golden recording" in capsys.readouterr().out
    assert main(["golden", "diff", str(recordings / "a-scalar.h5"), str(recordings / "e-mixed.h5")]) == 1
    out = capsys.readouterr().out
    assert "first difference: stream 'a-scalar'" in out and "missing stream" in out and "extra stream" in out


def test_golden_record_needs_scenarios(capsys):
    assert main(["golden", "record"]) == EXIT_ERROR
    assert "name one or more scenarios, or pass --all" in capsys.readouterr().err


def test_golden_record_takes_one_golden_directory(capsys, tmp_path):
    assert main(["golden", "record", "e-mixed", "--packaged", "--dir", str(tmp_path)]) == EXIT_ERROR
    assert "--packaged and --dir" in capsys.readouterr().err
