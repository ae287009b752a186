from __future__ import annotations

import pytest

from chatrec.catalog import Catalog
from chatrec.constraints import Lexicon, item_specs, parse
from chatrec.datasets.movielens import GENRE_ALIASES
from chatrec.datasets.store import ADDON_WORDS, ALIASES
from chatrec.filters import SpecTable
from chatrec.types import Constraints, Spec

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
        ("no more than $600", None, 600),
        ("I don't want to spend more than $450", None, 450),
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
        ("something new", 1995, None),
        ("hi, I'm new here, I like comedies", None, None),
        ("I am new to this", None, None),
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


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("a tv under 55 inches", None, None),  # a size, not a price
        ("a laptop with at least 16GB RAM", None, None),
        ("over $100 but under $300", 100, 300),
        ("under 2 hours", None, None),
        ("at least 4 stars", None, None),
    ],
)
def test_numbers_with_units_are_not_prices(text: str, lo: float | None, hi: float | None) -> None:
    c = parse(text, STORE)
    assert (c.price_min, c.price_max) == (lo, hi)


def test_contradicting_bounds_are_problems_not_constraints() -> None:
    c = parse("a tv under $200 but over $500", STORE)
    assert (c.price_min, c.price_max) == (None, None)
    assert c.problems == ("a price under $200 and over $500 can't both hold",)
    m = parse("a 90s film from after 2005", MOVIES, newest_year=1998, has_prices=False)
    assert (m.year_min, m.year_max) == (None, None)
    assert m.problems == ("the 1990s and after 2005 don't overlap",)
    ok = parse("a thriller from the 90s, after 1995", MOVIES, newest_year=1998, has_prices=False)
    assert (ok.year_min, ok.year_max, ok.problems) == (1996, 1999, ())
    assert parse("films between 1970 and 1985", MOVIES, newest_year=1998).year_max == 1985


@pytest.mark.parametrize(
    ("text", "name", "lo", "hi", "shown"),
    [
        ("a 65 inch tv", "screen", 64.5, 65.99, '65" screen'),
        ('a 15" laptop', "screen", 14.5, 15.99, '15" screen'),
        ('a monitor 27" or bigger', "screen", 26.5, None, '27"+ screen'),
        ("a tv under 55 inches", "screen", None, 55.99, 'screen up to 55"'),
        ("a laptop with at least 16GB RAM", "ram", 16, None, "16GB+ RAM"),
        ("16 gb of memory", "ram", 16, None, "16GB+ RAM"),
        ("a 1tb ssd", "storage", 1000, None, "1TB+ storage"),
        ("512GB storage", "storage", 512, None, "512GB+ storage"),
        ("a 144hz monitor", "refresh", 144, None, "144Hz+"),
        ("rated 4.5+", "rating", 4.5, None, "rated 4.5+"),
        ("at least 4 stars", "rating", 4, None, "rated 4+"),
        ("an OLED tv", "OLED", None, None, "OLED"),
        ("a 4k tv under 4k", "4K", None, None, "4K"),
    ],
)
def test_specs(text: str, name: str, lo: float | None, hi: float | None, shown: str) -> None:
    (spec,) = parse(text, STORE).specs
    assert (spec.name, spec.lo, spec.hi, spec.text) == (name, lo, hi, shown)


def test_a_1tb_ssd_is_still_the_storage_category() -> None:
    assert parse("a 1tb ssd", STORE).categories == ("Hard Drives, SSD & Storage",)
    assert parse("a laptop with 10 hours battery life", STORE).categories == (
        "Laptops & Notebook Computers",
        "Gaming Laptops & Notebook Computers",
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("a phone with a 5000 mAh battery", "battery life"),
        ("a laptop under 3 lbs", "weight"),
        ("a 48MP camera", "camera megapixels"),
        ("a comedy starring Tom Hanks", "cast or director"),
        ("a movie under 2 hours", "running time"),
        ("a rated R thriller", "age rating"),
    ],
)
def test_specs_nobody_can_check_are_reported(text: str, label: str) -> None:
    assert label in parse(text, STORE).unsupported


def test_specs_a_catalog_lacks_are_reported() -> None:
    c = parse("a 65 inch screen", MOVIES, newest_year=1998, has_prices=False, specs={"rating"})
    assert c.specs == () and c.unsupported == ("screen size",)
    c = parse("rated 4+ comedies", MOVIES, newest_year=1998, has_prices=False, specs={"rating"})
    assert [s.name for s in c.specs] == ["rating"] and c.unsupported == ()


def test_spec_table_reads_titles_and_bullets(tiny_catalog: Catalog) -> None:
    table = SpecTable(tiny_catalog.items)
    assert {"screen", "ram", "rating", "4K", "OLED"} <= table.available
    assert item_specs(tiny_catalog.get("tv2"))[0]["screen"] == 65
    ids = [it.id for it in tiny_catalog]

    def failing(specs: tuple[Spec, ...]) -> set[str]:
        return {i for i, ok in zip(ids, table.mask(specs), strict=True) if not ok}

    big = parse("a 65 inch tv", STORE).specs
    assert failing(big) == set(ids) - {"tv2"}
    # Items that don't state a spec never pass it.
    assert "lap2" in failing(parse("16GB RAM", STORE).specs)
    assert failing(()) == set()


def test_dislike_negates_a_category() -> None:
    c = parse("I don't like horror, something funny", MOVIES, newest_year=1998)
    assert c.exclude_categories == ("Horror",) and c.categories == ("Comedy",)


@pytest.mark.parametrize(
    "text",
    [
        "a tense thriller that isn't horror",
        "a thriller that isn’t horror",
        "a thriller, but it is not a horror film",
        "a thriller, never horror",
    ],
)
def test_isnt_and_never_negate_a_category(text: str) -> None:
    c = parse(text, MOVIES, newest_year=1998)
    assert c.exclude_categories == ("Horror",) and c.categories == ("Thriller",)


def test_years_asked_of_a_catalog_without_years_are_unsupported() -> None:
    c = parse("a tv from the 70s", Lexicon({"tv": ("TVs",)}), newest_year=None)
    assert c.unsupported == ("release years",) and c.year_min is None
    assert parse("a new tv", Lexicon({}), newest_year=None).unsupported == ()


def test_watch_as_a_verb_is_no_smart_watch() -> None:
    assert parse("we mostly watch movies at home; a soundbar", STORE).categories == (
        "Soundbars & Home Theater",
    )
    assert "Smart Watches" in parse("a smart watch for running", STORE).categories


_AT_MOST = "(the most is $10,000,000)"
_AFTER = "There is nothing from after 1998 in this catalog."


@pytest.mark.parametrize(
    ("text", "lo", "hi", "named"),
    [
        # An exponent or a huge number is read whole: never "under $1" or "under $inf".
        ("a TV under $1e308", None, None, f"$1e308 is not a price I can search for {_AT_MOST}."),
        (
            "a TV under $" + "9" * 400,
            None,
            None,
            f"A 400-digit number is not a price I can search for {_AT_MOST}.",
        ),
        (
            "a tv under $10^9",
            None,
            None,
            f"$1,000,000,000 is not a price I can search for {_AT_MOST}.",
        ),
        ("a tv under $-5", None, None, "I can't search for prices below $0."),
        ("a tv under -$5", None, None, "I can't search for prices below $0."),
        ("a tv over $-5", None, None, "I can't search for prices below $0."),
        ("a budget of $-300", None, None, "I can't search for prices below $0."),
        (
            "a tv under $20,000,000",
            None,
            None,
            f"$20,000,000 is not a price I can search for {_AT_MOST}.",
        ),
        # The sane side of a range is kept.
        ("between $-5 and $100", None, 100, "I can't search for prices below $0."),
        (
            "$100-$1e12",
            100,
            None,
            f"$1,000,000,000,000 is not a price I can search for {_AT_MOST}.",
        ),
        # Exponents and multiplier words within bounds are prices.
        ("a tv under $1.5e3", None, 1500, ""),
        ("a tv over $1e3", 1000, None, ""),
        ("under 2 grand", None, 2000, ""),
        ("around $5 million", 4_000_000, 6_000_000, ""),
        ("a tv under $10,000,000", None, 10_000_000, ""),
        # A hyphen is no minus sign.
        ("an under-50 gift", None, None, ""),
        ("headphones $50-$100", 50, 100, ""),
    ],
)
def test_prices_are_read_with_bounds_and_impossible_ones_are_named(
    text: str, lo: float | None, hi: float | None, named: str
) -> None:
    c = parse(text, STORE)
    assert (c.price_min, c.price_max) == (lo, hi)
    assert c.impossible == ((named,) if named else ())
    assert c.problems == ()


@pytest.mark.parametrize(
    ("text", "lo", "hi", "named"),
    [
        ("a film from year 99999", None, None, _AFTER),
        ("movies from 3000", None, None, _AFTER),
        ("in the year 3000 please", None, None, _AFTER),
        ("the 3000s", None, None, _AFTER),
        ("a drama before the year -500", None, None, "I can't search for year -500."),
        ("movies from 500 BC", None, None, "I can't search for 500 BC."),
        ("films of the 1700s", None, None, "I can't search for the 1700s."),
        ("before 1500", None, None, "I can't search for year 1500."),
        ("a comedy from year 1995", 1995, 1995, ""),  # "year" before a year is still a year
        ("after the year 1990", 1991, None, ""),
        ("thousands of films: 1000s of them", None, None, ""),  # no decade
        ("a film from 1994", 1994, 1994, ""),
    ],
)
def test_years_no_item_can_carry_are_named(
    text: str, lo: int | None, hi: int | None, named: str
) -> None:
    c = parse(text, MOVIES, newest_year=1998, has_prices=False)
    assert (c.year_min, c.year_max) == (lo, hi)
    assert c.impossible == ((named,) if named else ())


def test_an_absurd_year_in_a_catalog_without_years_is_unsupported() -> None:
    c = parse("a tv from year 99999", STORE, newest_year=None)
    assert c.unsupported == ("release years",) and c.impossible == ()
