"""Stream generators and ESS FlatBuffer serialisation, and the player actions publishing them.

Generators are deterministic from a seed and vectorised with numpy; each yields, per
trigger, the :class:`StreamMessage` s to publish. Importing this package is cheap:
confluent-kafka is imported when a publisher starts.
"""

from harness.streams.base import FrameGenerator, StreamGenerator, StreamMessage
from harness.streams.events import EventGenerator
from harness.streams.image import ImageGenerator
from harness.streams.mixed import MixedGenerator
from harness.streams.producer import StreamPublisher, TriggerTally
from harness.streams.runcontrol import RunControlGenerator
from harness.streams.scalar import ScalarGenerator
from harness.streams.serialise import serialise_ev44_fast
from harness.streams.spectrum import SpectrumGenerator
from harness.streams.status import StatusGenerator
from harness.streams.volume import VolumeGenerator

__all__ = [
    "EventGenerator",
    "FrameGenerator",
    "ImageGenerator",
    "MixedGenerator",
    "RunControlGenerator",
    "ScalarGenerator",
    "SpectrumGenerator",
    "StatusGenerator",
    "StreamGenerator",
    "StreamMessage",
    "StreamPublisher",
    "TriggerTally",
    "VolumeGenerator",
    "serialise_ev44_fast",
]
