"""The rules' reading of a screened message: validate it against the catalog, merge it into
the state.

Input: a ``Screened`` message (``guard.screen``), the state and the catalog's
``DialogueContext``. ``read`` finds the titles named, the references to the last list and the
constraints (money, years, specs, categories, read by ``constraints.parse`` and checked
against what the catalog has); a foreign or off-topic message with nothing the catalog can
act on ends there. ``decide`` turns the ``Reading`` into the turn: a question, praise, a
clarifying question (contradictions, years outside the catalog, a reference past the list),
or a request, refinement or 👎 merged into the request in force and committed to the state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from chatrec.constraints import parse
from chatrec.qa import NOT_A_NAME
from chatrec.types import (
    Aside,
    Clarify,
    Constraints,
    DialogueState,
    Judgement,
    Question,
    Request,
    Said,
    Turn,
)
from chatrec.understand.guard import Screened, is_foreign, off_topic
from chatrec.understand.questions import QUESTION, WANTS_LIST, asked, qa_turn
from chatrec.understand.references import PRONOUN, Refs, references, requested_count
from chatrec.understand.wordlists import load

if TYPE_CHECKING:
    from chatrec.understand.context import DialogueContext

QUERY_CHARS = 1_000  # what retrieval reads of a message
# An added genre is kept only if the catalog has this many items with every genre asked for.
MIN_COMBINED = 5

_WORDS = load()
_MORE = re.compile(_WORDS.pattern("more"), re.IGNORECASE)
_LIKE_CUE = re.compile(
    r"(?:\b(?:more|something|anything|stuff|films?|movies?|ones|others|products?|items?|"
    r"things?|some(?:thing)?|titles?)\s+(?:just\s+|a\s+bit\s+|kind\s+of\s+)?like\b"
    r"|\bsimilar(?:\s+ones?)?(?:\s+to)?\b|\balong the lines of\b|\bin the vein of\b"
    r"|\bin the style of\b|\breminiscent of\b|\bcomparable to\b|^\s*like\b|\bmore of\b)"
)
_NEGATIVE = re.compile(
    r"\bnot\s+(?:that|this|the|those|these|it|#|number|\w+\s+one)\b"
    r"|\b(?:i'?ve|i have|we'?ve|we have|already)\s+(?:already\s+)?(?:seen|watched|got|bought|own|"
    r"have|read)\b|\b(?:don'?t|do not|didn'?t) (?:like|want|need|care for)\b|"
    + _WORDS.pattern("negative")
)
_POSITIVE = re.compile(
    r"\b(?:i\s+)?(?:really\s+)?(?:like|love|liked|loved|enjoy(?:ed)?|prefer|want|'ll take|"
    r"will take)\b|\b(?:looks|sounds|seems|is)\s+(?:really\s+)?(?:good|great|perfect|nice|"
    r"interesting|cool|awesome)\b|" + _WORDS.pattern("positive")
)
_NEW_PERSON = re.compile(_WORDS.pattern("new_person"))
_TASTES = re.compile(
    r"\b(?:i|we)\s+(?:really\s+|usually\s+|mostly\s+|also\s+|just\s+)?(?:love|like|enjoy|adore|"
    r"prefer|watch|am into|'m into)\b|\bi'?m (?:really |a )?(?:into|fan of|big fan of)\b"
    r"|\bmy favou?rites?\b|\bfavou?rite (?:films?|movies?|genres?|brands?)\b|\bfan of\b"
)
_NOT_AN_AMOUNT = r"(?!\s+than\s+\$?\s?\d)"  # "cheaper than $300" is a budget (constraints)
_CHEAPER = re.compile(_WORDS.pattern("cheaper") + _NOT_AN_AMOUNT)
_PRICIER = re.compile(_WORDS.pattern("pricier") + _NOT_AN_AMOUNT)
# A person's name after "with"/"by"/"starring" (films only: in a shop "with Dolby Atmos" is a
# feature, not a person).
_PERSON = re.compile(r"\b(?:with|by|starring|featuring)\s+[A-Z][a-z]+\s+[A-Z][a-z]+(?:\s|$|[,.!?])")
_MONEY_WORDS = re.compile(r"\$\s?\d|\b\d+\s?(?:dollars|bucks)\b|\bcheaper\b|\bprice[sd]?\b")
_FILLER = _WORDS.word_set("request_filler")
_VAGUE = re.compile(_WORDS.pattern("vague"))
_SURPRISE = re.compile(_WORDS.pattern("surprise"))
_NOT_CONTENT = _WORDS.word_set("not_content")
# An added wish, not a new one: "and funny", "but scary", "with some romance", "funny too".
_ADD_START = re.compile(rf"^\W*{_WORDS.pattern('adds_at_start')}")
_ADD_END = re.compile(rf"{_WORDS.pattern('adds_at_end')}\W*$")
_ADD_ANY = re.compile(_WORDS.pattern("adds_anywhere"))
_SWITCH = re.compile(rf"{_WORDS.pattern('switch', run_on=True)}|\bnot (?:a|an|any)\b")


T = TypeVar("T", bound=Said)


@dataclass
class Reading:
    """What one message says, read before deciding what the turn does (``decide``)."""

    text: str  # the cleaned message
    q: str  # what the constraints and references are read from (cut to QUERY_CHARS)
    low: str
    flags: list[str]
    base: dict[str, Any]  # notice, k, unsupported, impossible: carried by every Turn of it
    said: Constraints
    mentions: list[Any]  # titles named (``mentions.Mention``)
    refs: Refs
    named: list[str]  # ids of the titles named
    recognised: bool  # the message says something the catalog can act on
    tastes: bool = False
    like: list[str] = field(default_factory=list)
    cue: re.Match[str] | None = None
    feedback: Literal["", "positive", "negative"] = ""
    targets: list[str] = field(default_factory=list)
    is_question: bool = False

    def turn(self, kind: type[T], c: Constraints, **kw: Any) -> T:
        """A turn of this message of the given kind, carrying what every turn of it carries."""
        return kind(text=self.text, constraints=c, flags=tuple(self.flags), **self.base, **kw)


def read(s: Screened, state: DialogueState, ctx: DialogueContext) -> Reading | Turn:
    """Titles, references and constraints of a message; a foreign or off-topic one ends here."""
    text, notice, flags = s
    c0 = state.constraints
    q = text[:QUERY_CHARS]
    low = q.lower()
    mentions = ctx.matcher.find(q) if ctx.matcher else []
    # A title is a name, not a wish: "like Star Wars" asks for no War film, "Fargo (1996)" for
    # no year. Constraints are read with the titles blanked out (same length: spans stay put);
    # the search text keeps them.
    untitled = q
    for m in mentions:
        untitled = untitled[: m.start] + " " * (m.end - m.start) + untitled[m.end :]
    said = parse(untitled, ctx.lexicon, ctx.newest_year, ctx.has_prices, ctx.spec_names)
    if mentions:
        whole = parse(q, ctx.lexicon, ctx.newest_year, ctx.has_prices, ctx.spec_names)
        said = replace(said, positive_text=whole.positive_text)
    refs = references(low, state, [(m.start, m.end) for m in mentions])
    named = list(dict.fromkeys(m.item_id for m in mentions))
    unsupported = list(said.unsupported)
    if (
        ctx.newest_year
        and _PERSON.search(q)
        and not mentions
        and "cast or director" not in unsupported
    ):
        unsupported.append("cast or director")  # films: "a comedy with Tom Hanks"
    if not ctx.has_prices and _MONEY_WORDS.search(low) and "price" not in unsupported:
        unsupported.append("price")
    recognised = bool(
        said.categories
        or said.exclude_categories
        or said.specs
        or said.price_min is not None
        or said.price_max is not None
        or said.year_min is not None
        or said.year_max is not None
        or named
    )
    if is_foreign(q):
        flags.append("language")
        if not recognised:
            return Aside(
                text=text, intent="out_of_scope", constraints=c0, notice=notice, flags=tuple(flags)
            )
    if off_topic(q) and not recognised and not refs.ids:
        flags.append("off_topic")
        return Aside(
            text=text, intent="out_of_scope", constraints=c0, notice=notice, flags=tuple(flags)
        )
    k, capped = requested_count(low, ctx.lexicon)
    if capped:
        flags.append("capped")
    base = {
        "notice": notice,
        "k": k,
        "unsupported": tuple(unsupported),
        "impossible": said.impossible,
    }
    return Reading(text, q, low, flags, base, said, mentions, refs, named, recognised)


def decide(r: Reading, state: DialogueState, ctx: DialogueContext) -> Turn:
    """The turn of a message the rules have read; a request is committed to the state."""
    early = _classify(r, state, ctx)
    return early if early is not None else _act(r, state, ctx)


def _classify(r: Reading, state: DialogueState, ctx: DialogueContext) -> Turn | None:
    """Questions, praise, contradictions and too-vague newcomers get their turn here; None
    for a request (or a 👎) that acts on the catalog (``_act``)."""
    c0, low, refs, named = state.constraints, r.low, r.refs, r.named
    # A person describing their tastes ("I'm new, I love films like Toy Story") onboards: the
    # titles they name are liked, not one-off "more like" references.
    r.tastes = (
        bool(_NEW_PERSON.search(low))
        or (bool(_TASTES.search(low)) and not (refs.ids and state.last_shown))
        or (state.onboarding_asks > 0 and not state.topic)  # the answer to our question
    )
    # "more like Fargo", "similar to the second one", "more like that"
    r.cue = _LIKE_CUE.search(low)
    if r.cue and not r.tastes:
        after = [m.item_id for m in r.mentions if m.start >= r.cue.start()]
        ref_after = any(a >= r.cue.start() for a, _ in refs.spans)
        pron = PRONOUN.search(low, r.cue.end())
        r.like = after or (refs.ids if ref_after else []) or (refs.pronoun if pron else [])
    r.targets = refs.ids or named or refs.pronoun
    if not r.like and _NEGATIVE.search(low) and r.targets:
        r.feedback = "negative"
    question = bool(QUESTION.search(r.q)) and not WANTS_LIST.search(low)
    asks_fact = bool(asked(r.q))
    pointed = bool(refs.pronoun) or bool(PRONOUN.search(low))
    if not r.like and r.feedback != "negative":
        answer = qa_turn(r.q, state, ctx, r.said.categories, refs, named, r.flags, r.base)
        if answer is not None:
            return replace(answer, text=r.text)
    r.is_question = (
        not r.like
        and not r.feedback
        and question
        and (
            (bool(r.targets) and (asks_fact or bool(refs.ids or named)))
            or (asks_fact and not r.recognised and (bool(state.last_shown) or pointed))
        )
    )
    pointed_at = bool(refs.ids or refs.pronoun) and bool(state.last_shown)
    if not (r.like or r.feedback or r.is_question) and pointed_at and _POSITIVE.search(low):
        r.feedback = "positive"
    problems = list(r.said.problems) + refs.problems
    if problems and (refs.problems or not r.is_question):
        return r.turn(Clarify, c0, problems=tuple(problems))
    if r.is_question:
        ids = tuple(refs.ids or named or refs.pronoun)
        if len(ids) == 1:
            state.focus = ids[0]
        return r.turn(Question, c0, refs=ids, asked=asked(r.q))
    if r.feedback == "positive":
        ids = tuple(refs.ids or refs.pronoun)
        state.liked.extend(i for i in ids if i not in state.liked)
        if len(ids) == 1:
            state.focus = ids[0]  # "more like it" next means this one
        return r.turn(Judgement, c0, refs=ids, feedback="positive")
    if (
        ((r.tastes and not r.feedback) or (_VAGUE.search(low) and not state.topic))
        and not (r.recognised or refs.ids)
        and state.onboarding_asks < 2
        and not _SURPRISE.search(low)
        and (_VAGUE.search(low) or not _content_words(low))
    ):
        # Too vague to act on ("hi, I'm new here"): ask what they like, at most twice.
        state.onboarding_asks += 1
        return r.turn(Clarify, c0, onboarding=True)
    return None


def _request(
    r: Reading, state: DialogueState, ctx: DialogueContext, onboarding: bool
) -> tuple[Constraints, bool] | Clarify:
    """(the constraints in force after this message, whether it starts a new request), or a
    clarifying turn when a relative price or the years cannot be met."""
    c0, said, low, like = state.constraints, r.said, r.low, r.like
    # Which request is in force: a new topic resets the constraints, anything else refines.
    from_last_list = bool(like) and all(i in state.last_shown for i in like)
    both = _added_category(low, state, said, ctx) if not like else ()
    new_topic = (
        not state.topic
        or (
            bool(said.categories)
            and not both
            and set(said.categories) != set(c0.categories or c0.all_categories)
        )
        or (bool(like) and not from_last_list)
        or onboarding
    ) and r.feedback != "negative"
    said_clean = replace(said, problems=(), unsupported=(), impossible=())
    constraints = said_clean if new_topic else _merge(c0, said_clean)
    if both and not new_topic:
        constraints = replace(constraints, categories=(), all_categories=both)
    # "cheaper than those" reads the last list; on a new topic "high-end" is just a wish.
    lo, hi, problem = (None, None, "")
    no_price = said.price_min is None and said.price_max is None
    if ctx.has_prices and no_price and (not new_topic or r.refs.ids):
        lo, hi, problem = _relative_price(low, r.refs.ids or list(state.last_shown), ctx)
    if problem:
        return r.turn(Clarify, c0, problems=(problem,))
    if hi is not None:
        constraints = _merge(constraints, Constraints(price_max=hi))
    if lo is not None:  # "more expensive" lifts the old ceiling: it is what they are leaving
        constraints = replace(constraints, price_min=lo, price_max=None)
    out_of_years = _outside_years(constraints, ctx)
    if out_of_years:
        return r.turn(Clarify, c0, problems=(out_of_years,))
    return constraints, new_topic


def _act(r: Reading, state: DialogueState, ctx: DialogueContext) -> Turn:
    """A request, a refinement or a 👎: commit it to the state and say what to retrieve."""
    low, like, feedback = r.low, r.like, r.feedback
    onboarding = r.tastes and not feedback
    liked_now = r.named if onboarding else []
    rejected_now = list(r.targets) if feedback == "negative" else []
    if feedback == "negative" and re.search(r"\bnone of\b|\bnot (?:those|these|them)\b", low):
        rejected_now = list(state.last_shown)
    request = _request(r, state, ctx, onboarding)
    if isinstance(request, Clarify):
        return request
    constraints, new_topic = request
    from_last_list = bool(like) and all(i in state.last_shown for i in like)

    # Commit: from here on the turn acts on the catalog.
    state.constraints = constraints
    state.rejected.extend(i for i in rejected_now if i not in state.rejected)
    # "more like Fargo" says the person knows and likes Fargo: history for the reranker.
    state.liked.extend(i for i in (*liked_now, *like) if i not in state.liked)
    spans = [(m.start, m.end) for m in r.mentions] + r.refs.spans
    q, said = r.q, r.said
    intent: Literal["recommend", "refine", "onboarding"] = "refine"
    if like:
        docs = [it.document() for it in (ctx.item(i) for i in like) if it is not None]
        extra = _extra_words(q, spans + ([r.cue.span()] if r.cue else []))
        query = " ".join([*docs, extra]).strip()
        if not from_last_list or not state.topic:
            state.topic = query
        intent = "recommend" if new_topic else "refine"
    elif feedback == "negative":
        query = state.topic or said.positive_text or q
    elif new_topic:
        docs = [it.document() for it in (ctx.item(i) for i in liked_now) if it is not None]
        state.topic = " ".join([said.positive_text or q, *docs])
        query = state.topic
        intent = "onboarding" if onboarding else "recommend"
    else:
        query = f"{state.topic} {said.positive_text}".strip()
    wants_more = not new_topic and bool(_MORE.search(low))
    exclude = _dedupe(state.rejected, state.liked, like, state.shown if wants_more else ())
    if feedback == "negative":
        return r.turn(
            Judgement,
            constraints,
            query=query,
            exclude=exclude,
            refs=tuple(rejected_now),
            feedback="negative",
        )
    return r.turn(
        Request,
        constraints,
        intent=intent,
        query=query,
        exclude=exclude,
        refs=tuple(liked_now or like),
        like=tuple(like),
    )


def _relative_price(
    text: str, basis: list[str], ctx: DialogueContext
) -> tuple[float | None, float | None, str]:
    """(price_min, price_max, problem) for "cheaper than those" / "more expensive ones".

    The rule: cheaper means cheaper than every item it refers to (the ones named, else the
    last list): a maximum one cent under the lowest price among them. More expensive means
    pricier than all of them: a minimum one cent over the highest, with no upper limit.
    """
    cheaper, pricier = bool(_CHEAPER.search(text)), bool(_PRICIER.search(text))
    if not (cheaper or pricier):
        return None, None, ""
    items = [it for it in (ctx.item(i) for i in basis) if it is not None and it.price is not None]
    if not items:
        word = "cheaper" if cheaper else "more expensive"
        return None, None, f"{word} than what? I haven't shown anything with a price yet"
    if cheaper:
        return None, round(min(it.price for it in items) - 0.01, 2), ""  # type: ignore[misc]
    top = max((it.price_max or it.price) for it in items)  # type: ignore[type-var]
    return round(top + 0.01, 2), None, ""


def _dedupe(*groups: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for g in groups for i in g))


def _extra_words(text: str, spans: list[tuple[int, int]]) -> str:
    """What a message says besides its references: "more like Fargo but funnier" -> "funnier"."""
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + " " + text[b:]
    words = re.findall(r"[\w'-]+", text.lower())
    kept = [w for w in words if w not in _FILLER]
    return " ".join(kept) if kept else ""


def _content_words(low: str) -> list[str]:
    """Words of an onboarding message that could say what a person likes."""
    return [
        w
        for w in re.findall(r"[a-z][a-z'-]+", low)
        if w not in NOT_A_NAME and w not in _NOT_CONTENT and len(w) > 2
    ]


def _outside_years(c: Constraints, ctx: DialogueContext) -> str:
    if ctx.newest_year is None or ctx.oldest_year is None:
        return ""
    lo = c.year_min if c.year_min is not None else ctx.oldest_year
    hi = c.year_max if c.year_max is not None else ctx.newest_year
    if lo > ctx.newest_year or hi < ctx.oldest_year:
        return f"this catalog only has items from {ctx.oldest_year} to {ctx.newest_year}"
    return ""


def _added_category(
    low: str, state: DialogueState, said: Constraints, ctx: DialogueContext
) -> tuple[str, ...]:
    """The categories every pick must now have when this message adds one genre to the request
    in force ("something romantic" -> "funny too": Romance and Comedy); () otherwise.

    Only for one added category on top of a request for one category (or an earlier such
    pair), with an additive cue and no "instead", and only where at least ``MIN_COMBINED``
    items have them all: in a shop, "also a smart watch" after headphones is a new request.
    """
    old = state.constraints.all_categories or state.constraints.categories
    if not state.topic or len(said.categories) != 1 or not old:
        return ()
    if len(old) > 1 and not state.constraints.all_categories:
        return ()  # "action or comedy", then "and funny": which one is meant?
    if said.categories[0] in old or _SWITCH.search(low):
        return ()
    if not (_ADD_START.search(low) or _ADD_END.search(low) or _ADD_ANY.search(low)):
        return ()
    both = (*old, said.categories[0])
    if ctx.catalog is None:
        return ()
    have = sum(1 for it in ctx.catalog if set(both) <= set(it.categories))
    return both if have >= MIN_COMBINED else ()


def _merge(old: Constraints, new: Constraints) -> Constraints:
    """A refinement keeps what was asked before and adds or overrides what is said now.

    When the new bound contradicts an old one ("over $500" earlier, "under $300" now), the
    person changed their mind: the old bound goes.
    """
    said = {
        name: getattr(new, name)
        for name in ("price_min", "price_max", "year_min", "year_max")
        if getattr(new, name) is not None
    }
    merged = replace(
        old,
        **said,
        categories=new.categories or old.categories,
        exclude_categories=tuple(dict.fromkeys(old.exclude_categories + new.exclude_categories)),
        exclude_names=tuple(dict.fromkeys(old.exclude_names + new.exclude_names)),
        allow_addons=old.allow_addons or new.allow_addons,
        specs=tuple(s for s in old.specs if all(n.name != s.name for n in new.specs)) + new.specs,
        mentions=old.mentions + new.mentions,
    )
    for lo, hi in (("price_min", "price_max"), ("year_min", "year_max")):
        a, b = getattr(merged, lo), getattr(merged, hi)
        if a is not None and b is not None and a > b:
            merged = replace(merged, **{lo if lo not in said else hi: None})
    return merged
