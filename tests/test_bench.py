"""The synthetic retrieval benchmark on a small set: structure and recall (no real models)."""

from __future__ import annotations

from chatrec.eval.bench import bench_synthetic


def test_bench_synthetic_small_set() -> None:
    n_queries = 40
    res = bench_synthetic(20_000, n_queries=n_queries, nprobes=(2, 8, 64), hnsw=False)

    assert res["n"] == 20_000 and res["train_rows"] == 20_000
    assert "HNSW" in res["skipped"]
    # Queries are fresh draws, not indexed points (an indexed point would score 1.0).
    assert res["similarity"]["nn1_cos"] < 0.95
    rows = res["rows"]
    assert [r["factory"] for r in rows] == ["Flat"] + ["IVF512,Flat"] * 3
    assert [r.get("nprobe") for r in rows] == [None, 2, 8, 64]
    for r in rows:
        assert r["single"]["n"] == n_queries and r["single"]["threads"] == 1
        assert 0 < r["single"]["p50_ms"] <= r["single"]["p99_ms"]
        for b in (32, 256):
            assert r[f"batch{b}"]["n"] == 10 and r[f"batch{b}"]["per_query_ms"] > 0
    # Exact search agrees with numpy brute force; IVF recall grows with nprobe and gets high.
    recalls = [r["recall@10"] for r in rows]
    assert recalls[0] == 1.0
    assert recalls[1] <= recalls[2] <= recalls[3]
    assert recalls[3] >= 0.9
