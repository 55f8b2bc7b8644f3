"""What every A/B benchmark shares: contenders run in an order rotated from run to run, and the load.

Run as ``python benchmarks/<name>.py``, a script finds this module beside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

__all__ = ["load_text", "rotated"]


def load_text() -> str:
    """The load average as the benchmarks print it."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def rotated(runs: int, contenders: dict[str, Callable[[int], T]], sep: str = "/"
            ) -> tuple[dict[str, list[T]], list[str]]:
    """Each contender once per run (called with the run's index), the order rotated from run to run;
    the results per contender, and each run's order joined by ``sep``."""
    names = list(contenders)
    results: dict[str, list[T]] = {name: [] for name in names}
    orders = []
    for run in range(runs):
        order = names[run % len(names):] + names[:run % len(names)]
        orders.append(sep.join(order))
        for name in order:
            results[name].append(contenders[name](run))
    return results, orders
