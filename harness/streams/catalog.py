"""The built-in stream kinds: their parameters and the player actions that produce them.

Importing this module registers them in :mod:`harness.kinds` (the entry point
``donki.stream_kinds: streams`` names it, so player processes find them too); the
actions build their generators with :func:`harness.streams.generators.make_generator`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.errors import ScenarioError
from harness.kinds import Param, StreamKind, register_stream_kind
from harness.streams.actions import generator_action_factory, run_control_action
from harness.streams.events import BATCHING, DISTRIBUTIONS, ESS_FRAME_NS, JITTER_NS
from harness.streams.image import IMAGE_DTYPES
from harness.streams.scalar import SCALAR_DTYPES
from harness.streams.spectrum import ARRAY_DTYPES

__all__ = ["BUILTIN_KINDS", "MAX_ARRAY_ELEMENTS"]

#: keeps a hand-written scenario from asking for more memory than a player has
MAX_ARRAY_ELEMENTS = 64 * 1024 * 1024


def _per_trigger(maximum: int = 100_000) -> Param:
    return Param("per_trigger", int, 1, "messages (pulses for ess-events) per trigger, spread over the trigger period",
                 minimum=1, maximum=maximum)


def _source(default: str) -> Param:
    return Param("source_name", str, default, "the source name inside the FlatBuffer")


def _shape(name: str, dims: int, default: tuple[int, ...], largest: int, what: str) -> Param:
    return Param(name, list, list(default), what, item=int, length=dims, minimum=1, maximum=largest)


def _check_elements(key: str) -> Callable[[dict[str, Any], str], None]:
    def check(params: dict[str, Any], where: str) -> None:
        elements = 1
        for n in params[key]:
            elements *= n
        if elements * params.get("per_trigger", 1) > MAX_ARRAY_ELEMENTS:
            raise ScenarioError(f"{where}.{key}: {params[key]} x per_trigger={params.get('per_trigger', 1)} is "
                                f"{elements:,} elements per trigger; at most {MAX_ARRAY_ELEMENTS:,} are allowed")
    return check


def _check_count(key: str) -> Callable[[dict[str, Any], str], None]:
    """A per-message element count times per_trigger stays under the same cap as the arrays'."""
    def check(params: dict[str, Any], where: str) -> None:
        elements = max(1, params[key]) * params.get("per_trigger", 1)
        if elements > MAX_ARRAY_ELEMENTS:
            raise ScenarioError(f"{where}.{key}: {params[key]:,} x per_trigger={params.get('per_trigger', 1):,} is "
                                f"{elements:,} values per trigger; at most {MAX_ARRAY_ELEMENTS:,} are allowed")
    return check


def _check_events(params: dict[str, Any], where: str) -> None:
    rows, cols = params["detector_shape"]
    if params["pixel_offset"] + rows * cols > 2**31 - 1:
        raise ScenarioError(f"{where}.detector_shape: {rows} x {cols} pixels from pixel_offset="
                            f"{params['pixel_offset']} exceed the int32 pixel ids of ev44")
    if params["distribution"] == "peaked" and params["frame_ns"] <= 2 * JITTER_NS:
        raise ScenarioError(f"{where}.frame_ns: {params['frame_ns']} is too short for the peaked distribution; "
                            f"use more than {2 * JITTER_NS} ns (the ESS frame is {ESS_FRAME_NS})")
    if params["events_per_pulse"] * params["per_trigger"] > 20_000_000:
        raise ScenarioError(f"{where}: events_per_pulse x per_trigger must stay at or below 20,000,000 per trigger")


def _check_json(*keys: str) -> Callable[[dict[str, Any], str], None]:
    def check(params: dict[str, Any], where: str) -> None:
        for key in keys:
            try:
                json.loads(params[key])
            except (ValueError, RecursionError) as exc:  # nested too deeply is not valid JSON either
                raise ScenarioError(
                    f"{where}.{key}: not valid JSON ({exc}); write a JSON text such as '{{}}'"
                ) from None
    return check


SCALAR_PARAMS = (
    _source("sample_env:temperature"),
    Param("base", float, 295.0, "mean value (e.g. K)"),
    Param("drift_amplitude", float, 2.0, "amplitude of the slow sinusoidal drift", minimum=0.0),
    Param("drift_period_s", float, 600.0, "period of the drift in seconds of data time", positive=True),
    Param("noise", float, 0.05, "standard deviation of the Gaussian noise", minimum=0.0),
    Param("dtype", str, "float64", "value type", choices=SCALAR_DTYPES),
    Param("length", int, 0, "0 for a scalar, else an array of this many readings", minimum=0, maximum=1_000_000),
    Param("units", str, "K", "unit of the value: the NXlog value's units in views and written files "
          "(f144 carries none)"),
    _per_trigger(),
)
IMAGE_PARAMS = (
    _source("detector:camera"),
    _shape("shape", 2, (256, 256), 16384, "frame shape [rows, columns]"),
    Param("dtype", str, "uint16", "pixel type", choices=IMAGE_DTYPES),
    Param("spot_sigma", float, 8.0, "spot width in pixels", positive=True),
    Param("spot_amplitude", float, 1000.0, "spot peak counts", minimum=0.0),
    Param("background", float, 10.0, "mean background counts per pixel", minimum=0.0),
    Param("orbit_period_s", float, 10.0, "seconds of data time per orbit of the spot", positive=True),
    _per_trigger(),
)
SPECTRUM_PARAMS = (
    _source("monitor:spectrum"),
    Param("bins", int, 1000, "number of time-of-flight bins", minimum=1, maximum=10_000_000),
    Param("tof_max_ns", float, float(ESS_FRAME_NS), "upper edge of the time-of-flight axis in ns", positive=True),
    Param("peaks", int, 3, "number of peaks", minimum=0, maximum=100),
    Param("peak_counts", float, 200.0, "peak height in counts", minimum=0.0),
    Param("background", float, 5.0, "background counts per bin", minimum=0.0),
    Param("dtype", str, "float64", "signal type", choices=ARRAY_DTYPES),
    Param("signal_unit", str, "counts", "unit of the da00 signal variable"),
    _per_trigger(),
)
VOLUME_PARAMS = (
    _source("detector:volume"),
    _shape("shape", 3, (16, 16, 16), 4096, "array shape [x, y, z]"),
    Param("dtype", str, "float32", "signal type", choices=ARRAY_DTYPES),
    Param("voxel_mm", float, 1.0, "voxel size in mm (the axis coordinates)", positive=True),
    Param("blob_sigma", float, 2.0, "blob width in voxels", positive=True),
    Param("noise", float, 0.1, "standard deviation of the Gaussian noise", minimum=0.0),
    Param("signal_unit", str, "counts", "unit of the da00 signal variable"),
    _per_trigger(),
)
MIXED_PARAMS = (
    Param("source_prefix", str, "mixed", "prefix of the four source names (prefix:temperature, ...)"),
    _shape("image_shape", 2, (64, 64), 4096, "shape of the ad00 frames"),
    Param("image_dtype", str, "uint16", "pixel type of the ad00 frames", choices=IMAGE_DTYPES),
    Param("bins", int, 256, "bins of the da00 spectrum", minimum=1, maximum=1_000_000),
    _per_trigger(10_000),
)
EVENT_PARAMS = (
    _source("donki_detector"),
    Param("events_per_pulse", int, 10_000, "neutron events per pulse", minimum=0, maximum=10_000_000),
    _shape("detector_shape", 2, (512, 512), 1 << 20, "detector pixels [rows, columns]"),
    Param("pixel_offset", int, 1, "id of the first pixel (ESS numbers pixels from 1)", minimum=0),
    Param("distribution", str, "peaked", "where events fall", choices=DISTRIBUTIONS),
    Param("peaks", int, 6, "number of peaks of the peaked distribution", minimum=1, maximum=1000),
    Param("peak_fraction", float, 0.7, "share of events in peaks", minimum=0.0, maximum=1.0),
    Param("batching", str, "pulse", "one message per pulse, or the EFU's flush on pulse change / max_events",
          choices=BATCHING),
    Param("max_events", int, 100_000, "events per message with batching='efu'", minimum=1, maximum=10_000_000),
    Param("frame_ns", int, ESS_FRAME_NS, "length of the time-of-flight frame in ns (ev44 time_of_flight is int32)",
          minimum=1, maximum=2**31 - 1),
    _per_trigger(1000),
)
RUN_CONTROL_PARAMS = (
    Param("job_id", str, "", "file-writer job id; empty: derived from the seed"),
    Param("run_name", str, "donki-run", "run name"),
    Param("filename", str, "donki.nxs", "file the file writer should write"),
    Param("instrument_name", str, "donki", "instrument name"),
    Param("nexus_structure", str, "{}", "NeXus structure (JSON) for the file writer"),
    Param("service_id", str, "", "file-writer service id (empty: any)"),
    Param("broker", str, "", "broker the file writer should read from; empty: the run's bootstrap"),
    Param("metadata", str, "{}", "run metadata (JSON)"),
    Param("control_topic", str, "", "topic the file writer reports on"),
    Param("stop_margin_s", float, 1.0, "the run stop is stamped this long after the last trigger's time, so the "
          "last data of every level, spread over its period, lie inside the run", minimum=0.0, maximum=3600.0),
)

def _kinds() -> tuple[StreamKind, ...]:
    def kind(name: str, description: str, params: tuple[Param, ...], schemas: tuple[str, ...],
             rate: float | None, check: Callable[[dict[str, Any], str], None] | None = None) -> StreamKind:
        return StreamKind(name, description, params, generator_action_factory(name), schemas, rate, check)

    return (
        kind("a-scalar", "A: slowly drifting sample-environment value with noise (f144), ~1 Hz",
             SCALAR_PARAMS, ("f144",), 1.0, _check_count("length")),
        kind("b-image", "B: 2D detector frames with a moving spot (ad00), ~50 Hz",
             IMAGE_PARAMS, ("ad00",), 50.0, _check_elements("shape")),
        kind("c-spectrum", "C: 1D time-of-flight spectrum with its axis (da00), 1 Hz-1 kHz",
             SPECTRUM_PARAMS, ("da00",), 10.0, _check_count("bins")),
        kind("d-array3d", "D: 3D array with three axes (da00), ~1 kHz",
             VOLUME_PARAMS, ("da00",), 1000.0, _check_elements("shape")),
        kind("e-mixed", "E: f144 + ad00 + da00 + x5f2 status on one topic per trigger, ~10 Hz",
             MIXED_PARAMS, ("f144", "ad00", "da00", "x5f2"), 10.0, _check_elements("image_shape")),
        kind("ess-events", "ESS neutron events of 14 Hz pulses (ev44), up to 1e6+ events per pulse",
             EVENT_PARAMS, ("ev44",), 14.0, _check_events),
        StreamKind("run-control", "pl72 run start before and 6s4t run stop after the run, on a control topic",
                   RUN_CONTROL_PARAMS, run_control_action, ("pl72", "6s4t"), None,
                   _check_json("nexus_structure", "metadata")),
    )


BUILTIN_KINDS = tuple(register_stream_kind(k) for k in _kinds())
