"""The file-writer double in a scenario's loop: started once the run's topics exist, waited for after it.

A scenario with a run-control player whose params name a ``control_topic`` is meant for
a file writer (the built-in ``file-writing``). :class:`WriterInTheLoop` gives a run
pipeline the two calls it needs: :meth:`before_run` (the ``before_run(topics)`` hook of
a run: creates the control topic in the run's namespace and starts the double on the
run-control player's topic, the job pool) and :meth:`finish` (waits for the job's wrdn,
stops the double and says which files were written, with each job's error if any).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import FileWriterError
from harness.filewriter.service import FileWriterService, WriterSettings

if TYPE_CHECKING:
    from harness.scenarios import PlayerSpec, Scenario

__all__ = ["WriterInTheLoop", "WrittenFile", "file_writing_player"]

FINISH_TIMEOUT_S = 60.0


def file_writing_player(scenario: Scenario) -> PlayerSpec | None:
    """The run-control player that addresses a file writer (names a ``control_topic``), if any."""
    for player in scenario.players:
        if player.stream == "run-control" and player.params.get("control_topic"):
            return player
    return None


@dataclass(frozen=True)
class WrittenFile:
    job_id: str
    path: Path
    error: str | None


class WriterInTheLoop:
    """A double for one run of ``scenario``; ``output_dir`` receives its files."""

    def __init__(self, scenario: Scenario, client_config: Mapping[str, Any], output_dir: Path,
                 **settings: Any) -> None:
        player = file_writing_player(scenario)
        if player is None:
            raise FileWriterError(f"scenario {scenario.name!r} has no run-control player with a control_topic; "
                                  "a file writer would reject its run start")
        self.player = player
        self.client_config = dict(client_config)
        self.output_dir = Path(output_dir)
        self.settings = settings
        self.service: FileWriterService | None = None

    def before_run(self, topics: Mapping[str, str]) -> None:
        """Create the control topic beside the run's topics and start the double on the job pool."""
        from harness.kafka.admin import TopicAdmin, TopicSpec

        pool = topics[self.player.topic]
        prefix = pool[: len(pool) - len(self.player.topic)]
        control = prefix + str(self.player.params["control_topic"])
        if control not in topics.values():
            TopicAdmin(self.client_config).create([TopicSpec(control, 1)], exist_ok=True)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.service = FileWriterService(self.client_config, WriterSettings(pool, self.output_dir, **self.settings))
        self.service.start()

    def finish(self, timeout_s: float = FINISH_TIMEOUT_S) -> list[WrittenFile]:
        """Wait for every job to end (its stop time passed), stop the double; the files it wrote."""
        if self.service is None:
            return []
        try:
            if not self.service.wait_idle(timeout_s):
                raise FileWriterError(f"file writer: jobs {self.service.state()} not finished within {timeout_s:.0f} s "
                                      "of the run's end; did the run stop (6s4t) reach it?")
        finally:
            self.service.stop()
        return [WrittenFile(job_id, job.spec.path, self.service.results.get(job_id))
                for job_id, job in self.service.jobs.items()]
