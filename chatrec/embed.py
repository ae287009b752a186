"""Embedding: texts -> L2-normalised float32 vectors, queries and documents apart.

Wraps a sentence-transformers model (loaded once by ``models.load_embedder`` and injected);
``encode_query``/``encode_document`` apply the model's own prompts where it has them.
Output arrays are (n, dim) float32 with unit rows, so inner product = cosine similarity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from chatrec.config import EmbedConfig, RuntimeConfig
from chatrec.models import fingerprint_folder, load_embedder, resolve_embedder


class Embedder(Protocol):
    dim: int
    fingerprint: str

    def encode_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_document(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


class SentenceEmbedder:
    """A sentence-transformers model behind the ``Embedder`` protocol."""

    def __init__(self, model: Any, batch_size: int = 64, fingerprint: str = ""):
        self.model = model
        self.batch_size = batch_size
        self.dim = int(model.get_embedding_dimension())
        self.fingerprint = fingerprint or type(model).__name__

    @classmethod
    def from_config(
        cls, cfg: EmbedConfig, runtime: RuntimeConfig | None = None
    ) -> SentenceEmbedder:
        runtime = runtime or RuntimeConfig()
        model = load_embedder(cfg.model, runtime.device, cfg.max_seq_length)
        fp = f"{fingerprint_folder(resolve_embedder(cfg.model))}:{cfg.max_seq_length}"
        return cls(model, cfg.batch_size, fp)

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        out = self.model.encode_query(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(out, dtype=np.float32)

    def encode_document(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = self.model.encode_document(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(out, dtype=np.float32)
