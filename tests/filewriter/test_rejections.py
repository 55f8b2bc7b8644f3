"""Every way a start or stop is refused: a rejecting answ with the reason, and the writer keeps serving."""

from __future__ import annotations

import json
import time

import pytest
from fwhelpers import MS, Client, structure
from streaming_data_types.fbschemas.action_response_answ.ActionOutcome import ActionOutcome


@pytest.fixture
def client(donki_kafka, donki_topics, donki_file_writer, tmp_path):
    pool, control = donki_topics("pool"), donki_topics("control")
    donki_file_writer(pool, tmp_path, status_interval_s=0.3, stop_leeway_s=0.3)
    c = Client(donki_kafka, pool, control)
    c.events, c.logs, c.out = donki_topics("events"), donki_topics("logs"), tmp_path
    yield c
    c.close()


def _rejected(client, job_id, *words):
    topic, _, answer = client.answer(job_id)
    assert topic == client.pool and answer.outcome == ActionOutcome.Failure and answer.command_id == job_id
    for word in words:
        assert word in answer.message, answer.message
    return answer


BAD_STRUCTURES = {
    "unknown-module": ({"children": [{"module": "hs01", "config": {"source": "s", "topic": "t"}}]}, "'hs01'"),
    "no-source": ({"children": [{"module": "ev44", "config": {"topic": "t"}}]}, "'source'"),
    "not-a-list": ({"children": {"a": 1}}, "must be a list"),
    "bad-node": ({"children": [{"name": "x"}]}, "a node is a group"),
    "bad-dtype": ({"children": [{"module": "dataset", "config": {"name": "d", "values": 1, "dtype": "int7"}}]},
                  "int7"),
}


@pytest.mark.parametrize("case", sorted(BAD_STRUCTURES))
def test_a_malformed_structure_is_rejected_with_the_reason(client, case):
    raw, words = BAD_STRUCTURES[case]
    client.start(f"job-{case}", f"{case}.nxs", time.time_ns(), json.dumps(raw))
    _rejected(client, f"job-{case}", words)
    assert not (client.out / f"{case}.nxs").exists()


def test_invalid_json_missing_control_topic_and_unwritable_paths_are_rejected(client):
    now = time.time_ns()
    client.start("job-json", "j.nxs", now, "{not json")
    _rejected(client, "job-json", "not valid JSON")
    client.start("job-ctl", "c.nxs", now, structure(client.events, client.logs), control_topic="")
    _rejected(client, "job-ctl", "no control_topic")
    client.start("job-dir", "no/such/dir/x.nxs", now, structure(client.events, client.logs))
    _rejected(client, "job-dir", "does not exist")
    (client.out / "taken.nxs").write_bytes(b"")
    client.start("job-exists", "taken.nxs", now, structure(client.events, client.logs))
    _rejected(client, "job-exists", "exists already")


def test_a_duplicate_job_id_and_stops_of_unknown_jobs_are_rejected_and_the_first_job_goes_on(client):
    now = time.time_ns()
    client.start("job-dup", "first.nxs", now, structure(client.events, client.logs))
    assert client.answer("job-dup")[2].outcome == ActionOutcome.Success
    client.start("job-dup", "second.nxs", now, structure(client.events, client.logs))
    answers = [client.wait_for(lambda i, n=n: i[1] == "answ" and i[2].job_id == "job-dup" and
                               len([s for s in client.seen if s[1] == "answ" and s[2].job_id == "job-dup"]) > n)
               for n in (1,)]
    assert answers[0][2].outcome == ActionOutcome.Failure and "already in use" in answers[0][2].message
    client.stop("nobody", "stop-nobody", now)
    topic, _, refused = client.answer("stop-nobody")
    assert refused.outcome == ActionOutcome.Failure and "no job 'nobody'" in refused.message
    client.stop("job-dup", "stop-early", now - 60_000 * MS)
    assert "before job 'job-dup'" in client.answer("stop-early")[2].message
    client.stop("job-dup", "stop-dup", now + 100 * MS)
    assert client.answer("stop-dup")[2].outcome == ActionOutcome.Success
    assert not client.finished("job-dup")[2].error_encountered
    assert (client.out / "first.nxs").exists() and not (client.out / "second.nxs").exists()


def test_a_job_whose_data_topic_does_not_exist_ends_with_a_wrdn_error(client):
    client.start("job-no-topic", "nt.nxs", time.time_ns(), structure(client.events, "no_such_topic_here"))
    assert client.answer("job-no-topic")[2].outcome == ActionOutcome.Success
    done = client.finished("job-no-topic")[2]
    assert done.error_encountered and "no_such_topic_here" in done.message
    client.start("job-after", "after.nxs", time.time_ns(), structure(client.events, client.logs),
                 stop_ns=time.time_ns() + 100 * MS)
    assert not client.finished("job-after")[2].error_encountered  # the double goes on serving
