"""The ``donki`` command line: one module per subcommand, registered in ``COMMANDS``."""

from harness.cli.main import main

__all__ = ["main"]
