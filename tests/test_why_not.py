""" "why not X?" on the real packaged catalogs (``chatrec.whynot``): the reply is about X, never
the first pick's reasons, and says the first reasons that hold: X was turned down, X breaks
the request (with X's own fact), X was shown already, or X fits and ranked below the picks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.config import RuntimeConfig
from chatrec.facts import price_text
from chatrec.recommender import ChatRecommender

from .test_cli import run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def films(real_runtime: RuntimeConfig) -> ChatRecommender:
    return ChatRecommender.from_pretrained("movies", runtime=real_runtime, llm=False)


@pytest.fixture(scope="module")
def shop(real_runtime: RuntimeConfig) -> ChatRecommender:
    return ChatRecommender.from_pretrained("store", runtime=real_runtime, llm=False)


def test_why_not_a_film_that_fits_names_it_not_the_first_pick(tmp_path: Path) -> None:
    lines = [
        {"session": "kids", "message": "animated films for kids"},
        {"session": "kids", "message": "why not The Lion King?"},
        {"session": "kids", "message": "why didn't you pick Aladdin"},
        {"session": "kids", "message": "why the second one?"},
    ]
    batch = tmp_path / "why_not.jsonl"
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = run("ask", "--catalog", "movies", "--json", "--batch", str(batch))
    assert p.returncode == 0, p.stderr
    picks, lion, aladdin, second = [json.loads(line) for line in p.stdout.splitlines()]
    titles = [i["title"] for i in picks["items"]]
    assert "The Lion King (1994)" not in titles and "Aladdin (1992)" not in titles
    for reply, title in ((lion, "The Lion King (1994)"), (aladdin, "Aladdin (1992)")):
        text = reply["text"]
        assert reply["intent"] == "why" and not reply["items"], text
        # About X: it fits, and where it ranks against the picks; not the first pick's reasons.
        assert text.startswith(f"{title} fits your request"), text
        assert "among the matches for “animated films for kids”" in text, text
        assert f"more like {title}" in text, text
        assert "I picked" not in text and titles[0] not in text, text
    # A "why" about a shown pick still explains that pick, as before.
    assert second["intent"] == "why" and len(second["items"]) == 1
    assert second["text"].startswith(f"I picked {titles[1]} for “animated films for kids”.")


def test_why_not_a_film_the_request_rules_out(films: ChatRecommender) -> None:
    films.chat("a comedy, no horror", "no-horror")
    text = films.chat("why not Scream?", "no-horror").text
    assert text.startswith("Scream (1996) does not fit your request"), text
    assert "it is in Horror, which you ruled out" in text and "not Comedy" in text, text
    films.chat("animated films for kids", "kids")
    text = films.chat("why not Fargo?", "kids").text
    assert text.startswith("Fargo (1996) does not fit your request"), text
    assert (
        "not Animation or Children's" in text and "Crime and Thriller, which you ruled out" in text
    )
    films.chat("90s sci-fi", "90s")
    text = films.chat("why not Alien?", "90s").text
    assert "Alien (1979) does not fit your request: it came out in 1979, not 1990–1999." in text


def test_why_not_a_film_the_person_turned_down(films: ChatRecommender) -> None:
    first = films.chat("a comedy, no horror", "turned-down").items[0].title
    again = films.chat("not the first one", "turned-down")
    assert first not in [r.title for r in again.items]
    reply = films.chat(f"why not {first}?", "turned-down")
    assert reply.intent == "why" and not reply.items
    assert reply.text.startswith(f"You turned down {first} earlier"), reply.text


def test_why_not_a_title_the_catalog_does_not_have(films: ChatRecommender) -> None:
    first = films.chat("animated films for kids", "unknown").items[0].title
    text = films.chat("why not Blorptastic Zingers?", "unknown").text
    assert "I couldn't tell which one you mean" in text and first not in text, text
    assert "“animated films for kids”" in text, text


def test_why_not_a_tv_over_budget_says_its_price_and_the_budget(shop: ChatRecommender) -> None:
    shown = shop.chat("a TV under $500", "tv").items
    prices = [shop.catalog.get(r.item_id).price for r in shown]
    assert shown and all(p is not None and p <= 500 for p in prices)
    tv = next(it for it in shop.catalog if it.title.startswith('LG 65" Class - OLED C3 Series'))
    assert tv.price is not None and tv.price > 500
    reply = shop.chat('why not the LG 65" Class C3?', "tv")
    assert reply.intent == "why" and not reply.items
    assert reply.text == (
        f"{tv.title} does not fit your request: it costs {price_text(tv)}, over your $500 budget."
    )
    # A product we don't carry is said so; never another item's reasons.
    text = shop.chat("why not the Sony Bravia XR 65?", "tv").text
    assert text.startswith("I don't have Sony Bravia XR 65 in this catalog"), text
    assert shown[0].title not in text
    # "why the second one?" still explains the second pick.
    text = shop.chat("why the second one?", "tv").text
    assert text.startswith(f"I picked {shown[1].title} for “a TV under $500”."), text


def test_why_about_one_pick_keeps_the_list_for_the_next_why(tmp_path: Path) -> None:
    """A "why X?" explains X and keeps the list: a next "why the third one?" or "why <a
    title of the list>?" is about that pick, with its own reasons, not X's."""
    lines = [
        {"session": "kids", "message": "animated films for kids"},
        {"session": "kids", "message": "why the second one?"},
        {"session": "kids", "message": "why the third one?"},
        {"session": "kids", "message": "why the first one?"},
    ]
    batch = tmp_path / "why_keeps.jsonl"
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = run("ask", "--catalog", "movies", "--json", "--batch", str(batch))
    assert p.returncode == 0, p.stderr
    picks, *whys = [json.loads(line) for line in p.stdout.splitlines()]
    titles = [i["title"] for i in picks["items"]]
    asked = "for “animated films for kids”."
    for reply, n in zip(whys, (1, 2, 0), strict=True):
        assert reply["intent"] == "why", reply["text"]
        assert reply["text"].startswith(f"I picked {titles[n]} {asked}"), reply["text"]
        assert [i["title"] for i in reply["items"]] == [titles[n]]
        assert all(t not in reply["text"] for t in titles if t != titles[n]), reply["text"]
    # By title too: "why <the fourth pick>?" after "why the first one?" is the fourth's.
    more = tmp_path / "why_title.jsonl"
    rows = [*lines[:2], {"session": "kids", "message": f"why {titles[3]}?"}]
    rows.append({"session": "kids", "message": "why the fifth one?"})
    more.write_text("".join(json.dumps(x) + "\n" for x in rows))
    p = run("ask", "--catalog", "movies", "--json", "--batch", str(more))
    assert p.returncode == 0, p.stderr
    _, second, fourth, fifth = [json.loads(line) for line in p.stdout.splitlines()]
    assert second["text"].startswith(f"I picked {titles[1]} "), second["text"]
    assert fourth["text"].startswith(f"I picked {titles[3]} "), fourth["text"]
    assert fifth["text"].startswith(f"I picked {titles[4]} "), fifth["text"]


def test_why_not_a_title_typed_in_lower_case(films: ChatRecommender) -> None:
    films.chat("crime films from the 90s", "lower")
    text = films.chat("why not fargo", "lower").text
    assert text.startswith("Fargo (1996)"), text
    assert "couldn't tell which one" not in text, text
