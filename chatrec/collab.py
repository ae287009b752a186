"""Collaborative scorers learned from interactions: popularity, ItemKNN, and item transitions.

Each scorer is fitted on training sequences only (``fit``; fitted attributes end in ``_``)
and scores a batch of histories over the whole catalog (``score``: (B, n_items) float32,
higher = better). Filtering (seen items) is the caller's job. Small catalogs only: the
item-item matrices are dense (n_items, n_items) float32, 11 MB for MovieLens' 1,682 films.

``Transitions`` is the sequence-aware co-occurrence source the chat retriever fuses with the
text index: item b scores for a history ending in a when people who rated a went on to rate
b soon after. MovieLens users rate in sittings, so what came right before the next item says
more than the whole history does.

``CandidateSource`` fuses ``Transitions`` with text similarity to what the person said: the
candidate lists the rerankers are trained and evaluated on. ``zscore`` is the standardisation
every fusion here and in ``chatrec.rerank`` uses, so that unrelated score scales add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


def zscore(x: np.ndarray) -> np.ndarray:
    """Standardise along the last axis (population std); constant rows become 0.

    Args:
        x: scores, any shape; float64 is used throughout.

    Returns:
        float64 array of ``x``'s shape: (x - mean) / std per last-axis row, 0 where the row
        is constant (or holds a non-finite value), so such a row adds nothing to a fusion.
    """
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=-1, keepdims=True)
    return np.where(sd > 0, (x - x.mean(axis=-1, keepdims=True)) / np.where(sd > 0, sd, 1), 0.0)


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


class TrainingSequences(Protocol):
    """What ``CandidateSource.fit`` reads of a split (``chatrec.datasets.split.Split`` is one):
    kept structural so that this online module never imports the offline package."""

    n_items: int
    users: np.ndarray

    def train(self, u: int) -> np.ndarray: ...


@dataclass
class CandidateSource:
    """Item transitions (collaborative) fused with text similarity to what the person said.

    ``scores(history, wish)`` -> (n_items,) float64: z(transitions of the history) plus, when
    there is a wish, ``text_weight`` * z(cosine of the wish to each item's text). With no
    history the transitions are all zero and the text alone decides (cold start).
    """

    transitions: Transitions
    item_vecs: np.ndarray  # (n_items, d) float32 unit rows
    embedder: Any
    text_weight: float = 1.0

    @classmethod
    def fit(
        cls, split: TrainingSequences, catalog: Any, runtime: Any = None, embedder: Any = None
    ) -> CandidateSource:
        """Transitions from the split's training items; item vectors from ``embedder`` (default:
        the packaged sentence embedder) over each catalog item's document text."""
        from chatrec.config import EmbedConfig
        from chatrec.embed import SentenceEmbedder

        trans = Transitions().fit([split.train(u) for u in range(len(split.users))], split.n_items)
        embedder = embedder or SentenceEmbedder.from_config(EmbedConfig(), runtime)
        vecs = embedder.encode_document([it.document() for it in catalog.items])
        return cls(trans, vecs, embedder)

    def scores(self, history: np.ndarray, wish: str | None) -> np.ndarray:
        """(n_items,) float64 fused scores for a history (item positions) and an optional wish."""
        s = zscore(self.transitions.score([history])[0]) if len(history) else 0.0
        if wish:
            q = self.embedder.encode_query([wish])[0]  # (d,)
            s = s + self.text_weight * zscore(self.item_vecs @ q)
        return np.broadcast_to(np.asarray(s, dtype=np.float64), (len(self.item_vecs),)).copy()
