from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chatrec import bundle as bundles
from chatrec.catalog import Catalog, Item
from chatrec.config import ChatRecConfig, IndexConfig

CFG = ChatRecConfig()


def _build(root: Path, catalog: Catalog, embedder, index: IndexConfig = CFG.index):
    return bundles.load_or_build(root, catalog, embedder, CFG.embed, index, progress=False)


def test_bundle_files_manifest_and_reuse(tmp_path: Path, tiny_catalog: Catalog, embedder) -> None:
    b = _build(tmp_path, tiny_catalog, embedder)
    folder = tmp_path / "tiny"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*bundles.FILES, "manifest.json"])
    m = json.loads((folder / "manifest.json").read_text())
    assert m["n_items"] == 20 and m["factory"] == "Flat" and "faiss-cpu" in m["versions"]
    assert b.embeddings.shape == (20, embedder.dim)
    again = _build(tmp_path, tiny_catalog, embedder)
    assert again.manifest["created"] == m["created"]  # reused, not rebuilt
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_changed_catalog_or_config_rebuilds(
    tmp_path: Path, tiny_catalog: Catalog, embedder
) -> None:
    first = _build(tmp_path, tiny_catalog, embedder)
    items = list(tiny_catalog)
    items[0] = items[0].model_copy(update={"price": 1.0})
    changed = _build(tmp_path, Catalog("tiny", items), embedder)
    assert changed.manifest["fingerprint"] != first.manifest["fingerprint"]
    other = _build(tmp_path, Catalog("tiny", items), embedder, IndexConfig(factory="HNSW16"))
    assert other.manifest["factory"] == "HNSW16"


@pytest.mark.parametrize("damage", ["index", "manifest", "missing", "embeddings"])
def test_corrupt_or_half_written_bundle_is_rebuilt(
    tmp_path: Path, tiny_catalog: Catalog, embedder, damage: str
) -> None:
    _build(tmp_path, tiny_catalog, embedder)
    folder = tmp_path / "tiny"
    if damage == "index":
        (folder / "index.faiss").write_bytes(b"garbage")
    elif damage == "manifest":
        (folder / "manifest.json").write_text('{"format": 1, "finger')
    elif damage == "missing":
        (folder / "manifest.json").unlink()
    else:
        np.save(folder / "embeddings.npy", np.zeros((3, 3), dtype=np.float32))
    with pytest.raises(bundles.StaleBundle):
        fp = bundles.fingerprint(tiny_catalog, embedder, CFG.embed, CFG.index)
        bundles.read(folder, tiny_catalog, fp, CFG.index)
    fixed = _build(tmp_path, tiny_catalog, embedder)
    assert fixed.index.ntotal == 20
    fp = bundles.fingerprint(tiny_catalog, embedder, CFG.embed, CFG.index)
    assert bundles.read(folder, tiny_catalog, fp, CFG.index).index.ntotal == 20


def test_failed_build_leaves_the_old_bundle_untouched(
    tmp_path: Path, tiny_catalog: Catalog, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    _build(tmp_path, tiny_catalog, embedder)
    before = {p.name: p.read_bytes() for p in (tmp_path / "tiny").iterdir()}

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(bundles.np, "save", boom)
    bigger = Catalog("tiny", [*tiny_catalog, Item(id="new", title="New thing")])
    with pytest.raises(OSError, match="disk full"):
        _build(tmp_path, bigger, embedder)
    after = {p.name: p.read_bytes() for p in (tmp_path / "tiny").iterdir()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
