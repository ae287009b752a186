from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatrec.config import IndexConfig
from chatrec.index import VectorIndex, factory_for, gpu_count


def _unit(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_search_equals_brute_force() -> None:
    base, queries = _unit(500), _unit(7, seed=1)
    index = VectorIndex.build(base, "Flat")
    scores, rows = index.search(queries, 10)
    expected = np.argsort(-(queries @ base.T), axis=1)[:, :10]
    assert (rows == expected).all()
    np.testing.assert_allclose(scores[:, 0], (queries @ base.T).max(axis=1), rtol=1e-5)


def test_allowed_rows_are_the_only_results_and_k_is_kept() -> None:
    base, q = _unit(300), _unit(1, seed=2)
    index = VectorIndex.build(base, "Flat")
    allowed = np.arange(0, 300, 7, dtype=np.int64)
    _, rows = index.search(q, 10, allowed=allowed)
    assert len(rows[0]) == 10 and set(rows[0]) <= set(allowed.tolist())
    sub = allowed[np.argsort(-(q @ base[allowed].T)[0])[:10]]
    assert rows[0].tolist() == sub.tolist()
    _, none = index.search(q, 5, allowed=np.array([], dtype=np.int64))
    assert (none == -1).all()


def test_ivf_trains_finds_neighbours_and_roundtrips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    centers = _unit(50, seed=3)
    base = centers[rng.integers(0, 50, 5000)] + 0.05 * rng.standard_normal((5000, 32))
    base = (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)
    ivf = VectorIndex.build(base, "IVF64,Flat", nprobe=16)
    exact = VectorIndex.build(base, "Flat")
    q = base[:50] + 0.01
    _, a = ivf.search(q, 10)
    _, b = exact.search(q, 10)
    recall = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)])
    assert recall >= 0.9
    ivf.save(tmp_path / "i.faiss")
    again = VectorIndex.load(tmp_path / "i.faiss", "IVF64,Flat", nprobe=16)
    assert (again.search(q, 10)[1] == a).all()
    _, sel = ivf.search(q[:1], 5, allowed=np.arange(100, dtype=np.int64))
    assert set(sel[0]) <= set(range(100))


def test_ivf_on_too_few_vectors_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 64 vectors"):
        VectorIndex.build(_unit(10), "IVF64,Flat")


def test_auto_factory_by_size() -> None:
    cfg = IndexConfig()
    assert factory_for(1000, cfg) == "Flat"
    assert factory_for(1_000_000, cfg) == "IVF4000,Flat"
    assert factory_for(10, IndexConfig(factory="HNSW32")) == "HNSW32"


@pytest.mark.gpu
@pytest.mark.skipif(gpu_count() == 0, reason="needs faiss-gpu and a CUDA GPU")
def test_gpu_index_matches_cpu() -> None:
    base, q = _unit(2000), _unit(5, seed=4)
    index = VectorIndex.build(base, "Flat")
    assert index.on_gpu
    _, rows = index.search(q, 10)
    assert (rows == np.argsort(-(q @ base.T), axis=1)[:, :10]).all()
