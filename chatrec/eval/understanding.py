"""``chatrec eval --task understanding``: how well a parser reads labelled turns in context.

For each labelled turn (``chatrec.eval.acts``) the system under test is put into the turn's
context (the request in force is replayed; the list shown is set to ``context.shown``), then
reads the message. Scores against the gold act:

- ``intent_acc``: the intent is the gold one;
- ``slot_f1``: micro-F1 over the (slot, value) pairs of the act, all but ``intent``, ``mood``
  and ``mode`` (free words and a default are scored apart): categories, exclude, audience,
  years, price, specs, liked, disliked, refs, attribute, compare;
- ``act_exact``: intent and every scored slot right;
- ``p@5``: on recommend/refine turns, the share of the top 5 picks that satisfy the gold act
  (its categories, exclusions, audience, years, price and specs; "cheaper" means below the
  cheapest shown);
- ``harmful``: picks that break an explicit exclusion or the audience.

The rules row reads the message with today's ``dialogue.update`` and turns its ``Turn`` into an
act (``rules_act``): what the message changed in the request in force.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chatrec.act import Comparison, DialogueAct, Price, SpecRange
from chatrec.catalog import Item
from chatrec.datasets import data_dir
from chatrec.dialogue import update
from chatrec.eval.acts import LabelledTurn
from chatrec.recommender import ChatRecommender
from chatrec.types import Constraints, DialogueState, Question, Reply, Turn, refs_of
from chatrec.understand import Parser
from chatrec.understand.attributes import canonical
from chatrec.understand.read import KIDS_NEVER, KIDS_OK

HOLDOUT = data_dir() / "eval" / "understanding_holdout.jsonl"  # frozen: report, never tune
PARSERS = data_dir() / "parsers"
_INTENT = {"product_question": "question", "clarify": "recommend"}
_COMPARE = {
    "cheapest": ("price", "min"),
    "priciest": ("price", "max"),
    "best_rated": ("rating", "max"),
    "most_reviewed": ("reviews", "max"),
}


@dataclass
class Scores:
    """Running totals of one system on one set."""

    n: int = 0
    intent: int = 0
    exact: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    picks: int = 0
    good: int = 0
    harmful: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def row(self, system: str) -> dict[str, Any]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return {
            "system": system,
            "n": self.n,
            "intent_acc": round(self.intent / self.n, 4) if self.n else 0.0,
            "slot_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "act_exact": round(self.exact / self.n, 4) if self.n else 0.0,
            "p@5": round(self.good / self.picks, 4) if self.picks else 0.0,
            "harmful": self.harmful,
        }


def slots(act: DialogueAct) -> set[tuple[str, str]]:
    """The scored (slot, value) pairs of an act."""
    out: set[tuple[str, str]] = set()
    out |= {("category", c) for c in act.categories}
    out |= {("exclude", c) for c in act.exclude}
    out |= {("liked", t) for t in act.liked} | {("disliked", t) for t in act.disliked}
    out |= {("ref", _ref(r)) for r in act.refs}
    for name in ("audience", "year_min", "year_max"):
        value = getattr(act, name)
        if value is not None:
            out.add((name, str(value).lower()))
    if act.attribute is not None:
        out.add(("attribute", canonical(act.attribute)))
    if act.price is not None:
        out |= {(f"price.{k}", _num(v)) for k, v in act.price.model_dump().items() if v is not None}
    for s in act.specs:
        out |= {(f"spec.{s.name}.{k}", _num(v)) for k in ("min", "max") if (v := getattr(s, k))}
    if act.compare is not None:
        out.add(("compare", f"{canonical(act.compare.attribute)}:{act.compare.direction}"))
    return out


def _ref(ref: str) -> str:
    """A name a turn points with, as the scorer compares it: "The Shining" and "shining"
    point at the same item."""
    key = " ".join(ref.lower().split())
    return key[4:] if key.startswith("the ") else key


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float | int) else str(v)


def score_act(scores: Scores, gold: LabelledTurn, got: DialogueAct) -> None:
    """Add one parsed act to the totals."""
    want, have = slots(gold.act), slots(got)
    scores.n += 1
    scores.intent += got.intent == gold.act.intent
    scores.tp += len(want & have)
    scores.fp += len(have - want)
    scores.fn += len(want - have)
    exact = got.intent == gold.act.intent and want == have
    scores.exact += exact
    if not exact and len(scores.misses) < 200:
        scores.misses.append(
            {
                "id": gold.id,
                "message": gold.message,
                "gold": gold.act.to_text(),
                "got": got.to_text(),
            }
        )


def fits(
    item: Item, act: DialogueAct, shown: Sequence[Item], catalog: frozenset[str] = frozenset()
) -> tuple[bool, bool]:
    """(satisfies the gold act, harmful: breaks an explicit exclusion or the audience).

    The audience rule is about films for children: it holds in a catalog that has children's
    categories (``catalog``: its categories), not in a shop, where a tablet for a child is
    no Children's film."""
    cats = set(item.categories)
    harmful = bool(cats & set(act.exclude))
    if act.audience == "kids" and catalog & set(KIDS_OK):
        harmful |= bool(cats & set(KIDS_NEVER)) or not cats & set(KIDS_OK)
    ok = not harmful and (not act.categories or bool(cats & set(act.categories)))
    if act.year_min is not None or act.year_max is not None:
        y = item.year
        ok &= y is not None and (act.year_min or 0) <= y <= (act.year_max or 9999)
    if act.price is not None and item.price is not None:
        p, price = item.price, act.price
        ok &= price.max is None or p <= price.max
        ok &= price.min is None or p >= price.min
        ok &= price.around is None or 0.7 * price.around <= p <= 1.3 * price.around
        floor = min((s.price for s in shown if s.price is not None), default=None)
        if price.relative == "cheaper" and floor is not None:
            ok &= p < floor
    return ok, harmful


class Setting:
    """Puts a recommender's session into a labelled turn's context."""

    def __init__(self, rec: ChatRecommender):
        self.rec = rec
        self.by_title = {it.title: it.id for it in rec.catalog}

    def state(self, gold: LabelledTurn) -> DialogueState:
        """A fresh session with the request replayed and ``context.shown`` on screen."""
        sid = f"u-{uuid.uuid4().hex}"
        for said in gold.context.request:
            self.rec.chat(said, sid)
        state = self.rec.session(sid)
        ids = [self.by_title[t] for t in gold.context.shown if t in self.by_title]
        if ids:
            state.last_shown = ids
            state.shown = [*state.shown, *ids]
        return state


def rules_act(turn: Turn, before: Constraints, positions: Sequence[int] = ()) -> DialogueAct:
    """The act today's rules read: the intent and what the message changed in the request.
    ``positions``: where the turn's refs stand in the list shown (1-based)."""
    c = turn.constraints
    intent = _INTENT.get(turn.intent, turn.intent)
    asked = turn.asked if isinstance(turn, Question) else ""
    if asked.startswith("compare:"):
        intent = "compare"
    act: dict[str, Any] = {"intent": intent}
    new = [x for x in (*c.categories, *c.all_categories) if x not in before.categories]
    new = [x for x in new if x not in before.all_categories]
    act["categories"] = list(dict.fromkeys(new))
    act["exclude"] = [x for x in c.exclude_categories if x not in before.exclude_categories]
    for name in ("year_min", "year_max"):
        if getattr(c, name) != getattr(before, name):
            act[name] = getattr(c, name)
    price = {}
    if c.price_max != before.price_max and c.price_max is not None:
        price["max"] = c.price_max
    if c.price_min != before.price_min and c.price_min is not None:
        price["min"] = c.price_min
    if price and not any(ch.isdigit() for ch in turn.text):
        # No number said: the rules turned "cheaper"/"pricier" into a bound from the list.
        lower = c.price_max is not None and (
            before.price_max is None or c.price_max < before.price_max
        )
        price = {"relative": "cheaper" if lower else "pricier"}
    if price:
        act["price"] = Price(**price)
    act["specs"] = [  # numeric specs; feature words ("4K") are mood, not scored
        SpecRange(name=s.name, min=s.lo, max=s.hi)
        for s in c.specs
        if s not in before.specs and (s.lo is not None or s.hi is not None)
    ]
    act["refs"] = [str(i) for i in positions]
    if intent == "question" and asked and not asked.startswith("compare:"):
        act["attribute"] = asked.split(":", 1)[-1].replace("_", " ")
    if intent == "compare":
        attribute, direction = _COMPARE.get(asked.split(":", 1)[1], ("", "max"))
        if attribute:
            act["compare"] = Comparison(attribute=attribute, direction=direction)
    return DialogueAct(**act)


@contextmanager
def reading_with(rec: ChatRecommender, parser: Parser | None) -> Iterator[None]:
    """The recommender's chat reads messages with ``parser`` (None: the rules alone)."""
    kept = rec.dialogue
    rec.dialogue = replace(kept, parser=parser)
    try:
        yield
    finally:
        rec.dialogue = kept


def run_rules(rec: ChatRecommender, turns: Sequence[LabelledTurn]) -> tuple[Scores, Scores]:
    """The rules row: act scores, and end-to-end pick scores on recommend/refine turns."""
    setting = Setting(rec)
    acts, picks = Scores(), Scores()
    with reading_with(rec, None):
        for gold in turns:
            state = setting.state(gold)
            before = state.constraints
            probe = DialogueState.from_dict(state.to_dict())
            turn = update(probe, gold.message, rec.dialogue)
            positions = [
                state.last_shown.index(r) + 1 for r in refs_of(turn) if r in state.last_shown
            ]
            score_act(acts, gold, rules_act(turn, before, positions))
            if gold.act.intent in ("recommend", "refine"):
                shown = [rec.catalog.get(i) for i in state.last_shown if i in rec.catalog]
                score_picks(picks, gold, shown, rec.chat(gold.message, state.session_id), rec)
    return acts, picks


def score_picks(
    scores: Scores, gold: LabelledTurn, shown: Sequence[Item], reply: Reply, rec: ChatRecommender
) -> None:
    """Add one turn's top-5 picks, judged against the gold act, to the totals."""
    scores.n += 1
    for pick in reply.items[:5]:
        item = rec.catalog.get(pick.item_id)
        ok, harmful = fits(item, gold.act, shown, frozenset(rec.catalog.categories()))
        scores.picks += 1
        scores.good += ok
        scores.harmful += harmful


def run_parser(
    rec: ChatRecommender, parser: Parser, turns: Sequence[LabelledTurn]
) -> tuple[Scores, Scores]:
    """A parser's row: its acts as it writes them, and the picks of the chat that reads
    messages with it (``understand.read``: the act merged with the rules' normalisers), on
    recommend/refine turns: what a person using that parser gets."""
    setting = Setting(rec)
    acts, picks = Scores(), Scores()
    with reading_with(rec, parser):
        for gold in turns:
            state = setting.state(gold)
            shown = [rec.catalog.get(i) for i in state.last_shown if i in rec.catalog]
            act = parser.parse(
                gold.catalog, gold.context.request, [s.title for s in shown], gold.message
            )
            score_act(acts, gold, act)
            if gold.act.intent in ("recommend", "refine"):
                score_picks(picks, gold, shown, rec.chat(gold.message, state.session_id), rec)
    return acts, picks


SYSTEMS = ("rules", "bert", "gpt-zero-shot", "gpt-lora")


def parsers(catalog: str, rec: ChatRecommender) -> dict[str, tuple[str, Callable[[], Parser]]]:
    """The shipped parsers by key: (row name, a loader), loaded only when their row runs."""
    readers = {catalog: rec.dialogue}
    out: dict[str, tuple[str, Callable[[], Parser]]] = {}
    if (PARSERS / "minilm-acts" / "parser.json").exists():
        from chatrec.understand.bert import BertParser

        out["bert"] = (
            "bert (MiniLM + LoRA)",
            lambda: BertParser.load(PARSERS / "minilm-acts", readers),
        )
    from chatrec.understand import gpt

    out["gpt-zero-shot"] = ("gpt zero-shot (SmolLM2)", lambda: gpt.GptParser.load(None, readers))
    adapter = PARSERS / "smollm2-acts"
    if (adapter / "adapter_config.json").exists():
        out["gpt-lora"] = (
            "gpt LoRA (SmolLM2 + LoRA)",
            lambda: gpt.GptParser.load(adapter, readers),
        )
    return out


def run_understanding(
    catalog: str,
    path: Path,
    llm: bool = False,
    progress: bool = False,
    systems: Sequence[str] = SYSTEMS,
) -> dict[str, Any]:
    """The parsers named in ``systems`` (default: all of ``SYSTEMS`` that are shipped) on
    ``path``'s turns of ``catalog``: the rows of the CONTRACT table (system, intent_acc,
    slot_f1, act_exact, p@5, harmful) and the first misses of each."""
    from chatrec.eval.acts import load

    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
    turns = [t for t in load(path) if t.catalog == catalog]
    if not turns:
        raise ValueError(f"{path} has no turns of the {catalog} catalog")
    rec = ChatRecommender.from_pretrained(catalog, llm=llm)
    runs: list[tuple[str, Callable[[], tuple[Scores, Scores]]]] = []
    if "rules" in systems:
        runs.append(("rules", lambda: run_rules(rec, turns)))
    for key, (name, loader) in parsers(catalog, rec).items():
        if key in systems:
            runs.append((name, lambda loader=loader: run_parser(rec, loader(), turns)))
    rows, misses = [], {}
    for name, run in runs:
        started = time.perf_counter()
        acts, picks = run()
        row = acts.row(name)
        row["p@5"], row["harmful"] = picks.row(name)["p@5"], picks.harmful
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        misses[name] = acts.misses
    return {
        "catalog": catalog,
        "turns": str(path),
        "n": len(turns),
        "llm": llm,
        "rows": rows,
        "misses": misses,
    }


def table(result: dict[str, Any]) -> str:
    """The rows as a Markdown table."""
    head = (
        "| system | intent acc | slot F1 | act exact | p@5 | harmful |\n|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r['system']} | {r['intent_acc']:.3f} | {r['slot_f1']:.3f} | {r['act_exact']:.3f} "
        f"| {r['p@5']:.3f} | {r['harmful']} |"
        for r in result["rows"]
    ]
    return "\n".join([f"{result['catalog']}: {result['n']} turns ({result['turns']})", head, *rows])
