"""pytest-donki's engine: orchestra, streams, kafka, recording, checks, scenarios, cli.

Importable without pytest. Subpackages are imported on demand so that ``import harness``
stays cheap.
"""

from harness.errors import DonkiError

__version__ = "0.1.0"
__all__ = ["DonkiError", "__version__"]
