"""Retrieval benchmark: bundle build time, search latency (exact vs IVF) and IVF recall@10.

``run_retrieval`` measures two things and returns one JSON-ready dict:

* Real catalogs (``store``, ``movies``): a forced bundle rebuild, then index search latency
  for real encoded queries (single and batched) and end-to-end ``Retriever.retrieve``
  latency, which includes encoding the query.
* Synthetic 384-d sets (100k and 1M by default): exact ``Flat`` against ``IVF{nlist},Flat``
  at several nprobe values (and ``HNSW32,Flat`` up to ``HNSW_MAX_N`` vectors), with recall@10
  against numpy brute force.

Why a Gaussian mixture and not uniform random vectors: uniform points on the sphere have no
cluster structure, every point is nearly equidistant from every other, and an IVF index must
probe most lists to find neighbours, so they say little about real embeddings. We draw unit
vectors around seeded centers instead (centers share a common direction, as sentence
embeddings do; cluster sizes and spreads vary), tuned so that random-pair and nearest-neighbour
cosines are close to those of the real catalogs (both are reported). Queries come from the same
mixture but are never indexed points.

Latency: ``time.perf_counter_ns`` after a warm-up; single queries run with one OpenMP thread
(thread start-up would dominate a query of a few microseconds), batches with faiss's default.
"""

from __future__ import annotations

import datetime
import logging
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import faiss
import numpy as np

from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.embed import Embedder
from chatrec.index import VectorIndex

log = logging.getLogger(__name__)

DIM, K = 384, 10
BATCHES = (32, 256)
NPROBES = (8, 16, 32, 64, 128)
EF_SEARCH = (32, 64, 128)
HNSW_MAX_N = 200_000  # HNSW32 inserts take many minutes at 1M vectors on a few cores
RECALL_TARGET, P99_TARGET_MS = 0.95, 5.0
BUDGET_S = 30.0  # per latency measurement; exact search at 1M stops early (count recorded)
QUERIES = [
    "cheap wireless headphones", "noise cancelling earbuds for the gym", "a laptop for students",
    "gaming laptop under $1500", "4k tv for a small living room", "smart watch with gps",
    "bluetooth speaker for the beach", "a tablet for reading", "budget phone with a good camera",
    "mechanical keyboard", "usb-c charger for my laptop", "a monitor for photo editing",
    "fitness tracker with heart rate", "a camera for travel vlogs", "wifi router for a big house",
    "over-ear headphones under $100", "a quiet mouse for the office", "soundbar for my tv",
    "portable ssd 1tb", "a gift for a teenager who likes games", "tv wall mount",
    "kids tablet with parental controls", "e-reader with backlight", "drone with a 4k camera",
    "smart home speaker", "an animated movie for kids", "a thriller from the 70s",
    "romantic comedy for date night", "sci-fi movie about space travel", "a classic western",
    "something funny and light", "a scary horror film", "crime drama with a great cast",
    "a war movie based on a true story", "musical with great songs", "a documentary about nature",
    "feel-good family film", "mystery with a twist ending", "action movie from the 90s",
    "an old black and white film noir", "a film like star wars", "a sad drama that makes me cry",
    "adventure movie with dinosaurs", "a movie about friendship", "a disney cartoon",
    "a political thriller", "comedy from the 80s", "a fantasy film with magic",
    "a movie set in new york", "an oscar winning drama",
]  # fmt: skip


def _stats(ns: Sequence[int], **extra: Any) -> dict[str, Any]:
    p50, p99 = np.percentile(np.asarray(ns, dtype=np.float64) / 1e6, [50, 99])
    return {"p50_ms": round(float(p50), 3), "p99_ms": round(float(p99), 3), "n": len(ns), **extra}


def _time_calls(call: Callable[[int], Any], n: int, budget_s: float = BUDGET_S) -> list[int]:
    """Nanoseconds of ``call(i)`` for i < n, after 5 warm-up calls; stops after ``budget_s``."""
    for i in range(min(5, n)):
        call(i)
    out: list[int] = []
    deadline = time.perf_counter_ns() + int(budget_s * 1e9)
    for i in range(n):
        t0 = time.perf_counter_ns()
        call(i)
        t1 = time.perf_counter_ns()
        out.append(t1 - t0)
        if t1 > deadline:
            break
    return out


def measure_search(
    search: Callable[[np.ndarray], Any], queries: np.ndarray, n_queries: int
) -> dict[str, Any]:
    """Latency of ``search(batch)`` for single queries and for batches of ``BATCHES`` sizes.

    Args:
        search: runs one search on a (q, d) float32 batch.
        queries: (m, d) query vectors, cycled.
        n_queries: timed single queries; batches time max(10, n_queries // size) batches.

    Returns:
        ``{"single": {p50_ms, p99_ms, n, threads}, "batch32": {..., per_query_ms}, ...}``.
    """
    threads = faiss.omp_get_max_threads()
    # Slices are made outside the timed region, so only the search is timed.
    singles = [np.take(queries, [i], axis=0, mode="wrap") for i in range(n_queries)]
    faiss.omp_set_num_threads(1)
    try:
        out = {"single": _stats(_time_calls(lambda i: search(singles[i]), n_queries), threads=1)}
    finally:
        faiss.omp_set_num_threads(threads)
    for b in BATCHES:
        n_batches = max(10, n_queries // b)
        bs = [np.take(queries, range(j * b, (j + 1) * b), 0, mode="wrap") for j in range(n_batches)]
        s = _stats(_time_calls(lambda j, bs=bs: search(bs[j]), n_batches), threads=threads)
        out[f"batch{b}"] = {**s, "per_query_ms": round(s["p50_ms"] / b, 4)}
    return out


def synthetic_vectors(
    n: int, n_queries: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A seeded Gaussian mixture of (n, 384) unit float32 vectors and (n_queries, 384) queries.

    Returns:
        (vectors, queries, description); queries are fresh draws, not indexed points.
    """
    rng = np.random.default_rng(seed)
    n_centers = int(np.clip(n // 100, 16, 4096))
    shared = rng.standard_normal(DIM)
    shared /= np.linalg.norm(shared)
    u = rng.standard_normal((n_centers, DIM))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    # Mean cosine between centers ~0.5, like the anisotropy of sentence embeddings.
    centers = math.sqrt(0.5) * (shared + u)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    weights = rng.lognormal(0.0, 1.0, n_centers)  # uneven cluster sizes, as in real catalogs
    weights /= weights.sum()
    spread = rng.uniform(0.6, 1.2, n_centers)  # noise norm per cluster

    def draw(m: int, g: np.random.Generator) -> np.ndarray:
        out = np.empty((m, DIM), dtype=np.float32)
        for lo in range(0, m, 100_000):  # chunks keep the float64 temporaries small at 1M
            hi = min(m, lo + 100_000)
            lab = g.choice(n_centers, hi - lo, p=weights)
            noise = g.standard_normal((hi - lo, DIM)) / math.sqrt(DIM)  # norm ~1
            x = centers[lab] + spread[lab, None] * noise
            out[lo:hi] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out

    desc = {"centers": n_centers, "center_mean_cos": 0.5, "noise_norm": [0.6, 1.2], "seed": seed}
    return draw(n, rng), draw(n_queries, np.random.default_rng(seed + 1)), desc


def _kth_best(x: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Exact K-th best similarity per query (numpy brute force) and similarity statistics."""
    top = np.empty((len(q), K), dtype=np.float32)
    for lo in range(0, len(q), 64):  # (64, n) similarity blocks: 256 MB at 1M
        s = q[lo : lo + 64] @ x.T
        top[lo : lo + 64] = -np.sort(-np.partition(s, -K, axis=1)[:, -K:], axis=1)
    pairs = np.random.default_rng(1).integers(0, len(x), (2, 2000))
    rand = (x[pairs[0]] * x[pairs[1]]).sum(1)
    stats = {"random_pair_cos": rand.mean(), "nn1_cos": top[:, 0].mean(),
             "nn10_cos": top[:, -1].mean()}  # fmt: skip
    return top[:, -1], {k: round(float(v), 3) for k, v in stats.items()}


def recall_at_k(x: np.ndarray, q: np.ndarray, ids: np.ndarray, kth: np.ndarray) -> float:
    """Share of returned ids whose true similarity reaches the exact K-th best (ties count)."""
    sims = np.einsum("qd,qkd->qk", q, x[np.maximum(ids, 0)])
    return float(((ids >= 0) & (sims >= kth[:, None] - 1e-5)).sum() / ids.size)


def bench_synthetic(
    n: int, n_queries: int = 1000, nprobes: Sequence[int] = NPROBES, hnsw: bool | None = None
) -> dict[str, Any]:
    """Exact, IVF (each nprobe) and optionally HNSW rows over a synthetic set of n vectors."""
    x, q, desc = synthetic_vectors(n, n_queries)
    kth, sim_stats = _kth_best(x, q)
    rows: list[dict[str, Any]] = []

    def row(vi: VectorIndex, build_s: float, **params: int) -> None:
        _, ids = vi.search(q, K)
        recall = round(recall_at_k(x, q, ids, kth), 4)
        rows.append({"factory": vi.factory, **params, "build_s": round(build_s, 3)})
        rows[-1].update(
            {"recall@10": recall, **measure_search(lambda b: vi.search(b, K), q, n_queries)}
        )
        log.info("%d vectors: %s", n, rows[-1])

    t0 = time.perf_counter()
    row(VectorIndex.build(x, "Flat"), time.perf_counter() - t0)
    # nlist ~ 4 sqrt(n), a power of two; k-means trains on the first 64 * nlist rows, a
    # random sample since rows are i.i.d. draws, so row ids stay those of ``x``.
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    factory, n_train = f"IVF{nlist},Flat", min(n, 64 * nlist)
    t0 = time.perf_counter()
    ivf = VectorIndex.build(x[:n_train], factory, nprobes[0], seed=0)
    if n_train < n:
        ivf.cpu_index.add(x[n_train:])
    build_s = time.perf_counter() - t0
    for p in nprobes:
        row(VectorIndex(ivf.cpu_index, factory, p), build_s, nprobe=p)
    del ivf
    skipped = None
    if hnsw if hnsw is not None else n <= HNSW_MAX_N:
        t0 = time.perf_counter()
        h = VectorIndex.build(x, "HNSW32,Flat")
        build_s = time.perf_counter() - t0
        for ef in EF_SEARCH:
            faiss.ParameterSpace().set_index_parameter(h.index, "efSearch", ef)
            row(h, build_s, efSearch=ef)
    else:
        skipped = f"HNSW32,Flat skipped: graph build is too slow above {HNSW_MAX_N} vectors here"
    info = {"n": n, "dim": DIM, "n_queries": n_queries, "train_rows": n_train, "generator": desc}
    return {**info, "similarity": sim_stats, "rows": rows, "skipped": skipped}


def bench_catalog(
    name: str, runtime: RuntimeConfig, embedder: Embedder, n_queries: int
) -> dict[str, Any]:
    """Forced bundle rebuild of a real catalog, then search and end-to-end retrieve latency."""
    from chatrec.recommender import ChatRecommender

    t0 = time.perf_counter()
    rec = ChatRecommender.from_pretrained(name, runtime=runtime, embedder=embedder, rebuild=True)
    wall = time.perf_counter() - t0
    m, emb = rec.bundle.manifest, rec.bundle.embeddings
    qv = embedder.encode_query(QUERIES)
    # Item-to-item cosine statistics, to set beside the synthetic sets' (leave-one-out).
    sims, n = emb @ emb.T, len(emb)
    random_pair = (sims.sum() - np.trace(sims)) / (n * (n - 1))
    np.fill_diagonal(sims, -np.inf)
    top = -np.sort(-sims, axis=1)[:, :K]
    similarity = {"random_pair_cos": random_pair, "nn1_cos": top[:, 0].mean(),
                  "nn10_cos": top[:, -1].mean()}  # fmt: skip
    out = {"n_items": m["n_items"], "factory": m["factory"], "build_wall_s": round(wall, 3),
           "manifest_build_s": m["build_seconds"],
           "similarity": {k: round(float(v), 3) for k, v in similarity.items()}}  # fmt: skip
    out.update(measure_search(lambda b: rec.bundle.index.search(b, K), qv, n_queries))
    ns = _time_calls(lambda i: rec.retriever.retrieve(QUERIES[i % len(QUERIES)], k=K), n_queries)
    out["retrieve"] = _stats(ns, threads=faiss.omp_get_max_threads(), includes="query encoding")
    return out


def _best_ivf(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest IVF row (single-query p99) reaching the recall target, else the best recall."""
    ivf = [r for r in rows if r["factory"].startswith("IVF")]
    ok = [r for r in ivf if r["recall@10"] >= RECALL_TARGET]
    r = (
        min(ok, key=lambda r: r["single"]["p99_ms"])
        if ok
        else max(ivf, key=lambda r: r["recall@10"])
    )
    out = {"factory": r["factory"], "nprobe": r["nprobe"], "recall@10": r["recall@10"]}
    out.update({k: r["single"][k] for k in ("p50_ms", "p99_ms")})
    return out if ok else {**out, "below_recall_target": True}


def run_retrieval(
    runtime: RuntimeConfig, sizes: list[int], n_queries: int = 1000
) -> dict[str, Any]:
    """Run the whole benchmark; the CLI writes the result to ``bench/retrieval.json``.

    Args:
        runtime: where bundles live (forced rebuilds are written there) and the models.
        sizes: synthetic set sizes.
        n_queries: timed queries per measurement.

    Returns:
        A JSON-ready dict with ``machine``, ``catalogs``, ``synthetic`` and a compact ``summary``.
    """
    from chatrec.embed import SentenceEmbedder

    load_before = os.getloadavg()  # other work on the machine skews latencies; record it
    embedder = SentenceEmbedder.from_config(ChatRecConfig().embed, runtime)  # loaded once
    catalogs = {c: bench_catalog(c, runtime, embedder, n_queries) for c in ("store", "movies")}
    synthetic = {str(n): bench_synthetic(n, n_queries) for n in sizes}
    summary: dict[str, Any] = {}
    for n, res in synthetic.items():
        best = _best_ivf(res["rows"])
        summary[n] = {
            "exact_p99_ms": res["rows"][0]["single"]["p99_ms"],
            "ivf": best,
            "meets_target": best["p99_ms"] < P99_TARGET_MS and "below_recall_target" not in best,
        }
    for c, res in catalogs.items():
        summary[c] = {"build_s": res["build_wall_s"], "search_p99_ms": res["single"]["p99_ms"]}
        summary[c].update({f"retrieve_{k}": res["retrieve"][k] for k in ("p50_ms", "p99_ms")})
    machine = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
               "faiss": faiss.__version__, "numpy": np.__version__,
               "omp_threads": faiss.omp_get_max_threads(),
               "loadavg_1_5_15": {"before": load_before, "after": os.getloadavg()}}  # fmt: skip
    return {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "k": K,
        "target": {"single_p99_ms": P99_TARGET_MS, "recall@10": RECALL_TARGET, "at": 100_000},
        "catalogs": catalogs,
        "synthetic": {
            "description": "Seeded Gaussian mixture of 384-d unit vectors (not uniform on the "
            "sphere: that has no cluster structure, unlike real embeddings, and is pathological "
            "for IVF). Centers share a common direction; cluster sizes and spreads vary; "
            "similarity statistics are reported next to the real catalogs'. Queries are fresh "
            "draws from the same mixture, never indexed points. Recall@10 is against numpy "
            "brute force; a returned row whose similarity ties the exact 10th best counts.",
            "sizes": synthetic,
        },
        "summary": summary,
    }
