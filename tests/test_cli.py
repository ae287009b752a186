"""The `chatrec` command as a user runs it (a real subprocess, real models, real bundles)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatrec.catalog import Catalog, load_catalog_file
from chatrec.datasets import data_dir, store

from .conftest import FIXTURES, REPO

CHATREC = [sys.executable, "-m", "chatrec.cli"]


def run(*args: str, cwd: Path = REPO, llm: bool = False) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess; ``ask`` without the language model unless ``llm``: the
    filters, references and state under test do not depend on it, and it costs seconds a turn.
    """
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if args and args[0] == "ask" and not llm:
        args = (*args, "--no-llm")
    return subprocess.run(
        [*CHATREC, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
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


def _batch(
    tmp_path: Path, catalog: str, lines: list[tuple[str, str]], llm: bool = False
) -> list[dict]:
    batch = tmp_path / f"{catalog}.jsonl"
    batch.write_text("".join(json.dumps({"session": s, "message": m}) + "\n" for s, m in lines))
    p = run("ask", "--catalog", catalog, "--json", "--batch", str(batch), llm=llm)
    assert p.returncode == 0, p.stderr
    replies = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(replies) == len(lines)
    return replies


MOVIE_TURNS = [
    ("t", "recommend a thriller"),
    ("t", "only ones from the 70s"),
    ("f", "more like Fargo"),
    ("o", "recommend a comedy"),
    ("o", "show me other options"),
    ("o", "different ones"),
    ("o", "something else"),
]
STORE_TURNS = [
    ("l", "show me laptops"),
    ("l", "only under $800"),
    ("o", "show me laptops"),
    ("o", "show me other options"),
    ("o", "different ones"),
    ("o", "something else"),
    ("t", "show me TVs"),
    ("t", "cheaper than those"),
]


@pytest.fixture(scope="module")
def movie_replies(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    # The acceptance runs use the whole pipeline, language model included (rerank + explain).
    return _batch(tmp_path_factory.mktemp("movies"), "movies", MOVIE_TURNS, llm=True)


@pytest.fixture(scope="module")
def store_replies(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return _batch(tmp_path_factory.mktemp("store"), "store", STORE_TURNS, llm=True)


@pytest.fixture(scope="module")
def films() -> Catalog:
    from chatrec.config import RuntimeConfig
    from chatrec.datasets import movielens

    return movielens.load(RuntimeConfig().cache_dir).catalog


@pytest.mark.integration
def test_movies_thriller_then_70s_gives_1970s_thrillers(
    movie_replies: list[dict], films: Catalog
) -> None:
    thrillers, seventies = movie_replies[0], movie_replies[1]
    assert all("Thriller" in films.get(i["item_id"]).categories for i in thrillers["items"])
    assert seventies["intent"] == "refine" and seventies["items"]
    for it in seventies["items"]:
        film = films.get(it["item_id"])
        assert "Thriller" in film.categories and 1970 <= film.year <= 1979, film.title


@pytest.mark.integration
def test_movies_more_like_fargo_is_crime_and_thrillers_without_fargo(
    movie_replies: list[dict], films: Catalog
) -> None:
    items = movie_replies[2]["items"]
    fargo = next(it for it in films if it.title == "Fargo (1996)")
    assert len(items) == 5 and fargo.id not in {i["item_id"] for i in items}
    genres = [set(films.get(i["item_id"]).categories) for i in items]
    assert sum(bool(g & set(fargo.categories)) for g in genres) >= 2
    assert sum(bool(g & {"Crime", "Thriller"}) for g in genres) >= 3
    assert "More like Fargo (1996)" in movie_replies[2]["text"]


@pytest.mark.integration
def test_movies_other_options_never_repeat(movie_replies: list[dict]) -> None:
    _never_repeat(movie_replies[3:7])


@pytest.mark.integration
def test_store_laptops_then_under_800(store_replies: list[dict]) -> None:
    catalog = store.load(data_dir())
    cheap = store_replies[1]
    assert cheap["intent"] == "refine" and len(cheap["items"]) == 5
    for it in cheap["items"]:
        item = catalog.get(it["item_id"])
        assert any("Laptop" in c for c in item.categories) and item.price < 800


@pytest.mark.integration
def test_store_other_options_never_repeat(store_replies: list[dict]) -> None:
    _never_repeat(store_replies[2:6])


@pytest.mark.integration
def test_store_cheaper_than_those_tvs(store_replies: list[dict]) -> None:
    catalog = store.load(data_dir())
    shown, cheaper = store_replies[6], store_replies[7]
    floor = min(catalog.get(i["item_id"]).price for i in shown["items"])
    assert cheaper["intent"] == "refine" and cheaper["items"]
    for it in cheaper["items"]:
        item = catalog.get(it["item_id"])
        assert "TVs" in item.categories and not item.addon and item.price < floor


def _never_repeat(replies: list[dict]) -> None:
    seen: set[str] = set()
    for reply in replies:
        ids = [i["item_id"] for i in reply["items"]]
        assert len(ids) == 5 and not seen & set(ids), reply["text"]
        seen |= set(ids)


@pytest.mark.integration
def test_store_questions_cheaper_and_thumbs_down_through_ask_batch(tmp_path: Path) -> None:
    from chatrec.facts import price_text

    lines = [
        {"session": "w", "message": "Show me some smart watches"},
        {"session": "w", "message": "What does the second one cost?"},
        {"session": "r", "message": "I need a wifi router"},
        {"session": "r", "message": "any cheaper options?"},
        {"session": "d", "message": "Show me some smart watches"},
        {"session": "d", "feedback": "down", "item": 1},
        {"session": "d", "message": "how much is the Nintendo GameCube?"},
        {"session": "d", "message": "what's your return policy?"},
    ]
    batch = tmp_path / "b.jsonl"
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = run("ask", "--catalog", "store", "--json", "--batch", str(batch))
    assert p.returncode == 0, p.stderr
    watches, cost, routers, cheaper, shown, after, gamecube, policy = [
        json.loads(line) for line in p.stdout.splitlines()
    ]
    catalog = load_catalog_file(data_dir() / "store" / "catalog.jsonl")
    second = catalog.get(watches["items"][1]["item_id"])
    assert cost["intent"] == "product_question" and cost["items"] == []
    assert cost["text"].startswith(second.title) and price_text(second) in cost["text"]
    top = min(catalog.get(i["item_id"]).price for i in routers["items"])
    assert cheaper["items"], cheaper["text"]
    for it in (catalog.get(i["item_id"]) for i in cheaper["items"]):
        assert "Routers, Wifi Extenders & Modems" in it.categories and it.price < top
    gone = shown["items"][0]["item_id"]
    assert after["items"] and gone not in {i["item_id"] for i in after["items"]}
    assert f"won't suggest {catalog.get(gone).title}" in after["text"]
    assert gamecube["text"].startswith("Sorry, we don't carry the Nintendo GameCube.")
    assert "within 30 days of delivery" in policy["text"]


@pytest.mark.integration
def test_store_eval_reports_qa_onboarding_and_feedback(tmp_path: Path) -> None:
    p = run("eval", "--catalog", "store", "--no-llm", "--json", "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert result["qa"]["cases"] >= 90 and result["qa"]["accuracy"] >= 0.9
    assert result["qa"]["invented_numbers"] == 0
    assert result["onboarding"]["precision@5"] >= 0.7
    assert result["feedback"]["changed_as_asked"] >= 0.9
    assert (tmp_path / "store.md").read_text().startswith("# Store evaluation")


@pytest.mark.integration
def test_eval_explanations_prints_the_contract(tmp_path: Path) -> None:
    """`chatrec eval --task explanations --json`: one JSON object with the contract's keys."""
    requests = tmp_path / "requests.jsonl"
    rows = [
        {"id": "t-1", "catalog": "movies", "message": "a funny film", "liked": []},
        {"id": "t-2", "catalog": "movies", "message": "more like this please", "liked": [
            "Toy Story (1995)", "Aladdin (1992)"]},
        {"id": "t-3", "catalog": "store", "message": "a tv", "liked": []},
    ]  # fmt: skip
    requests.write_text("".join(json.dumps(r) + "\n" for r in rows))
    p = run(
        "eval", "--catalog", "movies", "--task", "explanations", "--no-llm", "--json",
        "--turns", str(requests), "--out", str(tmp_path),
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert set(out) == {"model_share", "unsupported", "personalised", "distinct2", "words_p50", "n"}
    assert out["n"] == 6 and out["model_share"] == 0.0  # two requests, three picks, templates
    assert out["unsupported"] == 0 and out["personalised"] == 1.0  # the templates name them
    saved = json.loads((tmp_path / "explanations-movies.json").read_text())
    assert all(t["source"] == "template" and t["facts"] for t in saved["texts"])
