"""The normalisers that write a parsed act's numbers, positions and names the guide's way
(issue 17): ``understand.numbers``, ``spans.refs`` / ``spans.repair``, ``attributes``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chatrec.constraints import Lexicon
from chatrec.understand import numbers
from chatrec.understand.attributes import canonical
from chatrec.understand.spans import ordinal_refs, refs, repair

READER = SimpleNamespace(lexicon=Lexicon({}), newest_year=None, has_prices=True, spec_names=None)
SPECS = ("screen", "ram", "storage", "refresh", "rating")


@pytest.mark.parametrize(
    ("message", "want"),
    [
        ("a comedy from the 80s", {"year_min": 1980, "year_max": 1989}),
        ("older please, the 50s and 60s", {"year_min": 1950, "year_max": 1969}),
        ("skip the old ones, 90s up", {"year_min": 1990}),
        ("from the 60s or older", {"year_max": 1969}),
        ("something from before 1960", {"year_max": 1959}),
        ("nothing before 1980 please", {"year_min": 1980}),
        ("a film from after 1995", {"year_min": 1996}),
        ("please nothing from after 1960", {"year_max": 1960}),
        ("mid 90s onward", {"year_min": 1995}),
        ("nothing from the 90s, go earlier", {"year_max": 1989}),
        ("I want more of the 60s stuff, less 90s", {"year_min": 1960, "year_max": 1969}),
        ("hi, new member, old westerns are my thing", {}),  # "old", "new": no year
        ("I'm in my 20s and like comedies", {}),
        ("big fan of 2001: A Space Odyssey", {}),
    ],
)
def test_years_are_read_as_the_guide_writes_them(message: str, want: dict[str, int]) -> None:
    assert numbers.years(message, "recommend") == want


def test_numbers_are_only_read_on_requests() -> None:
    assert numbers.years("are these all from the 90s?", "question") == {}
    assert numbers.specs("does it have 16GB?", "question", READER, SPECS) == []
    assert numbers.price("is it under $300?", "question", None) is None


@pytest.mark.parametrize(
    ("message", "want"),
    [
        ("a 55 inch TV", {"min": 55.0, "max": 55.0}),
        ("65 inch tv or bigger", {"min": 65.0}),
        ("a laptop with a big screen, 17 inches", {"min": 17.0}),
        ("maximum 43 inches", {"max": 43.0}),
        ("nothing over 60 inches", {"max": 60.0}),
        ("with 14 inch screen, not bigger", {"max": 14.0}),
        ("24 to 27 inches, under $200", {"min": 24.0, "max": 27.0}),
        ("between 55 and 65 inches please", {"min": 55.0, "max": 65.0}),
        ("an affordable 2-in-1 laptop", None),
        ("bigger, 65 at least", {"min": 65.0}),  # a bare size after a size word
        ("bigger. 65 or more", {"min": 65.0}),
        ("a tv for the bedroom, not bigger than 43", {"max": 43.0}),
        ("smaller, 32 max", {"max": 32.0}),
        ("a bigger tv under $500", None),
    ],
)
def test_screen_sizes(message: str, want: dict[str, float] | None) -> None:
    assert numbers.screen(message) == want


def test_specs_besides_the_screen_come_from_the_rule_reader() -> None:
    got = numbers.specs("needs 16 gigs of ram and 1TB storage", "refine", READER, SPECS)
    assert {s["name"]: s["min"] for s in got} == {"ram": 16.0, "storage": 1000.0}
    got = numbers.specs("the best TV, rating above 4.7", "recommend", READER, SPECS)
    assert got == [{"name": "rating", "min": 4.7, "max": None}]


@pytest.mark.parametrize(
    ("message", "proposed", "want"),
    [
        ("under $300 please", None, {"max": 300.0}),
        ("nothing over 600", None, {"max": 600.0}),
        ("I don't want to spend more than 300", None, {"max": 300.0}),
        ("at least $100", None, {"min": 100.0}),
        ("budget $1500, gaming pc", None, {"around": 1500.0}),
        ("something in the $200 range", {"max": 200.0}, {"around": 200.0}),
        ("Maybe 200 dollars", {"max": 200.0}, {"around": 200.0}),
        ("budget $300-500", {"around": 300.0}, {"min": 300.0, "max": 500.0}),
        ("speakers for my bf's bday, 100-200", None, {"min": 100.0, "max": 200.0}),
        ("less than 1k", None, {"max": 1000.0}),
        ("up to around $900", None, {"max": 900.0}),
        ("a drone under 250 grams", {"max": 250.0}, None),  # grams, not dollars
        ("with more cameras, at least 8", None, None),  # a count
        ("they are 8 and 11", None, None),  # ages
        ("gaming desktop, rtx 4070, no more than 2k", None, {"max": 2000.0}),
        ("best budget 4K TV?", None, None),
        (
            "cheaper, 300 please",  # the amount says how much cheaper
            {"relative": "cheaper", "max": 300.0},
            {"max": 300.0},
        ),
        ("mesh wifi, 3 pack, 200-ish", None, {"around": 200.0}),
        ("gaming laptop with a 144hz screen, nothign over 1300", None, {"max": 1300.0}),
        ("a router that covers like 2000 sq ft", None, None),
        ("bigger, 65 at least", {"min": 65.0}, None),
    ],
)
def test_money_roles(
    message: str, proposed: dict[str, float] | None, want: dict[str, float] | None
) -> None:
    assert numbers.price(message, "refine", proposed) == want


@pytest.mark.parametrize(
    ("message", "shown", "want"),
    [
        ("the second one and #3", 5, ["2", "3"]),
        ("the last one", 4, ["4"]),
        ("which of the first three is cheapest", 5, ["1", "2", "3"]),
        ("the last two look great", 4, ["3", "4"]),
        ("of the 2nd and 4th, which is more recent?", 4, ["2", "4"]),
        ("number two is too big", 4, ["2"]),
        ("on second thought, a comedy", 4, []),
        ("which of these came out first?", 3, []),
        ("my wife wants a new TV first", 3, []),
        ("first time here", 3, []),
    ],
)
def test_positions(message: str, shown: int, want: list[str]) -> None:
    assert ordinal_refs(message, shown) == want


def test_bare_numbers_and_the_list_shown() -> None:
    shown3 = ["A", "B", "C"]
    assert refs("which is lighter, 1 2 or 3", shown3, "compare", []) == ["1", "2", "3"]
    assert refs("3 is ugly ngl", shown3, "feedback", []) == ["3"]
    assert refs("why did you pick these?", shown3, "why", []) == ["all"]
    assert refs("which of these is cheapest?", shown3, "compare", []) == []
    assert refs("seen it", ["A"], "feedback", []) == ["1"]  # the one item shown
    assert refs("give me 3 horror films", shown3, "recommend", []) == []
    shop = ["Sony WH1000XM5 Headphones", "Bose QuietComfort Ultra"]
    assert refs("like the sony but cheaper", shop, "refine", ["sony"]) == ["sony"]
    assert refs("why not the JBL?", shop, "why", ["JBL"]) == []  # no JBL on the list
    assert refs("why that one and not the JBL?", shop[:1], "why", ["JBL"]) == ["1"]


def test_cut_spans_are_mended() -> None:
    titles = {"beauty and the beast", "my fellow americans", "mighty aphrodite", "fargo"}
    resolves = lambda text: text.lower() in titles  # noqa: E731
    msg = "My favourites are Beauty and the Beast and Fargo"
    spans = [("LIKED", "Beauty and"), ("LIKED", "the Beast"), ("LIKED", "Fargo")]
    assert repair(msg, spans, resolves) == [
        ("LIKED", "Beauty and the Beast"),
        ("LIKED", "Fargo"),
    ]
    msg = "Loved My Fellow Americans as a kid and still love Mighty Aphrodite."
    spans = [("LIKED", "Americans"), ("LIKED", "Mighty"), ("LIKED", "Aphrodite")]
    assert repair(msg, spans, resolves) == [
        ("LIKED", "My Fellow Americans"),
        ("LIKED", "Mighty Aphrodite"),
    ]
    assert repair("less than 1k", [("PMAX", "1"), ("MOOD", "k")], resolves) == [("PMAX", "1k")]


def test_attributes_have_one_name() -> None:
    assert canonical("Colour") == "color"
    assert canonical("battery") == "battery life"
    assert canonical("length") == "runtime"
    assert canonical("hdmi ports") == "hdmi ports"  # not in the table: as said


def test_the_category_decision_takes_the_training_weight_back_out() -> None:
    import torch

    from chatrec.understand.bert import Heads, to_act

    heads = Heads(["none"], {"shop": ["TVs", "Monitors", "Projectors"]}, category_weight=4.0)
    # want - none log-odds: TVs 3.0, Monitors 2.8 (about as likely), Projectors 1.0 (less
    # likely than the weight's log, 1.39: not named though it wins the weighted argmax).
    category = torch.tensor([[[0.0, 3.0, -5.0], [0.0, 2.8, -5.0], [0.0, 1.0, -5.0]]])
    out = {k: torch.zeros(1, 9) for k in ("intent", "audience", "mode", "relative", "direction")}
    out |= {"attribute": torch.zeros(1, 1), "category": category}
    assert to_act(heads, out, 0, "shop")["categories"] == ["TVs", "Monitors"]
    category[0, 1, 1] = 2.0  # a second category clearly less likely than the first: not named
    assert to_act(heads, out, 0, "shop")["categories"] == ["TVs"]
