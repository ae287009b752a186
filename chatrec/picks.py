"""Which picks a recommendation turn shows, from ranked pools.

Input: ranked pools of ``Candidate``s (best first: the facade's retrieve -> personalize ->
rerank), the catalog's item vectors, the list length k and MMR's λ. Output: the picks, in
order. Three shapes of list:

- a request: MMR over the pool (``diverse``);
- a 👎 on the list shown (``rejected_slots``): that list with each rejected pick swapped in
  place for the best new candidate (``in_place``): the others keep their place, the list its
  length; when nothing else fits, it is shorter and the reply says so;
- "more like #N" (``widen``): when the request in force leaves fewer than k new items like
  it, the constraints "more like" does not need go, one step at a time: first the price,
  years and specs (the kind of item stays), then items shown before may come back. A
  rejected item never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from chatrec import replies
from chatrec.catalog import Catalog
from chatrec.diversify import mmr
from chatrec.retrieve import Retriever
from chatrec.types import Candidate, Constraints, DialogueState, Judgement, Request, Retrieving

Pool = Callable[[Retrieving, int], list[Candidate]]
"""A turn's ranked pool to choose ``k`` picks from (retrieve -> personalize -> rerank)."""


@dataclass(frozen=True)
class Step:
    """One way to look for items like the liked one: the constraints and what to leave out."""

    constraints: Constraints
    exclude: tuple[str, ...]
    again: bool = field(default=False, compare=False)  # items shown before may come back


@dataclass(frozen=True)
class Widened:
    """The picks of a "more like" request and how they were found."""

    turn: Request  # as served: its constraints are the loosest step's that gave picks
    picks: list[Candidate]
    fit: int  # how many of the first picks meet the request in force
    again: bool  # some were shown before

    @property
    def wider(self) -> bool:
        return len(self.picks) > self.fit


def choose(
    turn: Retrieving,
    state: DialogueState,
    k: int,
    lam: float,
    vectors: np.ndarray,
    pool: Pool,
    retriever: Retriever,
) -> tuple[Retrieving, list[Candidate], str]:
    """(the turn as served, its picks, what the reply says of how they were found).

    Args:
        turn: the request or 👎; ``state``: the session (its last list, what was rejected).
        k: picks for a request; a 👎 keeps the length of the list shown.
        vectors: the catalog's (n, d) unit item vectors, for MMR.
        pool: the ranked pool of a turn; ``retriever`` scores the picks a 👎 leaves in place.
    """
    catalog = retriever.bundle.catalog
    shown = [i for i in state.last_shown if i in catalog]
    slots = rejected_slots(turn, shown, catalog)
    mask = retriever.filter.mask(turn.constraints)
    kept = [catalog.position(i) for n, i in enumerate(shown) if n not in slots]
    # A 👎 said with a new wish ("not that one, under $300") may leave picks that no longer
    # fit: then the list is chosen afresh.
    if slots and (mask is None or all(mask[kept])) and isinstance(turn, Judgement):
        places = retriever.score(turn.query, shown, turn.constraints)
        chosen = in_place(turn, places, slots, lam, vectors, pool)
        return turn, chosen, replies.no_more(turn) if len(chosen) < len(shown) else ""
    if isinstance(turn, Request) and turn.like:
        got = more_like(turn, state, k, lam, vectors, pool)
        note = replies.widened(got.fit, dropped(turn), got.again) if got.wider else ""
        return got.turn, got.picks, note
    return turn, diverse(pool(turn, k), vectors, k, lam), ""


def diverse(pool: list[Candidate], vectors: np.ndarray, k: int, lam: float) -> list[Candidate]:
    """``k`` of the ranked ``pool`` by MMR; ``vectors``: the catalog's (n, d) unit rows.

    The reranked head carries fused z-scores and the tail cosine scores, so only their order
    is comparable: relevance is by rank."""
    if not pool or k <= 0:
        return []
    relevance = np.linspace(1.0, 0.0, len(pool))
    return [pool[i] for i in mmr(relevance, vectors[[c.row for c in pool]], k, lam)]


def rejected_slots(turn: Retrieving, shown: list[str], catalog: Catalog) -> list[int]:
    """The places in the list ``shown`` that a 👎 turn rejects (an item or its twin); [] for
    any other turn, or a 👎 on an item that is not on that list."""
    if not isinstance(turn, Judgement) or turn.feedback != "negative":
        return []
    gone = set(catalog.with_twins(turn.refs))
    return [n for n, i in enumerate(shown) if i in gone]


def more_like(
    turn: Request, state: DialogueState, k: int, lam: float, vectors: np.ndarray, pool: Pool
) -> Widened:
    """``k`` picks like the liked ones: the request in force first, then each ``widen``
    step fills what is left (never an item already picked)."""
    chosen: list[Candidate] = []
    fit, again, served = 0, False, turn
    for n, step in enumerate(widen(turn, state)):
        taken = tuple(c.item.id for c in chosen)
        wider = replace(turn, constraints=step.constraints, exclude=(*step.exclude, *taken))
        got = diverse(pool(wider, k - len(chosen)), vectors, k - len(chosen), lam)
        fit = len(got) if n == 0 else fit
        if got and n > 0:
            served, again = wider, again or step.again
        chosen += got
        if len(chosen) >= k:
            break
    return Widened(served, chosen, fit, again)


def in_place(
    turn: Judgement,
    places: list[Candidate],
    slots: list[int],
    lam: float,
    vectors: np.ndarray,
    pool: Pool,
) -> list[Candidate]:
    """The list shown (``places``, its candidates in order) with each rejected slot filled
    by the best new candidate (MMR among them; never one of the list); slots nothing fills
    are dropped."""
    shown = tuple(c.item.id for c in places)
    fresh = pool(replace(turn, exclude=(*turn.exclude, *shown)), len(slots))
    fill = iter(diverse(fresh, vectors, len(slots), lam))
    out = [next(fill, None) if n in slots else c for n, c in enumerate(places)]
    return [c for c in out if c is not None]


def widen(turn: Request, state: DialogueState) -> list[Step]:
    """The steps of a "more like" request, strictest first (see the module's doc)."""
    c = turn.constraints
    kind = replace(c, price_min=None, price_max=None, year_min=None, year_max=None, specs=())
    never = {*state.rejected, *state.liked, *turn.like}
    again = tuple(i for i in turn.exclude if i in never)
    steps = [Step(c, turn.exclude), Step(kind, turn.exclude), Step(kind, again, True)]
    return [s for n, s in enumerate(steps) if s not in steps[:n]]


def dropped(turn: Request) -> str:
    """The constraints ``widen`` drops first, as a reply names them ("under $250")."""
    c = turn.constraints
    return Constraints(
        price_min=c.price_min,
        price_max=c.price_max,
        year_min=c.year_min,
        year_max=c.year_max,
        specs=c.specs,
    ).describe()
