"""The tests ``--donki-scenario=NAME[,NAME]`` runs: one per scenario, with every check.

The plugin adds this module to the collection and parametrizes ``donki_scenario`` with
the names given; a scenario passes when every check of its run passes.
"""


def test_scenario(donki_scenario, donki_run):
    donki_run.assert_ok()
