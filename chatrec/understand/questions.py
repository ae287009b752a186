"""Questions about items that the request rules would misread as requests.

Input: the message, the state, the catalog's ``DialogueContext``, the categories the message
names and its ``Refs``. Output (``qa_turn``): a ``product_question`` turn (``asked``: "price",
"rating", "feature:<term>", "policy:<topic>", "compare:<op>", "unknowable"; ``refs``: the
items meant) for ``qa.py`` to answer, or None when the message is no such question. ``asked``
says what a question asks; ``QUESTION`` and ``WANTS_LIST`` tell a question from a request for
a list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chatrec.qa import compare_op, feature_term, unknowable
from chatrec.types import Constraints, DialogueState, Question
from chatrec.understand.references import Refs
from chatrec.understand.wordlists import load

if TYPE_CHECKING:
    from chatrec.understand.context import DialogueContext

_WORDS = load()
QUESTION = re.compile(
    rf"\?\s*$|^\s*{_WORDS.pattern('question_words', 'question_openers')}", re.IGNORECASE
)
WANTS_LIST = re.compile(rf"{_WORDS.pattern('wants_list', run_on=True)}|\bany good \w+s\b")
# What a question about an item asks, in the order ``asked`` tries them.
_FACTS = {
    "price": re.compile(_WORDS.pattern("fact_price")),
    "discount": re.compile(_WORDS.pattern("fact_discount")),
    "rating": re.compile(
        _WORDS.pattern("fact_rating")
        + r"|\b(?:people|buyers|customers|folks) (?:actually )?(?:like|love|think)\b"
    ),
    "year": re.compile(_WORDS.pattern("fact_year")),
    "category": re.compile(_WORDS.pattern("fact_category")),
}
_FEATURE = re.compile(
    r"\b(?:have|has|got|support|supports|come with|comes with|include|includes|with)\s+"
    r"(?:an?\s+|the\s+|any\s+)?(?P<term>[a-z0-9][a-z0-9+\- ]{1,30}?)\s*(?:\?|$|,|\band\b|\bor\b)"
)
_CARRY = re.compile(
    r"\b(?:do|does) (?:you|u|you guys|you all|y'?all|the (?:store|shop)) (?:still )?"
    r"(?:have|sell|carry|stock)\b|\bcan i (?:get|buy)\b"
    r"|\b(?:you|u) (?:guys |all )?(?:stock|carry|sell)\b"
)
_CLAUSE_QUESTION = re.compile(
    rf"(?:^|[,.;:!\-–—]\s*)(?:{_WORDS.pattern('question_words')}|any\b)", re.IGNORECASE
)


def asked(text: str) -> str:
    """What a product question asks: a fact named in it, else a feature, else "" (all)."""
    low = text.lower()
    for name in ("price", "discount", "rating"):
        if _FACTS[name].search(low):
            return name
    known = feature_term(low)
    if known:
        return f"feature:{known[0]}"
    m = _FEATURE.search(low) if not _CARRY.search(low) else None  # "do you have the X?"
    if m:
        term = m["term"].strip()
        if term and term.split()[0] not in ("it", "that", "this", "one", "them", "they"):
            return f"feature:{term}"
    for name, pattern in _FACTS.items():
        if pattern.search(low):
            return name
    return ""


def _feature_span(low: str) -> tuple[int, int] | None:
    known = feature_term(low)
    if known:
        return known[1]
    m = _FEATURE.search(low)
    return m.span("term") if m else None


def qa_turn(
    q: str,
    state: DialogueState,
    ctx: DialogueContext,
    categories: tuple[str, ...],
    refs: Refs,
    named: list[str],
    flags: list[str],
    base: dict[str, Any],
) -> Question | None:
    """Questions ``qa.py`` answers that the rest of ``update`` would read as requests: store
    policies, what no catalog knows, comparisons over the products in play, products named
    in a question (or not carried), and the answer to "which one do you mean?"."""
    low = q.lower()
    wants = bool(WANTS_LIST.search(low))
    # "i want the actual number" in a question is no list request: a question mark or a
    # clause that asks ("..., how many stars") makes it a question.
    asking = ("?" in q or bool(_CLAUSE_QUESTION.search(q))) or (
        bool(QUESTION.search(q)) and not wants
    )
    carry = bool(_CARRY.search(low))
    c0 = state.constraints

    def turn(what: str, ids: Sequence[str] = (), **kw: Any) -> Question:
        return Question(
            text=q, constraints=c0, refs=tuple(ids), asked=what, flags=tuple(flags), **kw, **base
        )

    topic = ctx.policies.topic(low) if ctx.policies else ""
    # Policy words ("refund", "warranty", "price match") rarely belong to a product request;
    # "I want a laptop with free shipping" (a list request naming a category) is one.
    if topic and not (wants and categories and "?" not in q):
        return turn(f"policy:{topic}")
    if unknowable(low) and (asking or carry):
        return turn("unknowable", refs.ids or named or refs.pronoun)
    op = compare_op(low)
    if op and (asking or low.lstrip().startswith(("the ", "and ", "which"))):
        ids = list(refs.ids) if len(refs.ids) >= 2 else list(named) if len(named) >= 2 else []
        shown = list(state.last_shown)
        if not ids and shown:
            shown_cats = {
                c for i in shown if (it := ctx.item(i)) is not None for c in it.categories
            }
            if not categories or set(categories) & shown_cats:
                ids = shown
        if op == "difference" and len(ids) >= 2 and not refs.ids:
            ids = ids[:2]
        if ids or (categories and op != "difference"):
            return replace(
                turn(f"compare:{op}", ids), constraints=Constraints(categories=categories)
            )
    # The answer to our "which one do you mean?": "the second one", "the 44mm".
    if state.pending and (refs.ids or named) and len(low.split()) <= 8:
        ids = refs.ids or named
        if len(ids) == 1:
            state.focus = ids[0]
            return turn(state.pending, ids)
    if ctx.resolver is None or refs.ids:
        return None
    what = asked(q)
    if not ((asking and what) or carry):
        return None
    skip = []
    span = _feature_span(low) if what.startswith("feature:") else None
    if span:
        skip.append(span)
    in_play = [i for i in (state.focus, *state.last_shown) if i]
    # "the Sony" while talking about soundbars: a Sony soundbar, if we have one.
    res = ctx.resolver.resolve(q, categories, in_play, skip, prefer=c0.categories)
    if res is None:
        return None
    if res.missing:
        return turn(what, res.related, missing=res.missing, name=res.name)
    if carry and not asking:
        return None  # "do you have Sony TVs?": a request for a list
    if not (res.ids or res.options):
        return None
    if res.ids:
        if len(res.ids) == 1:
            state.focus = res.ids[0]
        return turn(what, res.ids)
    return turn(what, options=tuple(res.options), name=res.name)
