"""Offline metrics: ranking quality (ranx) and beyond-accuracy (ILD, coverage, novelty).

Input: per user, a ranked list of catalog positions (best first) and the one held-out item
(the leave-one-out target). Output: plain floats, means over users.

Every ranking figure in the reports comes from ``ranx`` (``ranking_metrics``); ``ndcg_at``
is the same NDCG for a single relevant item, written out because it is called per item
inside training loops and per user in ``paired``, where building ranx runs would cost more
than the metric (``tests/test_evaluate.py`` checks the two agree). ILD is
``chatrec.diversify.intra_list_diversity``, next to the MMR it measures.

Only numpy at import: ranx (numba) is imported when a ranking is scored, so the trainers,
which import ``ndcg_at``, do not pay for it.
"""

from __future__ import annotations

import math

import numpy as np

from chatrec.diversify import intra_list_diversity

K_EVAL = 20  # every list is cut at 20: the largest cutoff any metric reads
METRICS = ("recall@5", "recall@10", "recall@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@10")


def ranking_metrics(lists: list[list[int]], targets: list[int], ids: list[str]) -> dict[str, float]:
    """ranx ``METRICS`` with one relevant item per user.

    Args:
        lists: per user, catalog positions, best first (at most ``K_EVAL``).
        targets: per user, the catalog position of the held-out item.
        ids: catalog ids by position (ranx keys documents by string).

    Returns:
        {metric: mean over users}; a user whose list misses the target scores 0.
    """
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({f"u{u}": {ids[t]: 1} for u, t in enumerate(targets)})
    run = Run(
        {
            f"u{u}": {ids[i]: float(K_EVAL - r) for r, i in enumerate(lst)}
            for u, lst in enumerate(lists)
        }
    )
    out = evaluate(qrels, run, list(METRICS), make_comparable=True)
    return {m: float(out[m]) for m in METRICS}


def ndcg_at(rank: int, k: int = 10) -> float:
    """NDCG@k with one relevant item at 0-based ``rank`` (-1: not ranked).

    The ideal DCG of one relevant item is 1, so this is its discounted gain 1 / log2(rank + 2),
    ranx's ``ndcg@k`` for the same list.
    """
    return 1.0 / math.log2(rank + 2) if 0 <= rank < k else 0.0


def mean_ndcg10(lists: list[list[int]], targets: list[int]) -> float:
    """Mean NDCG@10 of lists (catalog positions) against one target each (0 for no lists)."""
    ranks = [lst.index(t) if t in lst else -1 for lst, t in zip(lists, targets, strict=True)]
    return sum(ndcg_at(r) for r in ranks) / max(len(lists), 1)


def paired(
    a: list[list[int]], b: list[list[int]], targets: list[int], k: int = 10
) -> dict[str, float]:
    """NDCG@k of lists ``a`` minus that of ``b``, user by user.

    Two rerankings of the same candidates differ on few users, so their difference is far
    less noisy than either mean.

    Returns:
        ``diff`` (mean difference), ``se`` (sd / sqrt(n)), ``ci95`` (normal 95% interval,
        a list of two floats) and ``users_changed`` (share of users whose score differs).
    """

    def per_user(lists: list[list[int]]) -> np.ndarray:
        return np.array(
            [
                ndcg_at(lst.index(t), k) if t in lst else 0.0
                for lst, t in zip(lists, targets, strict=True)
            ]
        )

    d = per_user(a) - per_user(b)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
    mean = float(d.mean()) if len(d) else 0.0
    return {
        "diff": mean,
        "se": se,
        "ci95": [mean - 1.96 * se, mean + 1.96 * se],
        "users_changed": float(np.mean(d != 0)) if len(d) else 0.0,
    }


def beyond_accuracy(
    lists: list[list[int]], item_vecs: np.ndarray, pop_share: np.ndarray, n_catalog: int
) -> dict[str, float]:
    """Diversity, coverage and novelty of everyone's top 10.

    Args:
        lists: per user, catalog positions, best first.
        item_vecs: (n_items, d) unit text vectors, indexed by catalog position.
        pop_share: (n_items,) share of training users who rated each item.
        n_catalog: catalog size (the coverage denominator).

    Returns:
        ``ild@10`` (mean pairwise 1 - cosine within a list), ``coverage@10`` (share of the
        catalog in anyone's top 10), ``novelty@10`` (mean -log2 of ``pop_share``; higher =
        less popular items).
    """
    top10 = [lst[:10] for lst in lists]
    ild = float(np.mean([intra_list_diversity(item_vecs[t]) for t in top10 if len(t) > 1]))
    cov = len({i for t in top10 for i in t}) / n_catalog
    nov = float(np.mean([-np.log2(max(pop_share[i], 1e-6)) for t in top10 for i in t]))
    return {"ild@10": ild, "coverage@10": cov, "novelty@10": nov}
