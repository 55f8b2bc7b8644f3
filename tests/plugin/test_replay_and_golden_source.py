"""Replaying golden recordings into the service under test: donki_replay, source="golden", before_run's service."""

from __future__ import annotations

import textwrap

SERVICE = textwrap.dedent('''
    import threading
    from confluent_kafka import Consumer

    class Counter:
        """A service under test: counts what it consumes and commits as it goes."""

        def __init__(self, bootstrap, topic, group):
            self.seen = 0
            self._stop = threading.Event()
            self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                       "auto.offset.reset": "earliest", "enable.auto.commit": True,
                                       "auto.commit.interval.ms": 100})
            self._consumer.subscribe([topic])
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()

        def _loop(self):
            while not self._stop.is_set():
                message = self._consumer.poll(0.1)
                if message is not None and not message.error():
                    self.seen += 1
            self._consumer.close()

        def stop(self):
            self._stop.set()
            self._thread.join(10)
''')


def test_donki_replay_feeds_a_service_and_knows_when_it_consumed_everything(pytester, donki_kafka):
    pytester.makepyfile(service=SERVICE)
    pytester.makepyfile(test_service='''
        from service import Counter

        def test_counter(donki_replay, donki_kafka):
            replay = donki_replay("ess-pulse", speed=None)
            detector = replay.topic("ess-events")
            assert detector.endswith(".donki_detector") and detector.startswith("donki-")
            service = Counter(donki_kafka.bootstrap_servers, detector, "counter")
            try:
                report = replay.wait()
                assert report.failed == 0 and report.messages == replay.messages
                assert replay.wait_consumed("counter", timeout_s=60, only=["ess-events"])
                assert service.seen == report.messages - 2  # all but the run start and stop on donki_control
            finally:
                service.stop()

        def test_a_group_that_consumed_nothing_is_not_done(donki_replay):
            replay = donki_replay("e-mixed", speed=None)
            replay.wait()
            assert not replay.wait_consumed("nobody", timeout_s=1)
    ''')
    bootstrap = f"--donki-bootstrap={donki_kafka.bootstrap_servers}"
    result = pytester.runpytest_subprocess("--donki-kafka=external", bootstrap, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_source_golden_replays_the_golden_recording_and_runs_every_check(pytester, donki_kafka):
    pytester.makepyfile(test_golden_source='''
        import pytest

        @pytest.mark.donki(scenario="e-mixed", source="golden")
        def test_replayed(donki_run):
            donki_run.assert_ok()
            assert donki_run.summary.outcome == "replayed"  # no player ran
            every = {"run", "acks", "levels", "ordering", "integrity", "views", "rates", "golden"}
            assert every <= set(donki_run.checks)
            assert donki_run.check("golden").passed  # the same bytes as the golden recording

        @pytest.mark.donki(scenario="e-mixed", source="golden", golden=False)
        def test_needs_a_golden(donki_run):
            pass

        @pytest.mark.donki(scenario="e-mixed", golden=False)
        def test_before_run_hands_back_its_service(donki_runner):
            run = donki_runner(before_run=lambda topics: {"started on": topics["donki_mixed"]})
            assert run.started == {"started on": run.topics["donki_mixed"]}
    ''')
    bootstrap = f"--donki-bootstrap={donki_kafka.bootstrap_servers}"
    result = pytester.runpytest_subprocess("--donki-kafka=external", bootstrap, "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*source 'golden' replays the golden recording, but the run "
                                 "has none (golden=False)*"])


def test_golden_off_and_a_length_of_its_own_compare_as_asked(pytester, donki_kafka):
    pytester.makepyfile(test_lengths='''
        import pytest

        @pytest.mark.donki(scenario="e-mixed")
        def test_default(donki_run):
            donki_run.assert_ok()
            print("GOLDEN", donki_run.golden.action.value, donki_run.golden.name, donki_run.scenario.triggers)
    ''')
    bootstrap = f"--donki-bootstrap={donki_kafka.bootstrap_servers}"
    off = pytester.runpytest_subprocess("--donki-kafka=external", bootstrap, "-p", "no:cacheprovider", "-s",
                                        "--donki-golden=off")
    off.assert_outcomes(passed=1)
    off.stdout.fnmatch_lines(["*GOLDEN disabled  5"])
    # 8 triggers of a built-in: compared with its packaged 5-trigger golden over the triggers both hold
    longer = pytester.runpytest_subprocess("--donki-kafka=external", bootstrap, "-p", "no:cacheprovider", "-s",
                                           "--donki-length=8")
    longer.assert_outcomes(passed=1)
    longer.stdout.fnmatch_lines(["*GOLDEN compared e-mixed 8", "*compared triggers 1-5 of 8*"])
