from __future__ import annotations

import random
import time

import pytest

from chatrec.catalog import Catalog, Item
from chatrec.mentions import TitleMatcher, normalise, title_keys


def _films() -> Catalog:
    rows = [
        ("1", "The Godfather (1972)", 400),
        ("2", "The Godfather: Part II (1974)", 200),
        ("3", "Star Wars (1977)", 580),
        ("4", "Fargo (1996)", 500),
        ("5", "Heat (1995)", 150),
        ("6", "It (1990)", 20),
        ("7", "Go (1999)", 30),
        ("8", "Big (1988)", 100),
        ("9", "Kids (1995)", 40),
        ("10", "Cape Fear (1962)", 80),
        ("11", "Cape Fear (1991)", 170),
        ("12", "Seven (Se7en) (1995)", 230),
        ("13", "Schindler's List (1993)", 300),
        ("14", "Usual Suspects, The (1995)", 260),  # MovieLens style
        ("15", "Ghost (1990)", 170),
        ("16", "Only You (1994)", 40),
        ("17", "Apple AirPods (3rd Generation) with MagSafe Charging Case", 6000),
        ("18", "Amélie (2001)", 90),
    ]
    return Catalog("films", [Item(id=i, title=t, review_count=n) for i, t, n in rows])


@pytest.fixture(scope="module")
def matcher() -> TitleMatcher:
    return TitleMatcher(_films(), reserved=["kids", "scary"])


def _found(matcher: TitleMatcher, text: str) -> list[tuple[str, str]]:
    return [(m.item_id, text[m.start : m.end]) for m in matcher.find(text)]


def test_normalise_and_title_keys() -> None:
    assert normalise("Schindler’s List: Part II & More!") == "schindlers list part 2 and more"
    keys = title_keys("Usual Suspects, The (1995)")
    assert {"the usual suspects", "usual suspects", "usual suspects 1995"} <= keys
    assert {"seven", "se7en", "seven se7en"} <= title_keys("Seven (Se7en) (1995)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("more like the godfather", [("1", "the godfather")]),
        ("similar to star wars", [("3", "star wars")]),
        ("more like Fargo", [("4", "Fargo")]),
        ("more like fargo please", [("4", "fargo")]),
        ("I loved the usual suspects", [("14", "the usual suspects")]),
        ("what about The Godfather Part 2?", [("2", "The Godfather Part 2")]),
        ("have you got Schindlers List", [("13", "Schindlers List")]),
        ("something like amelie", [("18", "amelie")]),
        ("how much are the Apple AirPods?", [("17", "Apple AirPods")]),
        ("Twelve words about Se7en and Fargo.", [("12", "Se7en"), ("4", "Fargo")]),
    ],
)
def test_exact_titles_are_found_with_spans(
    matcher: TitleMatcher, text: str, expected: list[tuple[str, str]]
) -> None:
    assert _found(matcher, text) == expected
    assert all(m.score == 1.0 for m in matcher.find(text))


def test_same_title_picks_the_most_rated_unless_the_year_says(matcher: TitleMatcher) -> None:
    (m,) = matcher.find("more like cape fear")
    assert m.item_id == "11" and m.ids == ("11", "10")
    assert _found(matcher, "more like Cape Fear (1962)")[0][0] == "10"
    assert matcher.mentioned_ids("Cape Fear is tense") == {"10", "11"}


@pytest.mark.parametrize(
    "text",
    [
        "it is a heat wave, let's go big",  # lower-case everyday words
        "It was great. Go for it!",  # capitals at the start of a sentence
        "Heat was great",  # a short title at the start of a sentence
        "I love ghost stories",  # a longer word, but it modifies the next one
        "an animated movie for kids",  # catalog vocabulary
        "A movie for Kids",  # catalog vocabulary, even capitalised
        "something with speed and only you know",
        "show me TVs under $500",
    ],
)
def test_everyday_words_are_not_titles(matcher: TitleMatcher, text: str) -> None:
    assert matcher.find(text) == []


@pytest.mark.parametrize(
    ("text", "item_id"),
    [
        ("I loved Heat", "5"),  # capitalised mid-sentence
        ("something like 'heat'", "5"),  # quoted
        ("a film like “It” please", "6"),
        ("Fargo was great", "4"),  # five letters or more: a capital is enough
        ('"Kids" by Larry Clark', "9"),  # catalog vocabulary in quotes
        ("more like ghost", "15"),  # a cue and nothing after it
        ("I want Only You", "16"),
    ],
)
def test_short_titles_count_with_a_sign_they_are_names(
    matcher: TitleMatcher, text: str, item_id: str
) -> None:
    assert [m.item_id for m in matcher.find(text)] == [item_id]


def test_fuzzy_fallback_after_a_cue(matcher: TitleMatcher) -> None:
    (m,) = matcher.find("more like the godfahter")
    assert m.item_id == "1" and 0.85 < m.score < 1.0
    assert [m.item_id for m in matcher.find("similar to star warz")] == ["3"]
    assert matcher.find("the godfahter") == []  # no cue: no guessing
    assert matcher.mentioned_ids("more like the godfahter") == set()  # checkers: exact only
    assert matcher.mentioned_ids("more like the godfahter", fuzzy=True) == {"1"}


def test_foreign_mentions_for_the_explanation_checker(matcher: TitleMatcher) -> None:
    text = "Like The Godfather, Fargo is a crime story."
    assert {m.item_id for m in matcher.foreign(text, allowed=["4"])} == {"1"}
    assert matcher.foreign("Fargo is a dark comedy.", allowed=["4"]) == []


def test_matching_is_fast_on_a_movielens_sized_catalog() -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)]
    titles = [
        " ".join(rng.sample(words, rng.randint(1, 5))) + f" ({1950 + i % 50})" for i in range(1682)
    ]
    catalog = Catalog("big", [Item(id=str(i), title=t) for i, t in enumerate(titles)])
    t0 = time.perf_counter()
    matcher = TitleMatcher(catalog)
    assert time.perf_counter() - t0 < 1.0
    message = " ".join(rng.choice(words) for _ in range(150)) + " more like " + titles[7][:-7]
    t0 = time.perf_counter()
    for _ in range(20):
        found = matcher.find(message[:1000])
    per_message = (time.perf_counter() - t0) / 20
    assert "7" in {i for m in found for i in m.ids}
    assert per_message < 0.02, per_message


def test_category_names_are_vocabulary_not_titles() -> None:
    films = Catalog(
        "films",
        [
            Item(id="1", title="The War (1994)", categories=("Drama", "War")),
            Item(id="2", title="Fargo (1996)", categories=("Crime", "Drama")),
        ],
    )
    matcher = TitleMatcher(films)
    assert matcher.mentioned_ids("It is in Crime, Drama, War, as you asked.") == set()
    assert matcher.mentioned_ids('Like "War", it is a drama.') == {"1"}
