from __future__ import annotations

import pytest

from chatrec.constraints import Constraints, Lexicon, parse
from chatrec.datasets.movielens import GENRE_ALIASES
from chatrec.datasets.store import ADDON_WORDS, ALIASES

STORE = Lexicon(ALIASES, ADDON_WORDS)
MOVIES = Lexicon(GENRE_ALIASES)


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("a TV under $500", None, 500),
        ("laptop below 800 dollars", None, 800),
        ("between 200 and 400", 200, 400),
        ("$200-$400 please", 200, 400),
        ("from $1,000 to $1,500", 1000, 1500),
        ("over $100", 100, None),
        ("at least 2k", 2000, None),
        ("1.5k or less", None, 1500),
        ("around $500", 400, 600),
        ("a tv", None, None),
    ],
)
def test_price(text: str, lo: float | None, hi: float | None) -> None:
    c = parse(text, STORE)
    assert (c.price_min, c.price_max) == (lo, hi)


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("a thriller from the 70s", 1970, 1979),
        ("90s sci-fi", 1990, 1999),
        ("something from the 1980s", 1980, 1989),
        ("before 1980", None, 1979),
        ("after 1990", 1991, None),
        ("a film from 1994", 1994, 1994),
        ("something recent", 1995, None),
        ("a comedy", None, None),
    ],
)
def test_years(text: str, lo: int | None, hi: int | None) -> None:
    c = parse(text, MOVIES, newest_year=1998, has_prices=False)
    assert (c.year_min, c.year_max) == (lo, hi)


def test_categories_negation_and_longest_phrase() -> None:
    c = parse("not a laptop, maybe a tablet", STORE)
    assert c.categories == ("iPad & Tablets",)
    assert "Laptops & Notebook Computers" in c.exclude_categories
    assert parse("a gaming laptop", STORE).categories == ("Gaming Laptops & Notebook Computers",)
    assert parse("a fire tv stick", STORE).categories == ("Streaming Devices",)
    m = parse("no horror please, 90s sci-fi", MOVIES, newest_year=1998)
    assert m.categories == ("Sci-Fi",) and m.exclude_categories == ("Horror",)
    kids = parse("an animated movie for kids", MOVIES, newest_year=1998)
    assert set(kids.categories) == {"Animation", "Children's"}


def test_addons_only_when_asked() -> None:
    assert parse("a TV under $500", STORE).allow_addons is False
    assert parse("a TV mount", STORE).allow_addons is True


def test_catalog_without_prices_ignores_money_words() -> None:
    assert parse("under $5", MOVIES, newest_year=1998, has_prices=False).price_max is None


def test_lexicon_from_category_names() -> None:
    lex = Lexicon.from_categories(["Laptops & Notebooks", "Smart Watches"])
    assert parse("a laptop", lex).categories == ("Laptops & Notebooks",)
    assert parse("smart watch", lex).categories == ("Smart Watches",)


def test_describe() -> None:
    c = Constraints(price_max=500, categories=("TVs",))
    assert c.describe() == "TVs, under $500"
    assert Constraints().is_empty()


def test_negated_phrases_are_left_out_of_the_query_text() -> None:
    c = parse("90s sci-fi, no horror", MOVIES, newest_year=1998)
    assert c.positive_text == "90s sci-fi"
    assert parse("Not a laptop, a tablet please", STORE).positive_text == "a tablet please"
