"""Diversity: maximal marginal relevance (MMR) over item embeddings, and intra-list diversity.

Input: relevance scores (n,) and unit item vectors (n, d) of the ranked candidates, a list
length k and λ ∈ [0, 1]. Output: the chosen positions, in order. λ = 1 keeps the relevance
order; λ = 0 picks each next item as unlike the chosen ones as possible.
(Carbonell & Goldstein, 1998.)
"""

from __future__ import annotations

import numpy as np


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[int]:
    """Greedy MMR: argmax_i λ·rel(i) − (1−λ)·max_{j chosen} cos(i, j).

    Args:
        relevance: (n,) float scores, higher is better (any scale; min-max normalised here so
            that λ weighs comparable quantities).
        vectors: (n, d) float32 unit rows, so a dot product is a cosine.
        k: how many to choose (at most n).
        lam: 1 = pure relevance, 0 = pure novelty.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be in [0, 1], got {lam}")
    n = len(relevance)
    k = min(k, n)
    if k == 0:
        return []
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.zeros(n)
    sims = np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors, dtype=np.float64).T  # (n, n)
    chosen = [int(np.argmax(rel))]
    max_sim = sims[chosen[0]].copy()  # (n,) similarity to the closest chosen item
    available = np.ones(n, dtype=bool)
    available[chosen[0]] = False
    while len(chosen) < k:
        gain = lam * rel - (1.0 - lam) * max_sim
        gain[~available] = -np.inf
        nxt = int(np.argmax(gain))
        chosen.append(nxt)
        available[nxt] = False
        max_sim = np.maximum(max_sim, sims[nxt])
    return chosen


def intra_list_diversity(vectors: np.ndarray) -> float:
    """ILD: mean pairwise cosine distance (1 − cos) of a list's unit vectors (m, d); 0 if m < 2."""
    m = len(vectors)
    if m < 2:
        return 0.0
    v = np.asarray(vectors, dtype=np.float64)
    sims = v @ v.T  # (m, m)
    off_diag = sims[~np.eye(m, dtype=bool)]
    return float(np.mean(1.0 - off_diag))
