"""Profiles: what feedback does to the next list, and the one-line summary."""

from __future__ import annotations

import numpy as np

from chatrec.catalog import Catalog, Item
from chatrec.profile import NEAR_DUPLICATE, Profile
from chatrec.types import Constraints


def _catalog() -> Catalog:
    return Catalog(
        "store",
        [
            Item(id="w40", title="Watch 40mm", categories=["Smart Watches"], price=289.0),
            Item(id="w44", title="Watch 44mm", categories=["Smart Watches"], price=319.0),
            Item(id="hp", title="Headphones", categories=["Headphones"], price=199.0),
            Item(id="tv", title="TV", categories=["TVs"], price=499.0),
        ],
    )


def test_near_duplicates_of_a_disliked_item_go_below_everything() -> None:
    cat = _catalog()
    v = np.eye(4, dtype=np.float32)
    v[1] = np.array([0.99, 0.141, 0, 0], dtype=np.float32)  # 44mm: the 40mm's twin
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert float(v[0] @ v[1]) >= NEAR_DUPLICATE
    p = Profile(disliked=["w40"])
    ids = ["w44", "hp", "tv"]
    out = p.adjust(cat, ids, np.array([0.9, 0.5, 0.4]), v[1:], v[:1])
    assert out[0] < out[1] and out[0] < out[2]  # was first, now last
    assert out[1] == 0.5 and out[2] == 0.4  # others untouched


def test_liked_categories_move_up() -> None:
    cat = _catalog()
    p = Profile(liked=["hp"])
    v = np.eye(4, dtype=np.float32)
    out = p.adjust(cat, ["tv", "hp"], np.array([0.55, 0.5]), v[[3, 2]], np.zeros((0, 4)))
    assert out[1] > out[0]


def test_summary_says_tastes_budget_and_dislikes() -> None:
    cat = _catalog()
    p = Profile()
    assert p.summary(cat).startswith("No profile yet")
    p.stated(
        "I need headphones, about $200",
        Constraints(categories=("Headphones",), price_min=160.0, price_max=240.0),
    )
    p.like("w40")
    p.dislike("tv")
    assert p.summary(cat) == (
        "You like Headphones and Smart Watches; budget around $200; 1 item you'd rather not see."
    )
    p.like("tv")  # changing one's mind moves it, never keeps it in both lists
    assert "tv" in p.liked and "tv" not in p.disliked
    assert Profile.from_dict(p.to_dict()) == p


def test_the_summary_states_no_budget_that_was_not_said() -> None:
    cat = _catalog()
    p = Profile()
    p.like("w40")  # "more like" a $289 watch says nothing about a budget
    p.like("w44")
    assert p.summary(cat) == "You like Smart Watches."
    assert p.price_band() == (None, None)


def test_a_budget_said_in_a_request_is_the_profiles_until_another_is_said() -> None:
    cat = _catalog()
    p = Profile()
    none, under_250 = Constraints(), Constraints(price_max=250.0)
    p.heard("a laptop under $250", none, under_250)
    assert p.summary(cat) == "budget under $250."
    p.heard("cheaper than those", under_250, Constraints(price_max=199.0))  # names no amount
    p.heard("more like #1", under_250, under_250)  # the budget in force, not said again
    p.heard("a tv", under_250, none)  # a new request without a budget keeps it
    assert (p.price_min, p.price_max) == (None, 250.0)
    p.heard("a tv between $300 and $500", none, Constraints(price_min=300.0, price_max=500.0))
    assert p.summary(cat) == "budget $300–$500."


def test_a_newer_profile_merges_into_an_older_one() -> None:
    old = Profile(liked=["w40", "tv"], disliked=["hp"], categories=["TVs"], price_max=300.0)
    old.said = ["a tv"]
    new = Profile(liked=["hp"], disliked=["tv"], categories=["Headphones"], said=["quiet"])
    both = old.merged(new)
    assert both.liked == ["w40", "hp"] and both.disliked == ["tv"]  # the newer wins
    assert both.categories == ["Headphones", "TVs"] and both.said == ["a tv", "quiet"]
    assert both.price_max == 300.0  # the newer said none: the older stands
    assert old.merged(Profile(price_min=100.0)).price_band() == (100.0, None)
    assert old.liked == ["w40", "tv"]  # unchanged
