"""The on-disk bundle of one catalog: items, embeddings, FAISS index, config and manifest.

``artifacts/<catalog>/`` holds::

    items.jsonl      the catalog as built (row i = vector i)
    embeddings.npy   (n, d) float32 unit rows
    index.faiss      the FAISS index over them
    config.json      the stage configs it was built with
    manifest.json    format, versions, fingerprint (catalog + model + config), file hashes

A bundle is written into a temporary folder and renamed into place, manifest last, so a
crash never leaves a half-written bundle that looks whole. On load, a bundle whose
fingerprint differs (catalog, model or config changed) or whose files do not match their
hashes is rebuilt, never silently used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.catalog import Catalog
from chatrec.config import EmbedConfig, IndexConfig
from chatrec.embed import Embedder
from chatrec.index import VectorIndex, factory_for

log = logging.getLogger(__name__)

FORMAT = 1
FILES = ("items.jsonl", "embeddings.npy", "index.faiss", "config.json")


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("chatrec", "faiss-cpu", "faiss-gpu", "sentence-transformers", "torch", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fingerprint(
    catalog: Catalog, embedder: Embedder, embed: EmbedConfig, index: IndexConfig
) -> str:
    """Changes when anything the bundle is built from changes."""
    parts = {
        "format": FORMAT,
        "catalog": catalog.content_hash(),
        "model": embedder.fingerprint,
        "embed": embed.model_dump(),
        "index": index.model_dump(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Bundle:
    """A catalog with its vectors and index, ready to search."""

    catalog: Catalog
    embeddings: np.ndarray  # (n, d) float32, unit rows
    index: VectorIndex
    manifest: dict[str, Any]


class StaleBundle(Exception):
    """Why a bundle on disk cannot be used as it is."""


def read(folder: Path, catalog: Catalog, expected_fp: str, index_cfg: IndexConfig) -> Bundle:
    """Open a bundle, checking fingerprint and file hashes. Raises StaleBundle."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise StaleBundle("no bundle" if not folder.exists() else "no manifest (half-written?)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StaleBundle(f"manifest is corrupt ({e})") from e
    if manifest.get("fingerprint") != expected_fp:
        raise StaleBundle("catalog, model or config changed since it was built")
    for name, digest in manifest.get("files", {}).items():
        path = folder / name
        if not path.exists() or _sha256(path) != digest:
            raise StaleBundle(f"{name} is missing or corrupt")
    try:
        embeddings = np.load(folder / "embeddings.npy")
        index = VectorIndex.load(folder / "index.faiss", manifest["factory"], index_cfg.nprobe)
    except (ValueError, OSError, RuntimeError, KeyError) as e:
        raise StaleBundle(f"cannot be read ({e})") from e
    if embeddings.shape[0] != len(catalog) or index.ntotal != len(catalog):
        raise StaleBundle("row count differs from the catalog")
    return Bundle(catalog, embeddings, index, manifest)


def build(
    folder: Path,
    catalog: Catalog,
    embedder: Embedder,
    embed_cfg: EmbedConfig,
    index_cfg: IndexConfig,
    progress: bool = True,
) -> Bundle:
    """Embed every item, index, and write the bundle atomically into ``folder``."""
    t0 = time.perf_counter()
    fp = fingerprint(catalog, embedder, embed_cfg, index_cfg)
    embeddings = embedder.encode_document([it.document() for it in catalog], progress=progress)
    factory = factory_for(len(catalog), index_cfg)
    index = VectorIndex.build(embeddings, factory, index_cfg.nprobe)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        catalog.to_jsonl(tmp / "items.jsonl")
        np.save(tmp / "embeddings.npy", embeddings)
        index.save(tmp / "index.faiss")
        (tmp / "config.json").write_text(
            json.dumps({"embed": embed_cfg.model_dump(), "index": index_cfg.model_dump()}, indent=2)
        )
        manifest = {
            "format": FORMAT,
            "catalog": catalog.name,
            "source": catalog.source,
            "fingerprint": fp,
            "n_items": len(catalog),
            "dim": int(embeddings.shape[1]),
            "factory": factory,
            "embedder": embedder.fingerprint,
            "catalog_hash": catalog.content_hash(),
            "versions": _versions(),
            "build_seconds": round(time.perf_counter() - t0, 3),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {name: _sha256(tmp / name) for name in FILES},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        _swap_into_place(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Bundle(catalog, embeddings, index, manifest)


def _swap_into_place(tmp: Path, folder: Path) -> None:
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{time.time_ns()}")
        folder.rename(old)
    try:
        tmp.rename(folder)
    except OSError:
        # Another process put a bundle there first; keep theirs (same inputs, same result).
        if not folder.exists() and old is not None:
            old.rename(folder)
            old = None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def load_or_build(
    root: Path,
    catalog: Catalog,
    embedder: Embedder,
    embed_cfg: EmbedConfig,
    index_cfg: IndexConfig,
    rebuild: bool = False,
    progress: bool = True,
) -> Bundle:
    """The bundle for ``catalog`` under ``root``, rebuilt when missing, stale or corrupt."""
    folder = root / catalog.name
    if not rebuild:
        try:
            return read(
                folder, catalog, fingerprint(catalog, embedder, embed_cfg, index_cfg), index_cfg
            )
        except StaleBundle as why:
            log.warning("building bundle %s: %s", folder, why)
    return build(folder, catalog, embedder, embed_cfg, index_cfg, progress=progress)
