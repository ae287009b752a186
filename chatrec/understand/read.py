"""What the learned parser's act changes in a turn the rules have read (issue 17).

``dialogue.update`` screens a message (sanitize, guard), parses it into a ``DialogueAct`` with
the catalog's parser, reads it with the rules (the normalisers: money, years, specs, titles,
references), and then ``with_act`` lets the act decide what the rules cannot:

- "why did you pick that?" is a ``why`` turn about the item meant (not a new list);
- "which of those has the longest battery life?" compares the shown items on that attribute;
- "I really enjoyed Fargo, anything similar?" is a request for films like Fargo (Fargo becomes
  history, is never offered back), not a question about Fargo;
- an audience of kids means Children's or Animation and nothing in Horror, Crime, Thriller or
  War; what the act excludes ("not too scary") is excluded; a budget the rules did not read
  ("not more than $250") is the budget; mood words ("make me cry") search for what the
  catalog card says they mean;
- a request for something the catalog does not hold ("laptops" among films) is told what the
  catalog holds.

The guard's verdicts (hostile text, other people's data, another language) always stand.
"""

from __future__ import annotations

import copy
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatrec.act import DialogueAct
from chatrec.qa import measure_of
from chatrec.text import STOP_WORDS
from chatrec.types import Aside, Constraints, DialogueState, Question, Request, Turn, Why
from chatrec.understand import wordlists
from chatrec.understand.checks import (
    KIDS_OK,
    asks_price_or_rating,
    negated_moods,
    refused_names,
    setting_only,
)

if TYPE_CHECKING:
    from chatrec.datasets import CatalogInfo, MoodHint
    from chatrec.understand import Parser
    from chatrec.understand.context import DialogueContext

log = logging.getLogger(__name__)

PARSERS = Path(__file__).resolve().parents[2] / "data" / "parsers"
KIDS_NEVER = ("Horror", "Crime", "Thriller", "War")
# The rules validate a "why": the words must ask for a reason ("how do #1 and #3 compare?"
# is not one, whatever the model says).
_WHY = re.compile(
    r"\bwhy\b|\bhow come\b|\breasons?\b|\bwhat made you\b|\bexplain\b|\bjustify\b",
    re.IGNORECASE,
)
# "why not X?", "why didn't you pick X": the reason asked for is why X is not in the list.
_WHY_NOT = re.compile(
    wordlists.load().pattern("why_not")
    + r"(?:\s+"
    + wordlists.load().pattern("why_not_verbs", run_on=True)
    + r")?(?:\s+(?:me|us|in))?",
    re.IGNORECASE,
)
_REQUESTS = ("recommend", "refine", "onboarding")
_GUARDED = ("injection", "abuse", "privacy", "private", "language", "binary")


def load_parser(choice: str, catalog: str, info: CatalogInfo, reader: object) -> Parser | None:
    """The parser a recommender reads messages with: ``choice`` "auto" (the catalog card's,
    BERT-style), "bert", "gpt" or "rules" (None). None too when the catalog has no trained
    parser (a catalog file of one's own: the rules read it)."""
    if choice == "rules" or not info.parser:
        return None
    folder = PARSERS / info.parser
    if choice in ("auto", "bert"):
        if not (folder / "parser.json").exists():
            log.warning("no parser in %s: the rules read every message", folder)
            return None
        from chatrec.understand.bert import BertParser

        parser = BertParser.load(folder, {catalog: reader})
        return parser if catalog in parser.model.heads.categories else None
    from chatrec.understand import gpt

    adapter = PARSERS / "smollm2-acts"
    lora = adapter if (adapter / "adapter_config.json").exists() else None
    return gpt.GptParser.load(lora, {catalog: reader})


def parse(
    parser: Parser | None, text: str, state: DialogueState, ctx: DialogueContext
) -> DialogueAct | None:
    """The act of a screened message in its context, or None (no parser, or it failed)."""
    if parser is None or ctx.catalog is None:
        return None
    shown = [ctx.catalog.get(i).title for i in state.last_shown if i in ctx.catalog]
    try:
        return parser.parse(ctx.catalog.name, state.request, shown, text)
    except Exception:  # a model failure never loses the message: the rules read it
        log.exception("the %s parser failed; the rules read the message", parser.name)
        return None


def with_act(
    turn: Turn,
    act: DialogueAct | None,
    state: DialogueState,
    before: DialogueState,
    ctx: DialogueContext,
    info: CatalogInfo,
) -> Turn:
    """The rules' ``turn``, corrected by the parser's ``act`` (see the module's doc).
    ``before``: the state as it was before the rules read the message; a turn the act
    decides otherwise starts from it (the rules' reading is not committed)."""
    if act is None or ctx.catalog is None or any(f in turn.flags for f in _GUARDED):
        return turn
    out = _decide(turn, act, state, before, ctx, info)
    return turn if out is None else out


def _restore(state: DialogueState, before: DialogueState) -> None:
    for name, value in vars(before).items():
        setattr(state, name, copy.deepcopy(value))


def _question(
    turn: Turn, state: DialogueState, ids: tuple[str, ...], asked: str, **extra: Any
) -> Question:
    """The question ``turn`` asks of the items ``ids`` (``asked``: what ``qa`` answers)."""
    return Question(
        text=turn.text,
        constraints=state.constraints,
        notice=turn.notice,
        refs=ids,
        asked=asked,
        flags=turn.flags,
        **extra,
    )


def _decide(
    turn: Turn,
    act: DialogueAct,
    state: DialogueState,
    before: DialogueState,
    ctx: DialogueContext,
    info: CatalogInfo,
) -> Turn | None:
    """The corrected turn, or None when the rules' turn stands."""
    shown = before.last_shown
    if act.intent == "why" and shown and _WHY.search(turn.text):
        _restore(state, before)
        absent = _why_not(turn, state, ctx)
        if absent is not None:
            return absent
        ids = _pointed(act.refs, state, ctx)[:1]
        if ids:
            state.focus = ids[0]
        return Why(
            text=turn.text,
            constraints=state.constraints,
            notice=turn.notice,
            refs=tuple(ids),
            flags=turn.flags,
        )
    # The rules answer price, rating and review comparisons; a measure a listing states
    # ("the longest battery life") is the act's to ask.
    measured = act.compare is not None and measure_of(act.compare.attribute) is not None
    rules_answer = turn.intent == "product_question" and not measured
    if act.intent == "compare" and act.compare is not None and shown and not rules_answer:
        _restore(state, before)
        ids = tuple(_pointed(act.refs, state, ctx, every=True))
        asked = f"compare:attr:{act.compare.attribute.lower()}:{act.compare.direction}"
        return _question(turn, state, ids, asked)
    fact = asks_price_or_rating(turn.text)
    if act.intent == "question" and fact and isinstance(turn, Request):
        # "what would the fourth set me back": the price of an item, not a list of items
        _restore(state, before)
        ids = tuple(_pointed(act.refs, state, ctx))
        extra: dict[str, Any] = {}
        if not ids and ctx.resolver is not None:  # "px7 s2 star rating pls": named
            in_play = [i for i in (state.focus, *state.last_shown) if i]
            got = ctx.resolver.resolve(turn.text, (), in_play, prefer=state.constraints.categories)
            if got is not None and got.missing:
                extra = {"missing": got.missing, "name": got.name}
                ids = tuple(got.related)
            elif got is not None and got.options and not got.ids:
                extra = {"options": tuple(got.options), "name": got.name}
            elif got is not None:
                ids = tuple(got.ids)
        if len(ids) == 1:
            state.focus = ids[0]
        return _question(turn, state, ids, fact, **extra)
    if act.intent not in _REQUESTS:
        return None
    if _not_held(act, turn, info):
        _restore(state, before)
        return Aside(
            text=turn.text,
            intent="out_of_scope",
            constraints=state.constraints,
            notice=turn.notice,
            flags=(*turn.flags, "not_held"),
        )
    liked = [i for i in (_title_id(t, ctx) for t in act.liked) if i]
    if turn.intent == "product_question" and liked:
        _restore(state, before)
        return _like_request(turn, act, liked, state, ctx, info)
    if not isinstance(turn, Request):
        return None
    said = act if not turn.impossible else act.model_copy(update={"price": None})
    c = constraints(turn.constraints, said, turn.text, ctx, info, before.constraints)
    state.constraints = c
    query = _unwanted_out(_query(turn.query, act, info), c.exclude_categories, ctx)
    query = query or info.nouns
    state.liked.extend(i for i in liked if i not in state.liked)
    # "a tablet, anything but the galaxy tab a7 lite": turned down, never among the picks
    refused = [i for i in (_title_id(t, ctx) for t in act.disliked) if i and i not in liked]
    state.rejected.extend(i for i in refused if i not in state.rejected)
    exclude = tuple(dict.fromkeys([*turn.exclude, *liked, *refused]))
    if query != turn.query and state.topic == turn.query:
        state.topic = query
    return replace(turn, constraints=c, query=query, exclude=exclude)


def constraints(
    c: Constraints,
    act: DialogueAct,
    text: str,
    ctx: DialogueContext,
    info: CatalogInfo,
    prior: Constraints | None = None,
) -> Constraints:
    """The rules' constraints with what the act says and the rules missed. ``prior``: the
    constraints in force before the message."""
    cats = frozenset(ctx.catalog.categories()) if ctx.catalog is not None else frozenset()
    negated = negated_moods([text, *act.mood], info, avoided=True)
    exclude = [*c.exclude_categories, *(x for x in [*act.exclude, *negated] if x in cats)]
    # A kind the checked act wants is not ruled out by a part of it refused ("scary movies
    # but not slashers": the rules read Horror both ways).
    exclude = [x for x in exclude if x not in act.categories]
    # What the act rules out (checked: never a category the message names plainly) is never
    # wanted, whatever the rules' words matched ("exclude horror stuff").
    c = replace(c, categories=tuple(x for x in c.categories if x not in act.exclude))
    # The rules' categories, less what the message names only as the setting ("a streaming
    # stick for my old tv" wants no TV); the act's when the rules read none.
    setting = setting_only(text, ctx.lexicon)
    wanted = [x for x in c.categories if x not in exclude and x not in setting]
    if not wanted and not c.all_categories:
        wanted = [x for x in act.categories if x in cats and x not in exclude]
    if not wanted and not c.all_categories:
        wanted = [x for x in _hinted(act, info) if x in cats and x not in exclude]
    every = list(c.all_categories)
    if act.audience == "kids" and any(x in cats for x in KIDS_OK):
        # Films for children: Children's or Animation, never Horror, Crime, Thriller or War;
        # one other genre asked for ("space", "a comedy") must hold too.
        exclude += [x for x in KIDS_NEVER if x in cats]
        other = [x for x in wanted if x not in KIDS_OK and x not in KIDS_NEVER]
        wanted = [x for x in wanted if x in KIDS_OK] or [x for x in KIDS_OK if x in cats]
        every = [x for x in every if x not in KIDS_NEVER]
        if len(other) == 1 and not every:
            every = other
    c = replace(
        c,
        categories=tuple(dict.fromkeys(wanted)),
        all_categories=tuple(dict.fromkeys(every)),
        exclude_categories=tuple(dict.fromkeys(x for x in exclude if x not in wanted)),
        exclude_names=tuple(dict.fromkeys([*c.exclude_names, *refused_names(text, ctx, wanted)])),
    )
    # The normalisers' years ("nothing made after 1985"), bound by bound.
    years = {k: v for k in ("year_min", "year_max") if (v := getattr(act, k)) is not None}
    prior = prior or Constraints()
    c = _bounds(c, prior, years, "year_min", "year_max")
    price = act.price
    sane = price is not None and all(
        v is None or math.isfinite(v) for v in (price.max, price.min, price.around)
    )
    if sane and price is not None and ctx.has_prices:
        # The normalisers' amounts, each in its role ("nothing over 250" is a ceiling), bound
        # by bound over what the rules read; a bound of the request in force that contradicts
        # them goes.
        said: dict[str, float] = {}
        if price.around is not None:
            said = {"price_min": round(0.75 * price.around, 2)}
            said["price_max"] = round(1.25 * price.around, 2)
        said |= {
            k: v for k, v in (("price_max", price.max), ("price_min", price.min)) if v is not None
        }
        c = _bounds(c, prior, said, "price_min", "price_max")
    return c


def _bounds(
    c: Constraints, prior: Constraints, said: Mapping[str, float], lo: str, hi: str
) -> Constraints:
    """``c`` with the act's bounds (``said``) of one range (years or price): a bound the act
    does not say stays only when it was in force before the message (``prior``): one the
    rules read from this message and the act does not is a misreading ("nothing over 200"
    is no floor); a bound in force that contradicts the act's goes."""
    if not said:
        return c
    kept = {k: getattr(c, k) if getattr(c, k) == getattr(prior, k) else None for k in (lo, hi)}
    c = replace(c, **{**kept, **said})
    a, b = getattr(c, lo), getattr(c, hi)
    if a is not None and b is not None and a > b:
        c = replace(c, **{k: None for k in (lo, hi) if k not in said})
    return c


def _hinted(act: DialogueAct, info: CatalogInfo) -> list[str]:
    """The categories the card's mood hints give the act's mood words."""
    return [c for hint in _hints(act, info) for c in hint.categories]


def _hints(act: DialogueAct, info: CatalogInfo) -> list[MoodHint]:
    """The card's hints for the act's mood words ("not too scary" asks for less, not more)."""
    out: list[MoodHint] = []
    for mood in act.mood:
        low = mood.lower()
        if re.match(r"(?:not|no|nothing|never|without|less)\b", low):
            continue
        out += [h for key, h in info.moods.items() if re.search(rf"\b{re.escape(key)}", low)]
    excluded = set(act.exclude)
    unique = [h for n, h in enumerate(out) if h not in out[:n]]
    return [h for h in unique if not excluded & set(h.categories)]


def _query(query: str, act: DialogueAct, info: CatalogInfo) -> str:
    """What retrieval embeds: the card's words for the act's moods first (a title with
    "cry" in it is not a film that makes one cry), then what the rules kept."""
    words = [h.query for h in _hints(act, info)]
    if not words:
        return query
    for mood in act.mood:  # the hint says it better than the words ("cry" is in titles)
        query = re.sub(rf"\b{re.escape(mood)}\b", " ", query, flags=re.IGNORECASE)
    return " ".join([*dict.fromkeys(words), " ".join(query.split())]).strip()


_EMPTY = frozenset(
    [
        "no",
        "not",
        "nothing",
        "none",
        "without",
        "except",
        "away",
        "spare",
        "keep",
        "stay",
        "please",
        "pls",
    ]
)


def _unwanted_out(query: str, unwanted: Sequence[str], ctx: DialogueContext) -> str:
    """The query without the words of categories ruled out ("keep the war films away":
    retrieval must not look for "war")."""
    if not unwanted:
        return query
    low = query.lower()
    for start, end, phrase in reversed(ctx.lexicon.find(low)):
        if set(ctx.lexicon.aliases.get(phrase, ())) <= set(unwanted):
            query = query[:start] + " " + query[end:]
    left = re.findall(r"[a-z']+", query.lower())
    if all(w in STOP_WORDS or w in _EMPTY for w in left):
        return ""  # "no horror" leaves "no": nothing to search for
    return " ".join(query.split())


def _not_held(act: DialogueAct, turn: Turn, info: CatalogInfo) -> bool:
    """A request only for a thing the catalog does not hold ("laptops" among films)."""
    if act.categories or turn.constraints.categories or turn.constraints.all_categories:
        return False
    if act.liked or (isinstance(turn, Request) and turn.like) or not info.not_held:
        return False
    held = {w.lower() for w in info.not_held}
    said = [m.lower().strip() for m in act.mood]
    if not said and turn.intent in _REQUESTS:
        said = [turn.text.lower().strip(" .!?")]
    if any(m in held or (m.split() and m.split()[-1] in held) for m in said):
        return True
    return _names_not_held(turn.text, held)


# "something for movie night", "a film for my tv": the thing is a use, not what is asked for.
_USE_BEFORE = re.compile(
    r"\b(?:watch(?:es|ing|ed)?|stream(?:s|ing)?|play(?:s|ing)?|for|on|with|to|in|my|our"
    r"|i|we|you|they|he|she)\s+"  # "I film my rides": a verb
    r"(?:[\w'-]+\s+)?$"
)


def _names_not_held(text: str, held: set[str]) -> bool:
    """Whether the message asks for a thing of ``held`` by name ("a comedy film for tonight"
    among electronics, "I need a blender"), not as a use of what it asks for."""
    low = text.lower()
    for word in held:
        for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low):
            if not _USE_BEFORE.search(low[: m.start()]):
                return True
    return False


def _like_request(
    turn: Turn,
    act: DialogueAct,
    liked: list[str],
    state: DialogueState,
    ctx: DialogueContext,
    info: CatalogInfo,
) -> Turn:
    """ "I really enjoyed Fargo, anything similar?": films like the liked ones; they become
    history and are never offered back. What else the act says holds ("my kids liked ...":
    films for children)."""
    items = [ctx.item(i) for i in liked]
    docs = [it.document() for it in items if it is not None]
    query = " ".join([*docs, *act.mood]).strip()
    state.liked.extend(i for i in liked if i not in state.liked)
    state.topic = query
    c = constraints(Constraints(), act, turn.text, ctx, info)
    state.constraints = c
    exclude = tuple(dict.fromkeys([*state.rejected, *state.liked]))
    return Request(
        text=turn.text,
        intent="recommend",
        constraints=c,
        notice=turn.notice,
        flags=turn.flags,
        k=turn.k,
        unsupported=turn.unsupported,
        impossible=turn.impossible,
        query=query,
        exclude=exclude,
        refs=tuple(liked),
        like=tuple(liked),
    )


def _why_not(turn: Turn, state: DialogueState, ctx: DialogueContext) -> Why | None:
    """ "why not X?" about an X that is not among the picks shown: a ``Why`` with ``absent``
    (refs: X, none when the words name nothing we carry); None when the message is no
    why-not or X is shown (then it is the plain "why X?")."""
    cue = _WHY_NOT.search(turn.text)
    if ctx.catalog is None or cue is None:
        return None
    shown = state.last_shown
    named = [m.item_id for m in ctx.matcher.find(turn.text)] if ctx.matcher else []
    if not named:  # "why not fargo": the rest of the message is a title, typed in lower case
        named = [i for i in [_typed_title(turn.text[cue.end() :], ctx)] if i]
    if any(i in shown for i in named):
        return None
    got = None
    if not named and ctx.resolver is not None:  # shops: long product names, said loosely
        got = ctx.resolver.resolve(turn.text[cue.end() :], prefer=state.constraints.categories)
        named = list(got.ids[:1]) if got is not None else []
        if any(i in shown for i in named):
            return None
    return Why(
        text=turn.text,
        constraints=state.constraints,
        notice=turn.notice,
        refs=tuple(named[:1]),
        flags=turn.flags,
        absent=True,
        missing=got.missing if got is not None else "",
        options=tuple(got.options) if got is not None else (),
    )


def _typed_title(rest: str, ctx: DialogueContext) -> str | None:
    """The item whose title the words are, as typed (any case, no year), or None."""
    from chatrec.understand.normalise import exact_title

    if ctx.catalog is None:
        return None
    words = re.sub(r"^\W*(?:the\s+)?|[\s?!.,]+$", "", rest.lower())
    title = exact_title(words, frozenset(it.title for it in ctx.catalog)) if words else None
    return _title_id(title, ctx) if title else None


def _title_id(title: str, ctx: DialogueContext) -> str | None:
    if ctx.catalog is None:
        return None
    return next((it.id for it in ctx.catalog if it.title == title), None)


def _pointed(
    refs: Sequence[str], state: DialogueState, ctx: DialogueContext, every: bool = False
) -> list[str]:
    """The shown items an act's references mean: positions, "all", or a name fragment; with
    none, the item in focus (or the first shown), or every shown one for a comparison."""
    shown = list(state.last_shown)
    out: list[str] = []
    for ref in refs:
        if ref == "all":
            out += shown
        elif ref.isdigit() and 1 <= int(ref) <= len(shown):
            out.append(shown[int(ref) - 1])
        elif ctx.catalog is not None:
            low = ref.lower()
            out += [
                i for i in shown if i in ctx.catalog and low in ctx.catalog.get(i).title.lower()
            ][:1]
    out = list(dict.fromkeys(out))
    if out:
        return out
    if every:
        return shown
    return [state.focus] if state.focus in shown else shown[:1]
