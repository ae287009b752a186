"""FAISS index: build from an ``index_factory`` string, search, save and load; GPU when present.

Input: (n, d) float32 unit vectors. Output of ``search``: (q, k) float32 inner products and
(q, k) int64 row numbers (-1 where fewer than k rows qualify). Row i is catalog item i.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from chatrec.config import IndexConfig


def factory_for(n: int, cfg: IndexConfig) -> str:
    """The factory string for n vectors: the configured one, or exact / IVF by size."""
    if cfg.factory != "auto":
        return cfg.factory
    if n < cfg.ivf_threshold:
        return "Flat"
    return f"IVF{int(4 * math.sqrt(n))},Flat"


def gpu_count() -> int:
    """GPUs the installed faiss can use (0 with faiss-cpu)."""
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


class VectorIndex:
    """A faiss index over catalog rows; searches on every GPU when faiss sees any."""

    def __init__(self, index: faiss.Index, factory: str, nprobe: int = 32):
        self.factory = factory
        self.nprobe = nprobe
        self.cpu_index = index
        self._set_nprobe(index)
        self.on_gpu = gpu_count() > 0
        # Sharded over all GPUs for big catalogs; the CPU copy stays for saving.
        self.index = faiss.index_cpu_to_all_gpus(index) if self.on_gpu else index

    def _set_nprobe(self, index: faiss.Index) -> None:
        ivf = faiss.try_extract_index_ivf(index)
        if ivf is not None:
            ivf.nprobe = self.nprobe

    @property
    def ntotal(self) -> int:
        return int(self.cpu_index.ntotal)

    @classmethod
    def build(
        cls, vectors: np.ndarray, factory: str, nprobe: int = 32, seed: int = 0
    ) -> VectorIndex:
        """Train (if the factory needs it) and add ``vectors`` (n, d) float32."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        index = faiss.index_factory(d, factory, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            ivf = faiss.try_extract_index_ivf(index)
            if ivf is not None and n < ivf.nlist:
                raise ValueError(
                    f"index {factory!r} needs at least {ivf.nlist} vectors to train, got {n}; "
                    "use 'Flat' or fewer lists"
                )
            if ivf is not None:
                ivf.cp.seed = seed
            index.train(vectors)
        index.add(vectors)
        return cls(index, factory, nprobe)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by inner product for each query (q, d).

        Args:
            queries: (q, d) float32 unit vectors.
            k: rows per query.
            allowed: optional sorted int64 row ids; only these rows may be returned (faiss
                ``IDSelectorBatch``, evaluated inside the search, so filtered queries still get k
                results when k rows qualify).
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, self.ntotal))
        if allowed is None:
            return self.index.search(queries, k)
        if len(allowed) == 0:
            return (
                np.full((len(queries), k), -np.inf, dtype=np.float32),
                np.full((len(queries), k), -1, dtype=np.int64),
            )
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        ivf = faiss.try_extract_index_ivf(self.cpu_index)
        params = (
            faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            if ivf is not None
            else faiss.SearchParameters(sel=selector)
        )
        # Selectors run on the CPU index (GPU indexes support only some of them).
        return self.cpu_index.search(queries, min(k, len(allowed)), params=params)

    def save(self, path: Path) -> None:
        faiss.write_index(self.cpu_index, str(path))

    @classmethod
    def load(cls, path: Path, factory: str, nprobe: int = 32) -> VectorIndex:
        return cls(faiss.read_index(str(path)), factory, nprobe)
