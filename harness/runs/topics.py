"""The second step of a run: its topics, created once, named ``<prefix>.<local>``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.kafka import TopicAdmin, TopicSpec

if TYPE_CHECKING:
    from harness.kafka import TopicNamespace
    from harness.scenarios import Scenario

__all__ = ["RunTopics", "create_run_topics"]


@dataclass
class RunTopics:
    """The topics of one run: local name (as the scenario writes it) -> full name in Kafka."""

    prefix: str
    names: dict[str, str]
    admin: TopicAdmin
    owned: bool = True  # deleted by :meth:`delete`; a caller's namespace deletes its own
    deleted: bool = field(default=False, init=False)

    def delete(self) -> None:
        """Delete the run's topics (once; topics of a caller's namespace are left to it)."""
        if self.owned and not self.deleted:
            self.deleted = True
            self.admin.delete(list(self.names.values()))


def create_run_topics(scenario: Scenario, client_config: Mapping[str, Any], *,
                      namespace: TopicNamespace | None = None, prefix: str | None = None) -> RunTopics:
    """Create ``scenario``'s topics in one admin request.

    In ``namespace`` (pytest's ``donki_topics``, which deletes them later); or under
    ``prefix``, where existing topics are used as they are and left to the caller; or
    under a fresh ``donki-run-<name>-<id>`` prefix (deleted by :meth:`RunTopics.delete`).
    """
    wanted = scenario.topics()
    if namespace is not None:
        names = {local: namespace.name(local) for local in wanted}
        namespace.admin.create([TopicSpec(names[local], n) for local, n in wanted.items()])
        namespace.created.extend(names.values())
        return RunTopics(namespace.prefix, names, namespace.admin, owned=False)
    chosen = prefix or f"donki-run-{scenario.name}-{uuid.uuid4().hex[:8]}"
    names = {local: f"{chosen}.{local}" for local in wanted}
    admin = TopicAdmin(dict(client_config))
    admin.create([TopicSpec(names[local], n) for local, n in wanted.items()], exist_ok=True)
    return RunTopics(chosen, names, admin, owned=prefix is None)
