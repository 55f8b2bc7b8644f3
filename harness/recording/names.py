"""Topic names in recordings: local names (as a scenario writes them) and a run's namespace prefix."""

from __future__ import annotations

__all__ = ["local_topic"]


def local_topic(topic: str, namespace: str | None) -> str:
    """``topic`` without its test namespace prefix (``<prefix>.<local>`` -> ``<local>``)."""
    if namespace and topic.startswith(namespace + "."):
        return topic[len(namespace) + 1:]
    return topic
