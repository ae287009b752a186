"""Retrieval: a query text -> typed candidates from the FAISS index, filtered by constraints.

Input: the query (the message now; profile and history join later), ``Constraints``, ids to
exclude. Output: ``Candidate`` list, best first, every one a catalog item. Filters run inside
the faiss search (an ID selector over the rows that pass), so a strict filter still yields
the best matching rows rather than an empty page.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from chatrec.bundle import Bundle
from chatrec.catalog import Item
from chatrec.embed import Embedder
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
    """Searches one bundle; attribute arrays are computed once for vectorised filtering."""

    def __init__(
        self, bundle: Bundle, embedder: Embedder, prior_weight: float = 0.2, pool: int = 100
    ):
        self.bundle = bundle
        self.pool = pool
        self.embedder = embedder
        items = bundle.catalog.items
        self.prior = prior_weight * quality_prior(items)  # (n,)
        nan = np.nan
        self.price_lo = np.array([nan if i.price is None else i.price for i in items])
        self.price_hi = np.array(
            [nan if i.price is None else (i.price_max or i.price) for i in items]
        )
        self.year = np.array([nan if i.year is None else i.year for i in items])
        self.addon = np.array([i.addon for i in items], dtype=bool)
        self.categories = bundle.catalog.categories()
        col = {c: j for j, c in enumerate(self.categories)}
        self.has_cat = np.zeros((len(items), len(self.categories)), dtype=bool)  # (n, C)
        for r, it in enumerate(items):
            for c in it.categories:
                self.has_cat[r, col[c]] = True
        self._col = col

    def _cat_mask(self, cats: Iterable[str]) -> np.ndarray:
        cols = [self._col[c] for c in cats if c in self._col]
        if not cols:
            return np.zeros(len(self.addon), dtype=bool)
        return self.has_cat[:, cols].any(axis=1)

    def mask(self, c: Constraints, exclude_ids: Iterable[str] = ()) -> np.ndarray | None:
        """(n,) bool of rows that satisfy ``c``, or None when nothing filters."""
        m = np.ones(len(self.addon), dtype=bool)
        # Unknown price or year never passes a price or year constraint (NaN comparisons are False).
        if c.price_max is not None:
            m &= self.price_lo <= c.price_max
        if c.price_min is not None:
            m &= self.price_hi >= c.price_min
        if c.year_min is not None:
            m &= self.year >= c.year_min
        if c.year_max is not None:
            m &= self.year <= c.year_max
        if c.categories:
            m &= self._cat_mask(c.categories)
        for cat in c.all_categories:
            m &= self._cat_mask((cat,))
        if c.exclude_categories:
            m &= ~self._cat_mask(c.exclude_categories)
        if not c.allow_addons:
            m &= ~self.addon
        catalog = self.bundle.catalog
        for iid in exclude_ids:
            if iid in catalog:
                m[catalog.position(iid)] = False
        return None if m.all() else m

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
        mask = self.mask(constraints, exclude_ids)
        allowed = None if mask is None else np.flatnonzero(mask).astype(np.int64)
        # Fetch a wider pool so the category bonus and the prior can reorder within it.
        scores, rows = self.bundle.index.search(vec, max(k, self.pool), allowed=allowed)
        wanted = self._cat_mask(constraints.categories) if constraints.categories else None
        items = self.bundle.catalog.items
        out = []
        for s, r in zip(scores[0].tolist(), rows[0].tolist(), strict=True):
            if r < 0:
                continue
            bonus = 0.0
            if wanted is not None:
                have = set(items[r].categories)
                bonus = CATEGORY_BONUS * sum(1 for cat in constraints.categories if cat in have)
            out.append(Candidate(items[r], float(s) + bonus + float(self.prior[r]), int(r)))
        out.sort(key=lambda c: -c.score)
        return out[:k]
