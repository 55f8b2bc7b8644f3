"""The tests ``--donki-scenario=NAME[,NAME]`` runs: one per scenario, with every check.

The plugin adds this module to the collection and parametrizes ``donki_sized_scenario``
with the names given; a scenario passes when every check of its run passes.
"""

from harness.runs import RunOutcome, SizedScenario


def test_scenario(donki_sized_scenario: SizedScenario, donki_run: RunOutcome) -> None:
    __tracebackhide__ = True  # the failure report is the checks' own, not this plugin's frame
    donki_run.assert_ok()
