"""The one filter stage: which catalog rows a request admits.

Input: ``Constraints`` (price, years, categories any/all/none, add-ons, product specs) and ids
to leave out. Output: an ``(n,) bool`` row mask, or None when nothing filters. Retrieval
applies it inside the FAISS search (an ID selector over the rows that pass), so a strict
filter still yields the best matching rows rather than an empty page. An item that does not
state a price, a year or a spec never passes a constraint on it: we only promise what the
listing says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from chatrec.catalog import Catalog, Item
from chatrec.constraints import item_specs
from chatrec.text import folded, has_run
from chatrec.types import Constraints, Spec


class SpecTable:
    """The specs every item of a catalog states, as arrays for vectorised checks.

    An item that does not state a spec never passes a constraint on it (like an unknown price):
    we only promise what the listing says.
    """

    def __init__(self, items: Sequence[Item]):
        self.ids = [it.id for it in items]
        n = len(self.ids)
        self.values: dict[str, np.ndarray] = {}  # name -> (n,) float64, NaN = not stated
        self.words: dict[str, np.ndarray] = {}  # keyword -> (n,) bool
        for r, it in enumerate(items):
            values, words = item_specs(it)
            for name, v in values.items():
                self.values.setdefault(name, np.full(n, np.nan))[r] = v
            for w in words:
                self.words.setdefault(w, np.zeros(n, dtype=bool))[r] = True
        self.available = frozenset(self.values) | frozenset(self.words)

    def mask(self, specs: Iterable[Spec]) -> np.ndarray:
        """(n,) bool: items that state every spec and satisfy its range."""
        ok = np.ones(len(self.ids), dtype=bool)
        for spec in specs:
            if spec.name in self.words:
                ok &= self.words[spec.name]
                continue
            col = self.values.get(spec.name)
            if col is None:
                return np.zeros(len(self.ids), dtype=bool)
            with np.errstate(invalid="ignore"):
                if spec.lo is not None:
                    ok &= col >= spec.lo
                if spec.hi is not None:
                    ok &= col <= spec.hi
                ok &= ~np.isnan(col)
        return ok


class ItemFilter:
    """A catalog's filterable attributes as arrays, computed once for vectorised masks."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        items = catalog.items
        nan = np.nan
        self.price_lo = np.array([nan if i.price is None else i.price for i in items])  # (n,)
        self.price_hi = np.array(
            [nan if i.price is None else (i.price_max or i.price) for i in items]
        )  # (n,)
        self.year = np.array([nan if i.year is None else i.year for i in items])  # (n,)
        self.addon = np.array([i.addon for i in items], dtype=bool)  # (n,)
        self.categories = catalog.categories()
        self._col = {c: j for j, c in enumerate(self.categories)}
        self.has_cat = np.zeros((len(items), len(self.categories)), dtype=bool)  # (n, C)
        for r, it in enumerate(items):
            for c in it.categories:
                self.has_cat[r, self._col[c]] = True
        self.specs = SpecTable(items)
        self._titles = [folded(i.title) for i in items]  # for names refused ("not Arlo")

    def category_mask(self, cats: Iterable[str]) -> np.ndarray:
        """(n,) bool: rows in any of ``cats``."""
        cols = [self._col[c] for c in cats if c in self._col]
        if not cols:
            return np.zeros(len(self.addon), dtype=bool)
        return self.has_cat[:, cols].any(axis=1)

    def name_mask(self, name: str) -> np.ndarray:
        """(n,) bool: rows whose title has ``name`` as whole words ("Arlo", "all-in-one")."""
        want = folded(name)
        return np.array([has_run(want, t) for t in self._titles], dtype=bool)

    def mask(self, c: Constraints, exclude_ids: Iterable[str] = ()) -> np.ndarray | None:
        """(n,) bool of rows that satisfy ``c`` and are not excluded, or None when nothing
        filters."""
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
            m &= self.category_mask(c.categories)
        for cat in c.all_categories:
            m &= self.category_mask((cat,))
        if c.exclude_categories:
            m &= ~self.category_mask(c.exclude_categories)
        for name in c.exclude_names:
            m &= ~self.name_mask(name)
        if not c.allow_addons:
            m &= ~self.addon
        if c.specs:
            m &= self.specs.mask(c.specs)
        for iid in exclude_ids:
            if iid in self.catalog:
                m[self.catalog.position(iid)] = False
        return None if m.all() else m

    def failing(self, c: Constraints) -> list[str]:
        """Ids of the items ``c`` rules out (empty when nothing filters)."""
        m = self.mask(c)
        return [] if m is None else [self.catalog.items[r].id for r in np.flatnonzero(~m)]
