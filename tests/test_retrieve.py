from __future__ import annotations

from chatrec.bundle import Bundle
from chatrec.retrieve import Retriever
from chatrec.types import Constraints


def test_filters_price_category_and_addons(tiny_bundle: Bundle, embedder) -> None:
    r = Retriever(tiny_bundle, embedder)
    got = r.retrieve("tv", Constraints(price_max=500, categories=("TVs",)), k=10)
    assert {c.item.id for c in got} == {"tv1", "tv3", "tv4"}  # no mounts, nothing over $500
    assert [c.score for c in got] == sorted((c.score for c in got), reverse=True)


def test_addons_appear_when_asked(tiny_bundle: Bundle, embedder) -> None:
    r = Retriever(tiny_bundle, embedder)
    got = r.retrieve("tv mount", Constraints(categories=("TVs",), allow_addons=True), k=3)
    assert got[0].item.id == "mnt1"


def test_price_range_items_match_on_their_low_end(tiny_bundle: Bundle, embedder) -> None:
    r = Retriever(tiny_bundle, embedder)
    # tv4 costs $449.99–$549.99: it can be had under $500, and it overlaps "over $500".
    assert "tv4" in {c.item.id for c in r.retrieve("tv", Constraints(price_max=460), k=20)}
    assert "tv4" in {c.item.id for c in r.retrieve("tv", Constraints(price_min=500), k=20)}


def test_exclusions_and_negative_categories(tiny_bundle: Bundle, embedder) -> None:
    r = Retriever(tiny_bundle, embedder)
    got = r.retrieve(
        "smart watch", Constraints(exclude_categories=("TVs", "Laptops")), ("sw1", "sw2"), k=20
    )
    ids = {c.item.id for c in got}
    assert not ids & {"sw1", "sw2"}
    assert not any(i.startswith(("tv", "lap", "mnt")) for i in ids)
    assert ids == {"sw3", "sw4", "hp1", "hp2", "hp3", "hp4"}


def test_impossible_constraints_return_nothing(tiny_bundle: Bundle, embedder) -> None:
    r = Retriever(tiny_bundle, embedder)
    assert r.retrieve("tv", Constraints(price_max=5, categories=("TVs",))) == []
    # Items without a year never pass a year constraint.
    assert r.retrieve("tv", Constraints(year_min=1990)) == []


def test_all_categories_means_every_one(tiny_bundle: Bundle, embedder) -> None:
    r = Retriever(tiny_bundle, embedder)
    both = Constraints(all_categories=("Laptops", "Gaming Laptops"))
    assert [c.item.id for c in r.retrieve("laptop", both, k=10)] == ["lap2"]
    anyof = Constraints(categories=("Laptops", "Gaming Laptops"))
    assert len(r.retrieve("laptop", anyof, k=10)) == 5
