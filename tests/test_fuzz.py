"""Property-based fuzzing (hypothesis) through the faces people and programs use.

Whatever arrives - a message of any characters and numbers, an identity of any shape, a
catalog row of any values - the result is a reply (or a named refusal), every item shown is in
the catalog, and a refused call stores nothing.
"""

from __future__ import annotations

import json
import math
import sqlite3
import string
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatrec.bundle import Bundle
from chatrec.catalog import CatalogError, load_catalog_file
from chatrec.recommender import ChatRecommender
from chatrec.store import Store
from chatrec.types import MAX_K
from ui.handlers import Handlers, Recommenders

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Numbers as people (and attackers) write them.
NUMBER = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e308", "10^9", "-0", "9" * 400, "0x1F", "1,000,000", "½", "٣٠٠", "∞"]),
)
WORDS = st.sampled_from(
    ["a TV", "laptop", "under $", "over", "from year", "before", "recommend", "items", "cheaper",
     "not that one", "the second one", "headphones", "between", "and", "k", "👍", "<b>", "'; DROP"]
)  # fmt: skip
MESSAGE = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(WORDS, NUMBER, st.text(string.punctuation, max_size=3)), max_size=12).map(
        " ".join
    ),
    st.binary(max_size=64),
    st.none(),
    st.integers(),
)


@given(messages=st.lists(MESSAGE, min_size=1, max_size=4))
@example(messages=["a TV over 1e999"])  # what the outside probe tried
@example(messages=["a TV under $" + "9" * 400, "cheaper"])
@example(messages=["recommend 10^9 items", "under $-5", "from year 99999"])
@FUZZ
def test_any_message_gets_a_reply_of_catalog_items(
    tiny_recommender: ChatRecommender, messages: list[Any]
) -> None:
    session = uuid.uuid4().hex  # each example its own conversation
    for n, message in enumerate(messages):
        reply = tiny_recommender.chat(message, session)
        assert isinstance(reply.text, str) and reply.text.strip(), (n, message)
        assert len(reply.items) <= MAX_K
        for item in reply.items:
            assert item.item_id in tiny_recommender.catalog
        assert "inf" not in reply.text.lower().replace("info", "").replace("inform", "")
        assert "nan" not in reply.text.split()


@pytest.fixture
def stored(tmp_path: Path, tiny_bundle: Bundle, tiny_recommender: ChatRecommender) -> Handlers:
    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    rec = ChatRecommender(
        tiny_bundle, tiny_recommender.embedder, tiny_recommender.lexicon, store=store
    )
    handlers = Handlers(Recommenders(factory=lambda catalog, **kw: rec))
    handlers.db_path = tmp_path / "fuzz.db"  # type: ignore[attr-defined]
    return handlers


def _counts(path: Path) -> tuple[int, ...]:
    with sqlite3.connect(path) as db:
        return tuple(
            db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("users", "sessions", "turns", "feedback", "profiles")
        )


JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
IDENTITY = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {},
        optional={
            "user": st.one_of(st.text(max_size=70), st.sampled_from(["guest-0", "shopper1"])),
            "token": st.text(max_size=80),
            "session": st.text(max_size=80),
            "catalog": st.one_of(st.text(max_size=10), st.sampled_from(["store", "movies"])),
        },
    ),
)


@given(
    message=st.one_of(st.text(max_size=100), JSONISH),
    catalog=st.one_of(st.sampled_from(["store", "", "movies"]), JSONISH),
    lam=st.one_of(st.floats(), st.integers(), JSONISH),
    ident=IDENTITY,
)
@FUZZ
def test_any_identity_and_arguments_through_the_api(
    stored: Handlers, message: Any, catalog: Any, lam: Any, ident: Any
) -> None:
    path = stored.db_path  # type: ignore[attr-defined]
    before = _counts(path)
    out = list(stored.chat_api(message, catalog, lam, ident, None))  # type: ignore[arg-type]
    assert out, "no reply"
    text, who = out[-1]
    assert isinstance(text, str) and text.strip() and isinstance(who, dict)
    refused = text.startswith("Sorry, I can't take that request") or text == (
        "Please reload the page."
    )
    if refused:
        assert _counts(path) == before
    else:  # a guest was made and answered: their rows only
        assert who["user"].startswith("guest-") or who == {}
    assert "Traceback" not in text


ROW_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.text(max_size=8), max_size=3),
)
ROW = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=10), st.integers()),
        "title": st.text(max_size=30),
    },
    optional={
        k: ROW_VALUE
        for k in ("price", "price_max", "rating", "review_count", "year", "categories", "text")
    },
)


@given(rows=st.lists(ROW, min_size=1, max_size=6))
@FUZZ
def test_any_catalog_row_is_loaded_clean_or_refused_by_file_and_line(
    tmp_path: Path, rows: list[dict[str, Any]]
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    try:
        catalog = load_catalog_file(path, name="fuzz")
    except CatalogError as err:
        assert f"{path.name}:" in str(err)  # names the file and line
        return
    for item in catalog:
        for field in ("price", "price_max", "rating", "review_count", "year"):
            value = getattr(item, field)
            assert value is None or math.isfinite(value), (field, value)
        assert item.price is None or item.price >= 0
