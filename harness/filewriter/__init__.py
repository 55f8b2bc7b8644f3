"""A file-writer double: kafka-to-nexus's command protocol and NeXus layout, for tests.

Experiment control (or a test) sends a pl72 run start to the job-pool topic; the double
answers (answ), reports (x5f2), writes the named streams between the start and stop
times into a NeXus file and reports the finished file (wrdn). See ``docs/filewriter.md``.
"""

from harness.filewriter.job import JobSpec, WriteJob
from harness.filewriter.service import FileWriterService, WriterSettings
from harness.filewriter.structure import STREAM_MODULES, parse_structure

__all__ = ["FileWriterService", "WriterSettings", "JobSpec", "WriteJob", "STREAM_MODULES", "parse_structure"]
