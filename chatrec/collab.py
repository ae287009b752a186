"""Collaborative scorers learned from interactions: popularity, ItemKNN, and item transitions.

Each scorer is fitted on training sequences only (``fit``; fitted attributes end in ``_``)
and scores a batch of histories over the whole catalog (``score``: (B, n_items) float32,
higher = better). Filtering (seen items) is the caller's job. Small catalogs only: the
item-item matrices are dense (n_items, n_items) float32, 11 MB for MovieLens' 1,682 films.

``Transitions`` is the sequence-aware co-occurrence source the chat retriever fuses with the
text index: item b scores for a history ending in a when people who rated a went on to rate
b soon after. MovieLens users rate in sittings, so what came right before the next item says
more than the whole history does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Popularity:
    """Training interaction counts; the same list for everyone."""

    def fit(self, sequences: Sequence[np.ndarray], n_items: int) -> Popularity:
        counts = np.zeros(n_items, dtype=np.float32)
        for s in sequences:
            np.add.at(counts, s, 1.0)
        self.counts_ = counts  # (n,)
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return np.tile(np.log1p(self.counts_), (len(histories), 1))  # (B, n)


class ItemKNN:
    """Item-based k-nearest neighbours on the binary user-item matrix (cosine, top-k pruned).

    score(user, j) = sum over history items i of sim(i, j), with sim kept for each item's
    ``k`` most similar items (Sarwar et al., 2001; ``shrink`` damps pairs with little support).
    """

    def __init__(self, k: int = 100, shrink: float = 10.0):
        self.k = k
        self.shrink = shrink

    def fit(self, sequences: Sequence[np.ndarray], n_items: int) -> ItemKNN:
        x = np.zeros((len(sequences), n_items), dtype=np.float32)  # (U, n)
        for u, s in enumerate(sequences):
            x[u, s] = 1.0
        co = x.T @ x  # (n, n) co-occurrence counts
        norms = np.sqrt(np.diag(co))
        sim = co / (np.outer(norms, norms) + self.shrink)
        np.fill_diagonal(sim, 0.0)
        self.sim_ = _keep_top(sim, self.k)
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(histories), self.sim_.shape[0]), dtype=np.float32)
        for b, h in enumerate(histories):
            if len(h):
                out[b] = self.sim_[h].sum(axis=0)
        return out


class Transitions:
    """Sequence-aware co-occurrence: who rated a and then, within ``window`` steps, b.

    Counts pairs (a, b) with b up to ``window`` positions after a in a training sequence,
    weighted 1/distance, normalised like cosine. A history scores item j by summing the rows
    of its last ``last`` items, the most recent weighted most (``decay`` per step back).
    """

    def __init__(self, window: int = 5, last: int = 10, decay: float = 0.8, shrink: float = 5.0):
        self.window = window
        self.last = last
        self.decay = decay
        self.shrink = shrink

    def fit(self, sequences: Sequence[np.ndarray], n_items: int) -> Transitions:
        co = np.zeros((n_items, n_items), dtype=np.float32)
        for s in sequences:
            for d in range(1, self.window + 1):
                if len(s) > d:
                    # both directions: MovieLens sittings have no reliable order inside them
                    np.add.at(co, (s[:-d], s[d:]), 1.0 / d)
                    np.add.at(co, (s[d:], s[:-d]), 0.5 / d)
        rows = co.sum(axis=1)
        self.sim_ = co / (np.sqrt(np.outer(rows, rows)) + self.shrink)  # (n, n)
        np.fill_diagonal(self.sim_, 0.0)
        return self

    def score(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(histories), self.sim_.shape[0]), dtype=np.float32)
        for b, h in enumerate(histories):
            recent = np.asarray(h)[-self.last :][::-1]  # newest first
            if len(recent):
                w = self.decay ** np.arange(len(recent), dtype=np.float32)
                out[b] = w @ self.sim_[recent]
        return out


def _keep_top(sim: np.ndarray, k: int) -> np.ndarray:
    """Zero all but each row's ``k`` largest entries."""
    if k >= sim.shape[1]:
        return sim
    idx = np.argpartition(-sim, k, axis=1)[:, :k]
    out = np.zeros_like(sim)
    rows = np.arange(sim.shape[0])[:, None]
    out[rows, idx] = sim[rows, idx]
    return out
