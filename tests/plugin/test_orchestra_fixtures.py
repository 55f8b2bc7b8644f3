"""donki_director / donki_player fixtures, and player errors raised in the test that ran them."""

from __future__ import annotations


def test_director_and_players_run_levels_in_order(pytester):
    pytester.makepyfile(
        """
        from harness.checks import assert_acks, assert_levels

        def test_levels(donki_director, donki_player):
            donki_player("detector", priority=0)
            donki_player("chopper", priority=0, mode="thread")
            donki_player("motion", priority=1, divisor=5)
            result = donki_director.run(count=20, rate_hz=200, ack_timeout_s=5)
            assert result.ok
            assert_levels(donki_director.journal)
            assert_acks(donki_director.journal)
            assert {p.name for p in donki_director.director.players()} == {"detector", "chopper", "motion"}
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_a_failing_player_fails_the_test_that_ran_it_with_its_traceback(pytester):
    pytester.makepyfile(
        """
        def test_run(donki_director, donki_player):
            donki_player("flaky-detector", "fail-at", params={"trigger": 3})
            donki_director.run(count=5, ack_timeout_s=5, policy="skip", check=False)
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*player 'flaky-detector'*", "*--- from player 'flaky-detector' ---*"])


def test_errors_taken_by_the_test_are_not_raised_again(pytester):
    pytester.makepyfile(
        """
        def test_run(donki_director, donki_player):
            donki_player("flaky", "fail-at", params={"trigger": 2})
            donki_director.run(count=3, ack_timeout_s=5, policy="skip", check=False)
            [error] = donki_director.take_player_errors()
            assert error.player == "flaky" and error.trigger == 2
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_player_errors_are_attached_when_the_test_fails_for_another_reason(pytester):
    pytester.makepyfile(
        """
        def test_run(donki_director, donki_player):
            donki_player("flaky", "fail-at", params={"trigger": 1})
            donki_director.run(count=2, ack_timeout_s=5, policy="skip", check=False)
            assert False, "the test's own failure"
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the test's own failure*", "*donki player errors*", "*player 'flaky'*"])
