"""Group commit for the engine's threads: writes that arrive while another is being committed
are committed together, in one transaction and one fsync. Each caller still returns only once
its own write is durable, so nothing about the resume guarantees changes.

Leader/follower, without a thread of its own: a caller queues its write, then waits for the
leader lock; whoever holds it commits everything queued so far.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cogflow_desktop.services.context import Context

Work = Callable[[Session], None]


@dataclass
class _Item:
    work: Work
    done: bool = False
    error: BaseException | None = None


class GroupCommit:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._queue: list[_Item] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, work: Work) -> None:
        item = _Item(work)
        with self._queue_lock:
            self._queue.append(item)
        with self._leader:
            if not item.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if item.error is not None:
            raise item.error

    def _commit(self, batch: list[_Item]) -> None:
        try:
            with self._ctx.write() as s:
                for it in batch:
                    it.work(s)
        except Exception:
            # One write failed and took the batch with it: commit each alone, so only the
            # failing caller sees its error.
            for it in batch:
                try:
                    with self._ctx.write() as s:
                        it.work(s)
                except Exception as exc:
                    it.error = exc
        for it in batch:
            it.done = True


_committers: dict[int, GroupCommit] = {}
_registry_lock = threading.Lock()


def for_context(ctx: Context) -> GroupCommit:
    """One committer per context (the engine's threads share it)."""
    with _registry_lock:
        committer = _committers.get(id(ctx))
        if committer is None or committer._ctx is not ctx:
            committer = _committers[id(ctx)] = GroupCommit(ctx)
        return committer


def run(ctx: Context, work: Work) -> Any:
    for_context(ctx).run(work)
