"""Serving many people on few cores: the picks first, the explanations after.

A turn has a cheap stage and an expensive one. The picks (embed the query, FAISS, filters, MMR,
and on a catalog with a reranking adapter one forward pass) take tens to hundreds of
milliseconds; the explanations (the language model decoding three sentences) take seconds of
every core. So the server runs many turns at once (``turn_concurrency``) and bounds the CPU work
inside them with two process-wide ``Gate``s sized from the cores this process may use:

* ``picks`` (retrieve + rerank): ``cores`` at a time; a turn waits for its place, as long as it
  takes, but never behind anybody's explanations;
* ``explain`` (the language model's generation): ``cores // 2`` at a time (1 on 2 cores). A
  turn that cannot get the model within ``explain_wait`` seconds does not queue for it: its
  picks get their checked fact templates (``explain.template``, marked ``source="template"``)
  and the turn ends. With nobody else around the model is free and explains as always.

Every recommender of a process shares one ``Gates`` (``process_gates``): the cores and the
language model are the process's, not a catalog's. Tests inject their own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

# What the explainer logs for each turn whose picks the language model may explain (counted by
# ``chatrec bench load`` in the server's log): how many it wrote, or gave to templates.
LOG_MODEL = "language model explains %d pick(s)"
LOG_BUSY = "language model busy: %d pick(s) explained by template"
BUSY = "the language model was busy with other people's turns"  # the template's reason

TURNS_PER_CORE = 8  # turns in flight per core: most of a turn's time is waiting, not computing
EXPLAIN_WAIT = 0.3  # seconds a turn may wait for the language model before its picks get templates


T = TypeVar("T")


def in_passing_thread(work: Callable[[], T]) -> T:
    """``work()`` run in a thread that ends with it; its result returned, its error raised.

    Why: torch's OpenMP runtime (libgomp) keeps a pool of helper threads for every thread
    that has run tensor work, for as long as that thread lives, and once the pools hold more
    threads than there are cores it stops spin-waiting between the many small parallel
    regions of a decode step. On 2 cores, models loaded in a server's main thread (whose pool
    lives as long as the server) made every turn on a request thread 1.6x slower (the store's
    full turn 4.1 s, not 2.5 s). Loading in a passing thread leaves the main thread without a
    pool, so the request thread's is the only one.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="load") as once:  # its thread ends with it
        return once.submit(work).result()


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def turn_concurrency(n_cores: int | None = None) -> int:
    """How many turns a server runs at once (``TURNS_PER_CORE`` per core)."""
    return TURNS_PER_CORE * (n_cores or cores())


class Gate:
    """At most ``size`` holders at once: a counting semaphore with a name and a wait policy.

    ``hold`` waits as long as it takes; ``try_hold`` gives up after ``timeout`` seconds and says
    so. Either releases its place when its block ends, also when a generator holding it is
    closed halfway (a person who leaves mid-turn frees the place).
    """

    def __init__(self, name: str, size: int):
        if size < 1:
            raise ValueError(f"gate {name!r} needs a size of at least 1, not {size}")
        self.name, self.size = name, size
        self._places = threading.BoundedSemaphore(size)

    def __repr__(self) -> str:
        return f"Gate({self.name!r}, size={self.size})"

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Wait for a place and hold it for the ``with`` block."""
        self._places.acquire()
        try:
            yield
        finally:
            self._places.release()

    @contextmanager
    def try_hold(self, timeout: float) -> Iterator[bool]:
        """Hold a place for the block if one frees up within ``timeout`` seconds; the block
        gets True when it holds one, False when it does not (and must do without)."""
        got = self._places.acquire(timeout=max(0.0, timeout))
        try:
            yield got
        finally:
            if got:
                self._places.release()


@dataclass(frozen=True)
class Gates:
    """The process's gates on the CPU-heavy stages of a turn.

    Args:
        picks: retrieve + rerank (waits for its place).
        explain: the language model's explanations (tries for ``explain_wait`` seconds).
        explain_wait: how long a turn may wait for the model before its picks get templates.
    """

    picks: Gate
    explain: Gate
    explain_wait: float = EXPLAIN_WAIT

    @classmethod
    def for_cores(cls, n_cores: int | None = None, explain_wait: float = EXPLAIN_WAIT) -> Gates:
        """Gates sized from ``n_cores`` (default: this process's): picks ``n``, the language
        model ``n // 2`` (at least 1) - one generation already keeps two cores busy."""
        n = n_cores or cores()
        return cls(Gate("picks", n), Gate("explain", max(1, n // 2)), explain_wait)


_made: list[Gates] = []
_making = threading.Lock()


def process_gates() -> Gates:
    """The one ``Gates`` every recommender of this process shares (made on first use)."""
    with _making:
        if not _made:
            _made.append(Gates.for_cores())
            g = _made[0]
            log.info(
                "gates: picks %d, explain %d (%d cores)", g.picks.size, g.explain.size, cores()
            )
        return _made[0]
