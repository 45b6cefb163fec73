"""The aggregates a worker keeps in memory, shared by its threads: never changed once kept.

eventsourcing's repository keeps one aggregate per stream and, asked for it again,
fast-forwards it: it applies the stream's newer events (another process's writes) to the kept
object itself, under a lock of the stream. Readers are handed that object without a copy (an
account read to sign someone in or to attribute an event, a subject a command copies, a log
counted). With one thread per worker nothing else runs while a request reads it; with
``sealtrail serve --threads`` another thread's fast-forward can change it under a reader (a role
gone between two checks of one request) or while a thread copies it (a copy taken half changed,
or a dictionary changed while it is walked). Here the newer events are applied to a copy, which
takes the kept one's place: a kept aggregate is never changed, so whoever holds one holds one
version of it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository, project_aggregate

from domain.subject import Subject


class CopiedOnForward(Repository[UUID]):
    """eventsourcing's repository, its kept aggregates brought forward as copies."""

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        cache = self.cache
        if cache is None or version is not None:
            return super().get(
                aggregate_id,
                version=version,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=deepcopy_from_cache,
            )

        def forward(aggregate: Any, events: Iterable[Any]) -> Any:
            if aggregate is None:  # made from its events, held by no one yet
                return projector_func(None, events)
            newer = list(events)
            if not newer:
                return aggregate
            forwarded = projector_func(copy_to_forward(aggregate), newer)
            if forwarded is not None:
                cache.put(aggregate_id, forwarded)
            return forwarded

        return super().get(
            aggregate_id,
            projector_func=forward,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=deepcopy_from_cache,
        )


def copy_to_forward(aggregate: Any) -> Any:
    """A copy of a kept aggregate that its newer events can be applied to, the kept one left
    as it is: a subject's copy for a command (its events only add to its containers, each copied
    there), anything else (an account, a log: a few containers) copied deep."""
    if isinstance(aggregate, Subject):
        return aggregate.copy_for_command()
    return copy.deepcopy(aggregate)
