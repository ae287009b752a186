from __future__ import annotations

import numpy as np
import pytest

from chatrec.diversify import intra_list_diversity, mmr
from chatrec.recommender import ChatRecommender


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_lambda_one_is_the_relevance_order() -> None:
    rng = np.random.default_rng(0)
    rel, vec = rng.random(30), _unit(rng.standard_normal((30, 8)))
    assert mmr(rel, vec, 10, 1.0) == list(np.argsort(-rel)[:10])


def test_low_lambda_skips_near_duplicates() -> None:
    # Three near-copies of one item score highest; a distinct item scores a bit lower.
    base = np.array([[1.0, 0.0], [0.999, 0.045], [0.998, 0.063], [0.0, 1.0]])
    vec = _unit(base)
    rel = np.array([1.0, 0.99, 0.98, 0.9])
    assert mmr(rel, vec, 2, 1.0) == [0, 1]
    assert mmr(rel, vec, 2, 0.5) == [0, 3]
    assert intra_list_diversity(vec[[0, 3]]) > intra_list_diversity(vec[[0, 1]])


def test_bounds_and_edge_cases() -> None:
    vec = _unit(np.eye(3))
    assert mmr(np.zeros(3), vec, 10, 0.5) == [0, 1, 2]  # k capped at n, ties are fine
    assert mmr(np.array([]), np.zeros((0, 3)), 5, 0.5) == []
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mmr(np.ones(3), vec, 2, 1.5)
    assert intra_list_diversity(vec[:1]) == 0.0
    assert intra_list_diversity(vec) == pytest.approx(1.0)


def test_lower_lambda_gives_a_more_diverse_reply(tiny_recommender: ChatRecommender) -> None:
    emb = tiny_recommender.bundle.embeddings
    cat = tiny_recommender.catalog

    def ild(lam: float) -> float:
        reply = tiny_recommender.chat("quiet headphones or a smart watch", k=4, mmr_lambda=lam)
        return intra_list_diversity(emb[[cat.position(r.item_id) for r in reply.items]])

    assert ild(0.0) > ild(1.0)
