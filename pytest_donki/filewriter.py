"""The ``donki_file_writer`` fixture: a factory that starts file-writer doubles for a test.

``start(job_pool_topic, output_dir=None, **settings)`` starts a
:class:`harness.filewriter.FileWriterService` against the session's broker; every double
a test started is stopped at its teardown (jobs still running end with a wrdn error).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

if TYPE_CHECKING:
    from harness.filewriter import FileWriterService

__all__ = ["file_writer_fixture", "donki_file_writer"]


def file_writer_fixture(kafka_fixture: str = "donki_kafka") -> Callable[..., Any]:
    """A function-scoped fixture returning ``start(job_pool_topic, output_dir=None, **settings)``."""

    @pytest.fixture
    def donki_file_writer(request: pytest.FixtureRequest,
                          tmp_path: Path) -> Iterator[Callable[..., "FileWriterService"]]:
        from harness.filewriter import FileWriterService, WriterSettings

        kafka = request.getfixturevalue(kafka_fixture)
        started: list[FileWriterService] = []

        def start(job_pool_topic: str, output_dir: Path | None = None, **settings: Any) -> FileWriterService:
            chosen = WriterSettings(job_pool_topic, Path(output_dir or tmp_path), **settings)
            service = FileWriterService(kafka.client_config, chosen).start()
            started.append(service)
            return service

        yield start
        for service in reversed(started):
            service.stop()

    return donki_file_writer


donki_file_writer = file_writer_fixture()
donki_file_writer.__doc__ = "start(job_pool_topic, output_dir=None, **settings) starts a file-writer double."
