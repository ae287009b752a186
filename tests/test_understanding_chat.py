"""Issue 17's examples, as a person types them, through `chatrec ask --batch`: what the
learned parser's act changes in the chat (``chatrec.understand.read``). Each message below is
one the rules alone got wrong on the landed main (the issue's "Why")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.catalog import Catalog
from chatrec.config import RuntimeConfig
from chatrec.datasets import load

from .test_cli import run

pytestmark = pytest.mark.integration

KIDS_NEVER = {"Horror", "Crime", "Thriller", "War"}


def _ask(tmp_path: Path, catalog: str, lines: list[dict[str, str]]) -> list[dict]:
    batch = tmp_path / f"{catalog}.jsonl"
    batch.write_text("".join(json.dumps(x) + "\n" for x in lines))
    p = run("ask", "--catalog", catalog, "--json", "--batch", str(batch))
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def _catalog(name: str) -> Catalog:
    return load(name, RuntimeConfig().cache_dir)[0]


def _cats(catalog: Catalog, reply: dict) -> list[set[str]]:
    return [set(catalog.get(i["item_id"]).categories) for i in reply["items"]]


def test_films_for_a_child_a_mood_an_occasion_a_favourite_and_why(tmp_path: Path) -> None:
    films = _catalog("movies")
    kid, space, cry, date, fargo, why, laptops, french = _ask(
        tmp_path,
        "movies",
        [
            {"session": "kid", "message": "Something my 8-year-old would enjoy this weekend"},
            {"session": "space", "message": "a space movie but not too scary"},
            {"session": "cry", "message": "a film that will make me cry"},
            {"session": "val", "message": "a movie to watch with my girlfriend on valentine's day"},
            {"session": "fargo", "message": "I really enjoyed Fargo, anything similar?"},
            {"session": "fargo", "message": "why did you pick that?"},
            {"session": "lap", "message": "laptops"},
            {"session": "fr", "message": "je voudrais un film drôle"},
        ],
    )
    # A child: children's or animated films, nothing violent or frightening, no "up to 1973".
    assert len(kid["items"]) == 5 and "1973" not in kid["text"]
    for cats in _cats(films, kid):
        assert cats & {"Children's", "Animation"} and not cats & KIDS_NEVER, cats
    # "not too scary" rules horror out; the space films stay.
    assert len(space["items"]) == 5
    assert not any("Horror" in c for c in _cats(films, space))
    assert sum("Sci-Fi" in c for c in _cats(films, space)) >= 4
    # "make me cry": dramas, not the titles with "cry" in them that frighten (Scream, Shining).
    assert all("Drama" in c and "Horror" not in c for c in _cats(films, cry))
    # Valentine's day with a girlfriend: romance, no horror.
    assert sum("Romance" in c for c in _cats(films, date)) >= 4
    assert not any("Horror" in c for c in _cats(films, date))
    # A favourite is a wish for more like it, never offered back.
    titles = [i["title"] for i in fargo["items"]]
    assert fargo["intent"] == "recommend" and len(titles) == 5 and "Fargo (1996)" not in titles
    # "why did you pick that?" explains the first pick from what made it rank: no new list.
    assert why["intent"] == "why" and len(why["items"]) == 1
    assert why["text"].startswith(f"I picked {titles[0]}") and "Fargo (1996)" in why["text"]
    # Something a film catalog does not hold; another language.
    assert laptops["intent"] == "out_of_scope" and not laptops["items"]
    assert laptops["text"].startswith("This catalog holds films")
    assert french["intent"] == "out_of_scope" and "English" in french["text"]


def test_a_budget_a_follow_up_a_comparison_why_and_an_onboarding_text(tmp_path: Path) -> None:
    shop = _catalog("store")
    phones, cheaper, longest, why, onboard = _ask(
        tmp_path,
        "store",
        [
            {
                "session": "hp",
                "message": "I need noise cancelling headphones for flights, not more than $250",
            },
            {"session": "hp", "message": "cheaper ones?"},
            {"session": "hp", "message": "which of those has the longest battery life?"},
            {"session": "hp", "message": "why did you pick the first one?"},
            {
                "session": "ob",
                "message": "I work from home and edit photos, I like big screens, "
                "budget around $400",
            },
        ],
    )
    items = [shop.get(i["item_id"]) for i in phones["items"]]
    assert len(items) == 5 and "under $250" in phones["text"]
    assert all("Headphones & Earbuds" in it.categories and it.price <= 250 for it in items)
    # "cheaper ones?" keeps the headphones (and says so when nothing cheaper is left).
    assert cheaper["intent"] == "refine" and "Headphones & Earbuds" in cheaper["text"]
    for it in (shop.get(i["item_id"]) for i in cheaper["items"]):
        assert "Headphones & Earbuds" in it.categories and it.price < min(x.price for x in items)
    shown = cheaper["items"] or phones["items"]
    # The comparison names the winner with the listing's own words.
    assert longest["intent"] == "product_question"
    assert any(i["title"][:30] in longest["text"] for i in shown), longest["text"]
    assert "hour" in longest["text"].lower()
    # "why the first one?" is about the first of the list on screen.
    assert why["intent"] == "why" and why["text"].startswith(f"I picked {shown[0]['title']}")
    # An onboarding text with a budget: a budget around $400 is kept, and only what is within
    # it is called within the budget.
    assert onboard["intent"] == "onboarding" and len(onboard["items"]) == 5
    for rec in onboard["items"]:
        it = shop.get(rec["item_id"])
        assert 300 <= it.price <= 500, it.title
        if "within your budget" in rec["explanation"]:
            assert (it.price_max or it.price) <= 500, it.title


def test_what_the_act_says_holds_in_the_picks(tmp_path: Path) -> None:
    """Found on the third held-out set's first run (worded afresh here): a child's favourite,
    a child's interest, a bound the rules misread, a genre dropped, negations people type."""
    films = _catalog("movies")
    favourite, interest, before, _, dropped, ish, zero = _ask(
        tmp_path,
        "movies",
        [
            {"session": "k", "message": "my kids loved the lion king, anything else for them?"},
            {"session": "n", "message": "my niece is 9 and mad about horses"},
            {"session": "w", "message": "war films but nothing made after 1960"},
            {"session": "d", "message": "some comedies"},
            {"session": "d", "message": "never mind the comedies, show me westerns"},
            {"session": "m", "message": "a mystery but nothing horror-ish"},
            {"session": "z", "message": "dramas with zero romance"},
        ],
    )
    for reply in (favourite, interest):  # films for children, whatever the path
        assert len(reply["items"]) == 5
        for cats in _cats(films, reply):
            assert cats & {"Children's", "Animation"} and not cats & KIDS_NEVER, cats
    assert len(before["items"]) == 5
    assert all(films.get(i["item_id"]).year <= 1960 for i in before["items"])
    assert len(dropped["items"]) == 5 and all("Western" in c for c in _cats(films, dropped))
    assert len(ish["items"]) == 5 and not any("Horror" in c for c in _cats(films, ish))
    assert len(zero["items"]) == 5 and not any("Romance" in c for c in _cats(films, zero))


def test_the_shops_picks_hold_what_the_act_says(tmp_path: Path) -> None:
    """A thing said as the setting is no wish; an amount's role is read from its words."""
    shop = _catalog("store")
    stick, cameras = _ask(
        tmp_path,
        "store",
        [
            {"session": "s", "message": "a streaming stick for my old tv"},
            {"session": "c", "message": "security cameras for the garden, nothing over 200"},
        ],
    )
    assert stick["items"]
    assert all("TVs" not in shop.get(i["item_id"]).categories for i in stick["items"])
    assert len(cameras["items"]) == 5
    for rec in cameras["items"]:
        it = shop.get(rec["item_id"])
        assert "Home Security Systems & Cameras" in it.categories and it.price <= 200, it.title


def test_a_sibling_category_ruled_out_by_its_own_word(tmp_path: Path) -> None:
    """Found on the sixth held-out set's first run (worded afresh): "laptop" names the gaming
    laptops too, so "not a gaming one" must rule them out; "can't stand X" is a no."""
    shop, films = _catalog("store"), _catalog("movies")
    laptops, _, desktops = _ask(
        tmp_path,
        "store",
        [
            {"session": "l", "message": "a laptop for school work, just not a gaming one"},
            {"session": "d", "message": "a desktop computer for the office"},
            {"session": "d", "message": "no gaming ones please, and no mini pcs"},
        ],
    )
    assert len(laptops["items"]) == 5
    for cats in (shop.get(i["item_id"]).categories for i in laptops["items"]):
        assert "Laptops & Notebook Computers" in cats, cats
        assert "Gaming Laptops & Notebook Computers" not in cats, cats
    assert desktops["items"]
    for cats in (shop.get(i["item_id"]).categories for i in desktops["items"]):
        assert not {"Gaming Desktop Computer & PCs", "Mini PC Desktop Computer & PCs"} & set(cats)
    (mystery,) = _ask(
        tmp_path,
        "movies",
        [{"session": "m", "message": "my sister can't stand animation, a mystery?"}],
    )
    assert len(mystery["items"]) == 5
    assert not any("Animation" in films.get(i["item_id"]).categories for i in mystery["items"])


def test_a_named_item_or_kind_refused_in_the_request_is_never_picked(tmp_path: Path) -> None:
    """Found while writing explanation targets for real picks (worded afresh): the product a
    request refuses by name came FIRST ("anything except the X" retrieves X by its words),
    and "keep the X away", "spare me the X" did not rule the kind out."""
    shop, films = _catalog("store"), _catalog("movies")
    buds, tabs = _ask(
        tmp_path,
        "store",
        [
            {"session": "b", "message": "wireless earbuds, anything except the powerbeats pro"},
            {"session": "t", "message": "need a tablet for reading, just not the galaxy tab a8"},
        ],
    )
    assert len(buds["items"]) == 5 and len(tabs["items"]) == 5
    assert not any("powerbeats pro" in shop.get(i["item_id"]).title.lower() for i in buds["items"])
    assert not any("tab a8" in shop.get(i["item_id"]).title.lower() for i in tabs["items"])
    westerns, spared, kept = _ask(
        tmp_path,
        "movies",
        [
            {"session": "w", "message": "any western is fine, except unforgiven"},
            {"session": "s", "message": "a comedy but spare me the romance please"},
            {"session": "k", "message": "keep the horror away, we want a cosy evening"},
        ],
    )
    assert len(westerns["items"]) == 5
    assert all("Western" in c for c in _cats(films, westerns))
    assert "Unforgiven (1992)" not in [films.get(i["item_id"]).title for i in westerns["items"]]
    assert len(spared["items"]) == 5 and not any("Romance" in c for c in _cats(films, spared))
    assert len(kept["items"]) == 5 and not any("Horror" in c for c in _cats(films, kept))


def test_a_brand_or_line_refused_by_name_is_never_picked_and_stays_refused(
    tmp_path: Path,
) -> None:
    """Seen by the explanation audits' reviewers: "not Arlo" gave four Arlo cameras, "not an
    iPad" iPads, "not Netgear" three Netgear routers ("not the/an X" was never read: the
    refusal's pattern wanted two spaces). A name several titles carry is ruled out for the
    session, and "why not" says so; one product refused by name does not refuse its line."""
    shop = _catalog("store")
    arlo, cheaper, why, ipad, netgear, odyssey = _ask(
        tmp_path,
        "store",
        [
            {"session": "a", "message": "security cameras for outside, not Arlo"},
            {"session": "a", "message": "cheaper"},
            {"session": "a", "message": "why not the Arlo Pro 3 Floodlight Camera?"},
            {"session": "i", "message": "a tablet for my mom, not an iPad"},
            {"session": "n", "message": "a mesh wifi system, not Netgear"},
            {"session": "o", "message": "gaming monitor, not the Samsung Odyssey G65B"},
        ],
    )
    for reply, name in ((arlo, "arlo"), (cheaper, "arlo"), (ipad, "ipad"), (netgear, "netgear")):
        titles = [shop.get(i["item_id"]).title.lower() for i in reply["items"]]
        assert len(titles) == 5 and not any(name in t for t in titles), titles
    assert "Arlo, which you ruled out" in why["text"], why["text"]
    titles = [shop.get(i["item_id"]).title for i in odyssey["items"]]
    assert "Odyssey G65B" not in " ".join(titles)
    assert any("Odyssey" in t for t in titles), titles  # the rest of the line may be shown


def test_refusals_fears_children_and_a_price_asked_as_people_say_them(tmp_path: Path) -> None:
    """Found probing the chat after the tenth held-out set (our own wording): a kind refused
    after it is named, someone easily scared, children said plainly, and the price of one
    shown item asked in passing."""
    films, shop = _catalog("movies"), _catalog("store")
    hard_no, nightmares, with_kids, sleepover, breaker = _ask(
        tmp_path,
        "movies",
        [
            {"session": "a", "message": "horror is a hard no for me, any good mysteries?"},
            {"session": "b", "message": "i get nightmares easily, something from the 80s"},
            {"session": "c", "message": "a comedy we can watch with our kids"},
            {"session": "d", "message": "for a sleepover with a bunch of 10 year olds"},
            # the explanation audit's reviewer saw this read as "Crime or Romance"
            {"session": "e", "message": "romance is a dealbreaker, good comedies from the 90s?"},
        ],
    )
    assert len(breaker["items"]) == 5
    assert not any("Romance" in c for c in _cats(films, breaker)), breaker["text"]
    for reply in (hard_no, nightmares):
        assert len(reply["items"]) == 5
        assert not any("Horror" in c for c in _cats(films, reply)), reply["text"]
    for reply in (with_kids, sleepover):
        assert len(reply["items"]) == 5
        for cats in _cats(films, reply):
            assert cats & {"Children's", "Animation"} and not cats & KIDS_NEVER, cats
    monitors, price = _ask(
        tmp_path,
        "store",
        [
            {"session": "m", "message": "some monitors for my desk"},
            {"session": "m", "message": "and what would the third one set me back?"},
        ],
    )
    third = shop.get(monitors["items"][2]["item_id"])
    assert f"${third.price:,.2f}" in price["text"], price["text"]
    assert not price["items"] or [i["item_id"] for i in price["items"]] == [third.id]
