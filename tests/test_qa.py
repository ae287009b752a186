"""Product Q&A: which product a question means, and answers that state only catalog facts.

Resolution runs on the real shipped store catalog (no model is loaded: it is word matching).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatrec import datasets, qa
from chatrec.catalog import Catalog, Item
from chatrec.config import RuntimeConfig
from chatrec.constraints import Lexicon, parse
from chatrec.facts import invented


@pytest.fixture(scope="module")
def store() -> tuple[Catalog, Lexicon, qa.Resolver]:
    catalog, lexicon = datasets.load("store", RuntimeConfig().cache_dir)
    return catalog, lexicon, qa.Resolver(catalog, lexicon, common=qa.common_words())


def _titles(catalog: Catalog, ids: list[str]) -> list[str]:
    return [catalog.get(i).title for i in ids]


def _resolve(store, text: str, in_play=(), skip=()) -> qa.Resolution | None:
    _catalog, lexicon, resolver = store
    return resolver.resolve(text, parse(text, lexicon).categories, list(in_play), list(skip))


def test_a_named_product_resolves_to_exactly_that_item(store) -> None:
    catalog = store[0]
    res = _resolve(store, "whats the price on the bose solo soundbar 2")
    assert res is not None and _titles(catalog, res.ids) == ["Bose Solo Soundbar 2"]
    # a model code written differently from the title ("WH1000XM5")
    res = _resolve(store, "are the sony xm5 headphones any good?")
    assert res is not None and len(res.ids) == 1
    assert "WH1000XM5" in catalog.get(res.ids[0]).title


def test_typos_and_everyday_words_do_not_break_the_match(store) -> None:
    catalog = store[0]
    res = _resolve(store, "how much is the macbok air m1?")  # typo; three colours exist
    assert res is not None and len(res.options) == 3
    assert all("MacBook Air" in t and "M1" in t for t in _titles(catalog, res.options))
    # "beach" is in some title but here it is just talk
    q = "is the bose soundlink flex se waterproof? taking it to the beach"
    span = qa.feature_term(q)
    assert span is not None and span[0] == "waterproof"
    res = _resolve(store, q, skip=[span[1]])
    assert res is not None and _titles(catalog, res.ids) == [
        "Bose SoundLink Flex SE Bluetooth Speaker"
    ]


def test_several_fits_are_options_to_ask_about(store) -> None:
    catalog = store[0]
    res = _resolve(store, "what's the apple watch series 9 going for?")
    assert res is not None and not res.ids and len(res.options) >= 2
    assert all(t.startswith("Apple Watch Series 9") for t in _titles(catalog, res.options))
    question = qa.options_question([catalog.get(i) for i in res.options], res.name)
    assert "Which one do you mean?" in question and "1. Apple Watch Series 9" in question


def test_products_we_do_not_sell_are_named_as_not_carried(store) -> None:
    catalog = store[0]
    res = _resolve(store, "how much is the Nintendo GameCube?")
    assert res is not None and res.missing == "Nintendo GameCube"
    assert res.related and all("Nintendo" in t for t in _titles(catalog, res.related))
    res = _resolve(store, "is the xbox 360 any good?")  # not the Insta360 camera
    assert res is not None and res.missing == "xbox 360" and not res.ids and not res.options
    text = qa.not_carried(res.missing, [catalog.get(i) for i in res.related])
    assert text.startswith("Sorry, we don't carry the xbox 360.")
    assert not invented(text, [catalog.get(i) for i in res.related], "xbox 360")


def test_the_products_in_play_win(store) -> None:
    catalog = store[0]
    sony_bar = next(it.id for it in catalog if it.title.startswith("Sony HT-SC40"))
    bose_bar = next(it.id for it in catalog if it.title == "Bose Solo Soundbar 2")
    q = "does the Sony have bluetooth?"
    feature = qa.feature_term(q)
    assert feature is not None and feature[0] == "bluetooth"
    res = _resolve(store, q, in_play=[bose_bar, sony_bar], skip=[feature[1]])
    assert res is not None and res.ids == [sony_bar]  # not the Sony TVs or headphones
    assert _resolve(store, "is that one any good?") is None  # no name: a reference, not ours


def _item(**kw) -> Item:
    base = {"id": "x", "title": "Acme 55 TV", "categories": ["TVs"], "price": 499.99}
    return Item(**{**base, **kw})


def test_fact_answers_state_only_the_item_facts() -> None:
    it = _item(
        rating=4.4,
        review_count=1234,
        attributes={"discount_amount": 50.0, "features": ["Wi-Fi 6 built in", "HDMI 2.1"]},
    )
    assert qa.fact_answer(it, "price") == (
        "Acme 55 TV costs $499.99; has $50 off; is rated 4.4/5 from 1,234 reviews; is in TVs."
    )
    assert "yes, its listing mentions wifi" in qa.fact_answer(it, "feature:wifi")
    assert "doesn't mention bluetooth" in qa.fact_answer(it, "feature:bluetooth")
    bare = _item(id="y", price=None)
    assert qa.fact_answer(bare, "price").startswith("I don't have a price for Acme 55 TV.")
    assert qa.fact_answer(_item(id="z"), "discount").startswith("Acme 55 TV has no discount")
    for asked in ("price", "discount", "rating", "feature:hdmi", ""):
        assert invented(qa.fact_answer(it, asked), [it]) == []
    assert invented("It costs $399.99 and ships in 2 days.", [it]) == ["$399.99", "2"]


def test_comparisons_over_the_products_in_play() -> None:
    few = _item(id="a", title="A", rating=5.0, review_count=3, price=300.0)
    many = _item(id="b", title="B", rating=4.7, review_count=900, price=250.0, price_max=280.0)
    low = _item(id="c", title="C", rating=3.9, review_count=50, price=99.0)
    items = [few, many, low]
    best = qa.compare_answer("best_rated", items)
    assert best.startswith("The best rated is A: 5/5 from 3 reviews.")
    assert "with more behind it, B is rated 4.7/5 from 900 reviews" in best
    assert qa.compare_answer("cheapest", items) == "The cheapest is C at $99."
    assert qa.compare_answer("most_expensive", items) == "The most expensive is A at $300."
    assert qa.compare_answer("most_reviews", items).startswith("B has the most reviews: 900")
    diff = qa.compare_answer("difference", [few, many])
    assert "$300" in diff and "$250–$280" in diff
    for op in ("best_rated", "cheapest", "most_expensive", "most_reviews", "difference"):
        assert invented(qa.compare_answer(op, items), items) == []


def test_policies_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("[topics.returns]\nkeywords = ['return']\n")
    with pytest.raises(qa.PolicyError, match=r"p\.toml: topics\.returns\.answer"):
        qa.Policies.load(bad)
    bad.write_text("not toml = = =")
    with pytest.raises(qa.PolicyError, match=r"p\.toml: cannot read"):
        qa.Policies.load(bad)


def test_the_shipped_policies_answer_by_topic() -> None:
    p = qa.default_policies()
    assert p is not None and {"shipping", "returns", "warranty", "price_match"} <= set(p.answers)
    assert p.topic("what's your return policy?") == "returns"
    assert p.topic("if i find it cheaper elsewhere will you price match") == "price_match"
    assert p.topic("how long does delivery take?") == "shipping"
    assert p.topic("a 4k tv please") == ""


def test_a_comparison_on_a_stated_measure_quotes_the_listing_and_names_the_silent() -> None:
    from chatrec.qa import attribute_answer

    a = _item(
        id="a",
        title="Quiet 700 Headphones",
        attributes={"features": ["Up to 20 hours of battery life"]},
    )
    b = _item(
        id="b",
        title="Loud 900 Headphones",
        attributes={"features": ["40-hour battery, fast charge"]},
    )
    c = _item(id="c", title="Plain Earbuds", attributes={"features": ["Sweat resistant"]})
    text = attribute_answer("battery life", "max", [a, b, c])
    assert text.startswith("Loud 900 Headphones states the most battery life")
    assert "“40-hour battery, fast charge”" in text and "Plain Earbuds does not state it" in text
    assert attribute_answer("battery", "min", [a, b]).startswith("Quiet 700 Headphones")
    assert attribute_answer("battery life", "max", [c]) == (
        "None of those states its battery life in the listing."
    )
    assert "The cheapest is" in attribute_answer("price", "min", [a, b, c])
    assert "can't compare those on smell" in attribute_answer("smell", "max", [a, b])
