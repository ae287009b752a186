"""The dialogue act, its labelled turns and the understanding evaluation (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatrec.act import DialogueAct, Vocabulary
from chatrec.eval.acts import LabelledTurn
from chatrec.eval.understanding import Scores, fits, rules_act, score_act, slots
from chatrec.recommender import ChatRecommender

from .conftest import REPO

VOCAB = Vocabulary.of("tiny", ["TVs", "Laptops"], ["screen"], ["Acme TV"], True, False)


def test_an_act_round_trips_through_its_compact_form() -> None:
    act = DialogueAct(intent="refine", exclude=["Horror"], price={"relative": "cheaper"})
    assert (
        act.to_text() == '{"intent":"refine","exclude":["Horror"],"price":{"relative":"cheaper"}}'
    )
    assert DialogueAct.from_text(act.to_text()) == act
    with pytest.raises(ValueError, match="not a dialogue act"):
        DialogueAct.from_text('{"intent": "dance"}')
    with pytest.raises(ValueError):
        DialogueAct(intent="recommend", year_min=1999, year_max=1990)


def test_the_vocabulary_names_what_a_catalog_does_not_know() -> None:
    act = DialogueAct(
        intent="recommend",
        categories=["TVs", "Drama"],
        specs=[{"name": "battery", "min": 10}],
        liked=["Fargo (1996)"],
        year_min=1990,
    )
    assert VOCAB.problems(act) == [
        "category 'Drama'",
        "spec 'battery'",
        "title 'Fargo (1996)'",
        "years in a catalog without years",
    ]
    assert VOCAB.problems(DialogueAct(intent="recommend", categories=["TVs"])) == []


def test_check_acts_reports_file_and_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chatrec.cli import app

    path = tmp_path / "turns.jsonl"
    rows = [
        {"id": "1", "catalog": "store", "message": "a TV", "act": {"intent": "recommend",
         "categories": ["TVs"]}},
        {"id": "2", "catalog": "store", "message": "a film", "act": {"intent": "recommend",
         "categories": ["Drama"]}},
        {"id": "3", "catalog": "store", "message": "cheaper", "act": {"intent": "refine"}},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = CliRunner().invoke(app, ["data", "check-acts", str(path)])
    assert out.exit_code == 1
    assert f"{path}:2: category 'Drama'" in out.output
    assert f"{path}:3: a refine with no request in force" in out.output
    assert "1 of 3 labelled turns are valid" in out.output


def test_scores_count_slots_and_exact_acts() -> None:
    gold = LabelledTurn(
        id="g",
        catalog="store",
        message="a TV under $500",
        act=DialogueAct(intent="recommend", categories=["TVs"], price={"max": 500}),
    )
    assert slots(gold.act) == {("category", "TVs"), ("price.max", "500")}
    s = Scores()
    score_act(s, gold, DialogueAct(intent="recommend", categories=["TVs"], price={"max": 500}))
    score_act(s, gold, DialogueAct(intent="recommend", categories=["Laptops"]))
    row = s.row("x")
    assert row["intent_acc"] == 1.0 and row["act_exact"] == 0.5
    assert (s.tp, s.fp, s.fn) == (2, 1, 2)


def test_a_pick_for_kids_must_be_for_kids(tiny_recommender: ChatRecommender) -> None:
    act = DialogueAct(intent="recommend", audience="kids")
    item = next(iter(tiny_recommender.catalog))  # a TV: no children's film
    films = frozenset({"Children's", "Animation", "Horror"})
    assert fits(item, act, [], films) == (False, True)
    # In a shop, "for my kid" is no rule about film genres: nothing is harmful for it.
    shop = frozenset(tiny_recommender.catalog.categories())
    assert fits(item, act, [], shop) == (True, False)


def test_the_rules_act_is_what_the_message_changed(tiny_recommender: ChatRecommender) -> None:
    from chatrec.dialogue import update

    tiny_recommender.chat("a TV under $900", "s")
    state = tiny_recommender.session("s")
    before = state.constraints
    turn = update(state, "cheaper ones under $500", tiny_recommender.dialogue)
    act = rules_act(turn, before)
    assert act.intent == "refine" and act.price is not None and act.price.max == 500
    assert act.categories == []  # TVs were already asked for


@pytest.mark.integration
def test_understanding_eval_prints_the_contract_rows(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chatrec.cli import app

    path = tmp_path / "turns.jsonl"
    act = {"intent": "recommend", "categories": ["TVs"], "price": {"max": 500}}
    row = {"id": "1", "catalog": "store", "message": "a TV under $500", "act": act}
    path.write_text(json.dumps(row) + "\n")
    args = ["eval", "--catalog", "store", "--task", "understanding", "--turns", str(path)]
    out = CliRunner().invoke(app, [*args, "--json", "--no-llm", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output.strip().splitlines()[-1])["rows"]
    assert rows[0]["system"] == "rules" and rows[0]["intent_acc"] == 1.0
    assert rows[0]["p@5"] == 1.0 and rows[0]["harmful"] == 0
    assert set(rows[0]) >= {"system", "intent_acc", "slot_f1", "act_exact", "p@5", "harmful"}
    assert REPO.exists()


@pytest.mark.integration
def test_interaction_turns_name_only_training_items() -> None:
    from chatrec.config import RuntimeConfig
    from chatrec.datasets import movielens
    from chatrec.datasets.split import leave_one_out
    from chatrec.eval.acts import _check
    from chatrec.train.acts import interaction_turns

    ml = movielens.load(RuntimeConfig().cache_dir)
    split = leave_one_out(ml)
    row = {int(u): i for i, u in enumerate(split.users)}
    titles = [it.title for it in ml.catalog]
    turns = interaction_turns(200, seed=3)
    assert len(turns) == 200 and len({t.message for t in turns}) > 190
    for t in turns:
        assert not _check(t), t
        u = row[int(t.id.rsplit("-u", 1)[1])]
        train = {titles[i] for i in split.train(u)}
        held = {titles[split.target(u, "valid")], titles[split.target(u, "test")]}
        assert set(t.act.liked) <= train and not set(t.act.liked) & (held - train)


def test_spans_of_an_act_are_found_in_its_message() -> None:
    from chatrec.understand.spans import align, amount, ordinal_refs

    msg = "loved fargo! smth dark and funny under 1.5k? not the second one tho"
    act = DialogueAct(
        intent="refine",
        mood=["dark and funny"],
        liked=["Fargo (1996)"],
        price={"max": 1500},
        refs=["2"],
    )
    spans = {(msg[s:e], label) for s, e, label in align(msg, act)}
    assert spans == {("fargo", "LIKED"), ("dark and funny", "MOOD"), ("1.5k", "PMAX")}
    assert amount("400 bucks") == 400 and amount("$1,299.99") == 1299.99
    assert ordinal_refs("the second one and #3", 5) == ["2", "3"]
    assert ordinal_refs("the last one", 4) == ["4"]
    assert ordinal_refs("the 9th one", 4) == []


def test_a_typed_title_resolves_to_the_catalog_title() -> None:
    from chatrec.understand.normalise import resolve_title

    titles = frozenset({"Fargo (1996)", "The Usual Suspects (1995)", "Toy Story (1995)"})
    assert resolve_title("fargo", titles) == "Fargo (1996)"
    assert resolve_title("usual suspects", titles) == "The Usual Suspects (1995)"
    assert resolve_title("toy stroy", titles) == "Toy Story (1995)"
    assert resolve_title("star wars", titles) is None


def test_tags_decode_to_message_spans() -> None:
    from chatrec.understand.bert import decode
    from chatrec.understand.spans import TAGS

    msg = "a scary movie"
    offsets = [(0, 0), (0, 1), (2, 7), (8, 13), (0, 0)]
    seq = [None, 1, 1, 1, None]
    tags = [0, 0, TAGS.index("B-MOOD"), 0, 0]
    assert decode(msg, offsets, seq, tags) == [("MOOD", "scary")]


def test_what_an_act_adds_to_the_rules_reading(tiny_recommender: ChatRecommender) -> None:
    from chatrec.datasets import CatalogInfo
    from chatrec.types import Constraints
    from chatrec.understand.read import constraints

    ctx = tiny_recommender.dialogue
    cats = set(tiny_recommender.catalog.categories())
    info = CatalogInfo(moods={"big screen": {"query": "large display", "categories": ["TVs"]}})
    none = Constraints()
    # What the rules missed: a budget, a category the act names, a mood's category.
    act = DialogueAct(intent="recommend", price={"max": 250.0}, mood=["big screen"])
    c = constraints(none, act, "something with a big screen, not more than $250", ctx, info)
    assert c.price_max == 250.0 and c.categories == ("TVs",)
    # A refinement keeps the request in force; the act's amount, read in its role from the
    # message, replaces the bound it names; a bound in force that the act does not name stays.
    ruled = Constraints(categories=("TVs",), price_max=900.0, price_min=300.0)
    act = DialogueAct(intent="refine", price={"max": 500.0})
    c = constraints(ruled, act, "up to 500", ctx, info, prior=ruled)
    assert (c.categories, c.price_min, c.price_max) == (("TVs",), 300.0, 500.0)
    c = constraints(ruled, DialogueAct(intent="refine"), "x", ctx, info, prior=ruled)
    assert (c.categories, c.price_min, c.price_max) == (("TVs",), 300.0, 900.0)
    # A bound the rules read from this message that the act does not name is a misreading:
    # "nothing over 200" is a ceiling, not a floor.
    misread = Constraints(categories=("TVs",), price_min=200.0)
    c = constraints(misread, DialogueAct(intent="recommend", price={"max": 200.0}), "", ctx, info)
    assert (c.price_min, c.price_max) == (None, 200.0)
    # "not too X": the hinted category is excluded, and wins over the rules' wish for it.
    c = constraints(ruled, DialogueAct(intent="refine"), "not too big screen", ctx, info)
    assert "TVs" in c.exclude_categories and "TVs" not in c.categories
    # A number no price can be (the rules named it) is never a budget.
    huge = DialogueAct(intent="recommend", price={"max": float("inf")})
    assert constraints(none, huge, "under $9999…", ctx, info).price_max is None
    assert cats  # the tiny catalog has categories to check against


@pytest.mark.integration
def test_every_committed_label_is_one_of_its_catalog() -> None:
    from chatrec.eval.acts import load

    files = sorted((REPO / "data" / "understanding").glob("train_*.jsonl"))
    files.append(REPO / "data" / "eval" / "understanding_holdout.jsonl")
    counts = {path.name: len(load(path)) for path in files}  # raises naming file:line
    assert counts["understanding_holdout.jsonl"] == 457
    assert sum(counts.values()) - 457 >= 3000 - 600  # with the interaction turns: >= 3,000


@pytest.mark.integration
def test_the_shipped_parser_reads_clear_turns() -> None:
    from chatrec.understand.bert import BertParser

    parser = BertParser.load(REPO / "data" / "parsers" / "minilm-acts", {})
    shown = ["Fargo (1996)", "Toy Story (1995)", "Scream (1996)"]
    assert parser.parse("movies", [], [], "hello there!").intent == "chit_chat"
    act = parser.parse("movies", ["a 90s movie"], shown, "which of those is the oldest?")
    assert act.intent == "compare"
    act = parser.parse("store", [], [], "I'm looking for a TV for the living room")
    assert act.intent == "recommend" and act.categories == ["TVs"]


@pytest.mark.integration
def test_bench_turn_times_the_parser() -> None:
    from chatrec.eval.bench_turn import bench_parse

    store = ChatRecommender.from_pretrained("store", llm=False)
    out = bench_parse({"store": store}, {"store": ["a TV under $500", "which is cheapest?"]})
    assert out["bert"]["n"] == 2 and 0 < out["bert"]["p50_ms"] < 5000
