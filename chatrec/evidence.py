"""Evidence: why a pick is where it is, from the numbers that put it there.

Input: a candidate's score parts (filled where the scores are made: ``retrieve`` the text
match, the requested categories and the rating/popularity prior; ``profile.personalize`` the
liked categories; ``CoLiked`` the people who liked what the person liked), the request in
force and the item's facts. Output: one ``Evidence`` per pick (``types.Evidence``, with its
``types.Pull``s), the only material an explanation or a "why this?" may use.

``CoLiked`` is built from MovieLens TRAINING interactions only (the fixed split of DESIGN.md:
no validation or test rating is counted), so "of the 212 people who loved Alien, 61 rated
this too, 4.1★ on average" is a count of real people, and the evaluation stays honest.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chatrec.catalog import Catalog, Item
from chatrec.facts import fact_values, money, price_text
from chatrec.text import STOP_WORDS, join
from chatrec.types import Candidate, Constraints, Evidence, Pull

if TYPE_CHECKING:
    from chatrec.retrieve import Retriever

LOVED = 4.0  # a rating at or above this is "loved"
SHRINK = 20.0  # pulls a conditional share of few fans toward zero
COLLAB_WEIGHT = 0.5  # the co-liking share's weight in a candidate's score
MIN_ALSO = 3  # fewer people than this is no evidence worth saying


@dataclass(frozen=True)
class CoLiked:
    """Who loved what, over training interactions: ``loved[a, b]`` people who loved both a
    and b; ``rated[a, b]`` people who loved a and rated b; ``stars[a, b]`` the sum of their
    ratings of b; ``fans[a]`` people who loved a. Rows and columns are catalog positions."""

    fans: np.ndarray  # (n,) float32
    loved: np.ndarray  # (n, n) float32
    rated: np.ndarray  # (n, n) float32
    stars: np.ndarray  # (n, n) float32

    @classmethod
    def fit(
        cls, sequences: Sequence[np.ndarray], ratings: Sequence[np.ndarray], n_items: int
    ) -> CoLiked:
        """From per-person item positions and their ratings (training interactions only)."""
        users = len(sequences)
        r = np.zeros((users, n_items), dtype=np.float32)
        for u, (seq, rat) in enumerate(zip(sequences, ratings, strict=True)):
            r[u, seq] = rat
        seen = (r > 0).astype(np.float32)
        love = (r >= LOVED).astype(np.float32)
        return cls(love.sum(axis=0), love.T @ love, love.T @ seen, love.T @ r)

    def scores(self, liked: Sequence[int], rows: Sequence[int]) -> np.ndarray:
        """(len(rows),) the co-liking share: the mean over liked items a of
        loved[a, b] / (fans[a] + SHRINK), 0 without liked items."""
        if not len(liked) or not len(rows):
            return np.zeros(len(rows))
        a = np.asarray(liked)
        share = self.loved[np.ix_(a, np.asarray(rows))] / (self.fans[a, None] + SHRINK)
        return share.mean(axis=0)

    def pulls(
        self,
        catalog: Catalog,
        liked: Sequence[int],
        row: int,
        top: int = 2,
        without: Mapping[int, float] | None = None,
    ) -> list[Pull]:
        """The liked items that pulled the item at ``row`` up most, with their counts.

        ``without``: one person's training ratings (catalog position -> stars), taken out of
        every count first, so a training example about that person never counts them among
        "the people who loved ..." (the evaluation's people have no test rating counted)."""
        out = []
        own = without or {}
        for a in liked:
            r_a, r_b = own.get(a, 0.0), own.get(row, 0.0)
            loved_a = float(r_a >= LOVED)
            also = int(self.rated[a, row] - loved_a * (r_b > 0))
            if a == row or also < MIN_ALSO:
                continue
            fans = float(self.fans[a] - loved_a)
            both = float(self.loved[a, row] - loved_a * (r_b >= LOVED))
            share = both / (fans + SHRINK) / len(liked)
            it = catalog.items[a]
            mean = float((self.stars[a, row] - loved_a * r_b) / also)
            out.append(Pull(it.id, it.title, int(fans), also, mean, share))
        out.sort(key=lambda p: -p.share)
        return [p for p in out[:top] if p.share > 0]


def matches(item: Item, c: Constraints, said: Sequence[str] = ()) -> list[str]:
    """The parts of the request in force that ``item`` meets, in words; ``said``: the
    person's words, whose two-word phrases found in the item's listing count too."""
    out: list[str] = []
    cats = [x for x in dict.fromkeys((*c.categories, *c.all_categories)) if x in item.categories]
    if cats:
        out.append(f"it is in {join(cats)}")
    avoided = [x for x in c.exclude_categories if x not in item.categories]
    if avoided:
        out.append(f"it is not {join(avoided, 'or')}")
    if item.year is not None and (c.year_min is not None or c.year_max is not None):
        lo, hi = c.year_min or item.year, c.year_max or item.year
        if lo <= item.year <= hi:
            out.append(f"it came out in {item.year}, in the years asked for")
    top = item.price_max or item.price
    if item.price is not None and top is not None and c.price_max is not None:
        if top <= c.price_max:
            out.append(f"at {price_text(item)} it is within the {money(c.price_max)} budget")
    elif item.price is not None and c.price_min is not None and item.price >= c.price_min:
        out.append(f"at {price_text(item)} it is above the {money(c.price_min)} asked for")
    for s in c.specs:
        value = item.attributes.get(s.name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            lo_ok = s.lo is None or value >= s.lo
            hi_ok = s.hi is None or value <= s.hi
            if lo_ok and hi_ok:
                out.append(f"its {s.name.replace('_', ' ')} is {value:g}, as asked")
    phrases = listing_phrases(item, said)
    if phrases:
        out.append("its listing says " + join([f"“{p}”" for p in phrases]))
    return out


def listing_phrases(item: Item, said: Sequence[str]) -> list[str]:
    """Two-word phrases (of long words) the person said that the item's listing says."""
    text = " ".join([item.title, *(str(f) for f in item.attributes.get("features") or [])])
    low = f" {' '.join(re.findall(r'[a-z0-9]+', text.lower()))} "
    found: list[str] = []
    for s in said:
        ws = re.findall(r"[a-z0-9]+", s.lower())
        for a, b in itertools.pairwise(ws):
            pair = f"{a} {b}"
            long = len(a) > 3 and len(b) > 3 and not {a, b} & STOP_WORDS
            if long and f" {pair} " in low and pair not in found:
                found.append(pair)
    return found[:3]


def gather(
    item: Item,
    parts: dict[str, float],
    c: Constraints,
    said: Sequence[str],
    pulls: Sequence[Pull] = (),
) -> Evidence:
    """One pick's evidence from its score parts, the request in force and its facts."""
    facts = {k: v for k, v in fact_values(item).items() if k in ("rating", "price", "year")}
    return Evidence(item.id, dict(parts), tuple(pulls), tuple(matches(item, c, said)), facts)


def from_movielens(catalog: Catalog, cache_dir: Path) -> CoLiked | None:
    """The co-liking counts of the MovieLens TRAINING interactions, in ``catalog``'s
    positions; None for a catalog without logged interactions (its card's
    ``interactions``) or when MovieLens is not in the cache."""
    from chatrec.datasets import catalog_info, movielens

    if not catalog_info(catalog.name).interactions:
        return None
    from chatrec.datasets.split import leave_one_out

    try:
        ml = movielens.load(cache_dir)
    except movielens.DataMissingError:
        return None
    split = leave_one_out(ml)
    to_live = np.array([catalog.position(it.id) for it in ml.catalog.items], dtype=np.int64)
    seqs = [to_live[split.train(u)] for u in range(len(split.users))]
    rats = [split.ratings[u][:-2] for u in range(len(split.users))]
    return CoLiked.fit(seqs, rats, len(catalog))


@dataclass
class Evidencer:
    """Adds the co-liking part to a pool's scores and gathers the picks' evidence.
    ``retriever``: the one that ranked the picks, to say where an item not picked ranks and
    which filter of the request rules it out ("why not X?", ``whynot``)."""

    catalog: Catalog
    coliked: CoLiked | None = None
    retriever: Retriever | None = None

    def _rows(self, liked: Sequence[str]) -> list[int]:
        return [self.catalog.position(i) for i in dict.fromkeys(liked) if i in self.catalog]

    def boost(self, pool: list[Candidate], liked: Sequence[str]) -> list[Candidate]:
        """The pool reordered with ``COLLAB_WEIGHT`` x the co-liking share of each candidate
        with the person's liked items (unchanged without them or without interactions)."""
        rows = self._rows(liked)
        if self.coliked is None or not rows or not pool:
            return pool
        share = self.coliked.scores(rows, [c.row for c in pool])
        moved = [
            c.moved(c.score + COLLAB_WEIGHT * float(s), "collab")
            for c, s in zip(pool, share, strict=True)
        ]
        return sorted(moved, key=lambda c: -c.score)

    def rerank_lines(self, pool: Sequence[Candidate], liked: Sequence[str]) -> dict[str, str]:
        """Item id -> the evidence the evidence reranker reads (``rerank.evidence_text``):
        the item's rating facts and the liked film behind it most (``CoLiked.pulls``)."""
        from chatrec.rerank import evidence_text

        rows = self._rows(liked)
        out = {}
        for c in pool:
            pulls = self.coliked.pulls(self.catalog, rows, c.row, top=1) if self.coliked else []
            out[c.item.id] = evidence_text(pulls, c.item.rating, c.item.review_count)
        return out

    def gather(
        self,
        picks: Sequence[Candidate],
        liked: Sequence[str],
        c: Constraints,
        said: Sequence[str],
    ) -> list[Evidence]:
        """Each pick's evidence: its score parts, the liked items behind it, what it meets."""
        rows = self._rows(liked)
        out = []
        for p in picks:
            pulls = self.coliked.pulls(self.catalog, rows, p.row) if self.coliked and rows else []
            out.append(gather(p.item, p.parts, c, said, pulls))
        return out
