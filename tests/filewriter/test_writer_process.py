"""``donki writer`` as a real process: it serves commands, and killed mid-job leaves a readable file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import h5py
from fwhelpers import MS, Client, structure
from streaming_data_types.fbschemas.action_response_answ.ActionOutcome import ActionOutcome


def test_a_writer_killed_mid_job_leaves_a_readable_file_up_to_its_last_flush(donki_kafka, donki_topics, tmp_path):
    pool, control = donki_topics("pool"), donki_topics("control")
    events, logs = donki_topics("events"), donki_topics("logs")
    proc = subprocess.Popen([sys.executable, "-m", "harness", "writer", pool, "-o", str(tmp_path),
                             "-b", donki_kafka.bootstrap_servers, "--flush-interval", "0.2",
                             "--status-interval", "0.3"], stderr=subprocess.PIPE, text=True)
    client = Client(donki_kafka, pool, control)
    try:
        deadline = time.monotonic() + 30
        while "listening" not in proc.stderr.readline():
            assert time.monotonic() < deadline and proc.poll() is None, "the writer did not start"
        t0 = (time.time_ns() // MS - 2_000) * MS
        for i in range(20):
            client.event(events, i, t0 + i * 10 * MS, [i, i + 1])
        client.start("job-k", "killed.nxs", t0, structure(events, logs))
        assert client.answer("job-k")[2].outcome == ActionOutcome.Success
        time.sleep(2.0)  # several flush intervals after the data were consumed
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        client.close()
    with h5py.File(tmp_path / "killed.nxs", "r") as f:
        ev = f["entry/instrument/detector/events"]
        assert list(ev["event_time_zero"][()]) == [t0 + i * 10 * MS for i in range(20)]
        assert len(ev["event_id"]) == 40


def test_bad_cli_input_is_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-m", "harness", "writer", "pool", "-o", str(tmp_path / "nope"),
                             "-b", "127.0.0.1:1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "is not a directory" in result.stderr
    result = subprocess.run([sys.executable, "-m", "harness", "writer", "pool", "--status-interval", "nan"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "expected seconds" in result.stderr
