"""Retrieval: a query text -> typed candidates from the FAISS index, filtered by constraints.

Input: the query (the message now; profile and history join later), ``Constraints``, ids to
exclude. Output: ``Candidate`` list, best first, every one a catalog item. Filters run inside
the faiss search (``filters.ItemFilter``: an ID selector over the rows that pass), so a strict
filter still yields the best matching rows rather than an empty page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from chatrec.bundle import Bundle
from chatrec.catalog import Catalog, Item
from chatrec.embed import Embedder
from chatrec.filters import ItemFilter
from chatrec.types import Candidate, Constraints

CATEGORY_BONUS = 0.05  # per requested category an item has (an animated film for kids > either)


def quality_prior(items: list[Item], shrink: float = 10.0) -> np.ndarray:
    """(n,) float in [0, 1]: half Bayesian-average rating, half log popularity.

    Among items that fit a request about equally well (the text scores of "90s sci-fi" films
    differ by noise), people expect the well-known, well-liked ones first. The Bayesian
    average pulls an item with 2 ratings toward the catalog mean; unrated items get the mean.
    """
    ratings = np.array([np.nan if i.rating is None else i.rating for i in items], dtype=float)
    counts = np.array([i.review_count or 0 for i in items], dtype=float)
    counts[np.isnan(ratings)] = 0
    if not counts.any():
        return np.zeros(len(items))
    mean = float(np.nansum(ratings * counts) / counts.sum())
    bayes = (np.nan_to_num(ratings) * counts + mean * shrink) / (counts + shrink)
    lo, hi = bayes.min(), bayes.max()
    rating_part = (bayes - lo) / (hi - lo) if hi > lo else np.zeros(len(items))
    pop_part = np.log1p(counts) / np.log1p(counts.max())
    return 0.5 * rating_part + 0.5 * pop_part


class Retriever:
    """Searches one bundle, filtered by the catalog's ``ItemFilter`` inside the search."""

    def __init__(
        self, bundle: Bundle, embedder: Embedder, prior_weight: float = 0.2, pool: int = 100
    ):
        self.bundle = bundle
        self.pool = pool
        self.embedder = embedder
        self.prior = prior_weight * quality_prior(bundle.catalog.items)  # (n,)
        self.filter = ItemFilter(bundle.catalog)

    def retrieve(
        self,
        query: str,
        constraints: Constraints | None = None,
        exclude_ids: Iterable[str] = (),
        k: int = 20,
    ) -> list[Candidate]:
        """The k best catalog items for ``query`` that satisfy ``constraints``."""
        constraints = constraints or Constraints()
        vec = self.embedder.encode_query([query])  # (1, d)
        mask = self.filter.mask(constraints, exclude_ids)
        allowed = None if mask is None else np.flatnonzero(mask).astype(np.int64)
        # Fetch a wider pool so the category bonus and the prior can reorder within it.
        scores, rows = self.bundle.index.search(vec, max(k, self.pool), allowed=allowed)
        pairs = zip(scores[0].tolist(), rows[0].tolist(), strict=True)
        out = [self._candidate(int(r), s, constraints) for s, r in pairs if r >= 0]
        out.sort(key=lambda c: -c.score)
        return out[:k]

    def score(
        self, query: str, ids: Sequence[str], constraints: Constraints | None = None
    ) -> list[Candidate]:
        """``ids`` (catalog items) as candidates for ``query``, scored as ``retrieve`` scores
        them, in the order given: the picks a 👎 leaves in place keep a score."""
        vec = self.embedder.encode_query([query])[0]  # (d,)
        rows = [self.bundle.catalog.position(i) for i in ids]
        sims = self.bundle.embeddings[rows] @ vec if rows else []  # (len(ids),)
        return [
            self._candidate(r, float(s), constraints or Constraints())
            for r, s in zip(rows, sims, strict=True)
        ]

    def _candidate(self, row: int, text: float, c: Constraints) -> Candidate:
        """The candidate of one row: its text score, the requested categories it has (each
        ``CATEGORY_BONUS``) and the quality prior."""
        item = self.bundle.catalog.items[row]
        have = set(item.categories)
        bonus = CATEGORY_BONUS * sum(1 for cat in c.categories if cat in have)
        prior = float(self.prior[row])
        parts = {"text": float(text), "category": bonus, "prior": prior}
        return Candidate(item, float(text) + bonus + prior, row, parts)


def one_per_listing(pool: list[Candidate], catalog: Catalog) -> list[Candidate]:
    """The best-ranked candidate of each listing: a film listed under two ids shows once."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for c in pool:
        key = catalog.listing(c.item.id)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
