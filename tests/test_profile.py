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
