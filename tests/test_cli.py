"""The `chatrec` command as a user runs it (a real subprocess, real models, real bundles)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatrec.catalog import load_catalog_file
from chatrec.datasets import data_dir, store

from .conftest import FIXTURES, REPO

CHATREC = [sys.executable, "-m", "chatrec.cli"]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [*CHATREC, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


def test_unknown_catalog_is_one_line_and_nonzero() -> None:
    p = run("ask", "--catalog", "nope", "--json", "hi")
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [
        "error: unknown catalog 'nope': use one of movies, store or a .jsonl/.csv file"
    ]


def test_missing_catalog_file_and_missing_batch_file(tmp_path: Path) -> None:
    p = run("ask", "--catalog", str(tmp_path / "x.jsonl"), "hi")
    assert p.returncode == 2 and "catalog file not found" in p.stderr
    p = run("ask", "--batch", str(tmp_path / "none.jsonl"), "--json")
    assert p.returncode == 2 and "batch file not found" in p.stderr


def test_bad_catalog_is_refused_and_existing_bundle_untouched(tmp_path: Path) -> None:
    good = tmp_path / "shop.jsonl"
    good.write_text((FIXTURES / "tiny_catalog.jsonl").read_text())
    bundle = tmp_path / "artifacts" / "shop"
    bundle.mkdir(parents=True)
    (bundle / "manifest.json").write_text('{"keep": true}')
    good.write_text(good.read_text() + '{"id": "x", "title": ""}\n{"id": "tv1", "title": "Dup"}\n')
    p = run("build", "--catalog", str(good), "--artifacts", str(tmp_path / "artifacts"))
    assert p.returncode == 2
    assert f"{good}:21: title" in p.stderr and f"{good}:22: duplicate id 'tv1'" in p.stderr
    assert (bundle / "manifest.json").read_text() == '{"keep": true}'


def _items(p: subprocess.CompletedProcess[str]) -> list[dict]:
    assert p.returncode == 0, p.stderr
    reply = json.loads(p.stdout)
    assert set(reply) == {"text", "intent", "items"}
    return reply["items"]


@pytest.mark.integration
def test_store_tv_under_500_returns_televisions() -> None:
    items = _items(run("ask", "--catalog", "store", "--json", "a TV under $500"))
    catalog = store.load(data_dir())
    assert len(items) == 5
    for it in items:
        real = catalog.get(it["item_id"])  # KeyError = an item not in the catalog
        assert real.title == it["title"]
        assert "TVs" in real.categories and not real.addon
        assert " TV" in real.title and "Mount" not in real.title
        assert real.price is not None and real.price <= 500
        assert it["attributes"]["price"] == real.price
        assert f"${real.price:,.2f}" in it["explanation"]


@pytest.mark.integration
def test_movies_animated_for_kids_returns_real_films() -> None:
    from chatrec.config import RuntimeConfig
    from chatrec.datasets import movielens

    items = _items(run("ask", "--catalog", "movies", "--json", "an animated movie for kids"))
    catalog = movielens.load(RuntimeConfig().cache_dir).catalog
    assert len(items) == 5
    for it in items:
        film = catalog.get(it["item_id"])
        assert film.title == it["title"] and it["item_id"].isdigit()
        assert {"Animation", "Children's"} & set(film.categories)
    assert sum("Animation" in catalog.get(it["item_id"]).categories for it in items) >= 3


@pytest.mark.integration
def test_batch_keeps_state_per_session_and_survives_bad_lines(tmp_path: Path) -> None:
    batch = tmp_path / "b.jsonl"
    lines = [
        {"session": "a", "message": "show me laptops"},
        {"session": "b", "message": "a smart watch"},
        "{broken",
        {"session": "a", "message": "only under $800"},
        {"session": "a", "message": "show me other options"},
        {"session": "b", "message": ""},
    ]
    batch.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    p = run("ask", "--catalog", "store", "--json", "--batch", str(batch))
    assert p.returncode == 0, p.stderr
    replies = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(replies) == len(lines)
    catalog = load_catalog_file(data_dir() / "store" / "catalog.jsonl")
    laptops, watches, bad, cheap, more, empty = replies
    assert bad["intent"] == "error" and ":3:" in bad["text"]
    assert all("Smart Watches" in catalog.get(i["item_id"]).categories for i in watches["items"])
    assert cheap["intent"] == "refine" and cheap["items"]
    for it in cheap["items"] + more["items"]:
        item = catalog.get(it["item_id"])
        assert any("Laptop" in c for c in item.categories) and item.price <= 800
    shown = {i["item_id"] for i in laptops["items"] + cheap["items"]}
    assert more["items"] and not shown & {i["item_id"] for i in more["items"]}
    assert empty["intent"] == "chit_chat" and empty["items"] == []
