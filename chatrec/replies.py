"""What the bot says around the picks: plain functions from a turn to English text.

Input: the ``Turn`` (what the message meant), the catalog's ``CatalogInfo`` (its nouns,
examples and onboarding questions) and, for a list, the ``Recommendation``s. Output: text.
Fixed replies to hostile input echo nothing of the message. Every catalog-specific word comes
from ``data/catalogs/<name>.toml``, so no function here branches on a catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from chatrec import qa, whynot
from chatrec.catalog import Catalog, Item
from chatrec.datasets import CatalogInfo
from chatrec.evidence import Evidencer
from chatrec.facts import fact_values, price_text
from chatrec.text import join
from chatrec.types import (
    MAX_K,
    Aside,
    Candidate,
    Clarify,
    Constraints,
    DialogueState,
    Judgement,
    Question,
    Recommendation,
    Reply,
    Retrieving,
    Turn,
    Why,
)


def hello(info: CatalogInfo) -> str:
    examples = f", e.g. {info.greeting_examples}" if info.greeting_examples else ""
    return f"Hi! What are you looking for? Tell me and I'll pick {info.nouns} for you{examples}."


# Other people's data, accounts, credentials or this service's own: one fixed reply, whether
# it was a person's orders ("privacy") or the users, tokens or database ("private").
_PRIVATE = (
    "I can't share anything about other people, accounts or this service's data. "
    "I can help you find {what} or answer questions about them."
)
_REFUSALS = {
    "binary": "I can only read text messages. What are you looking for?",
    "injection": "I can't do that. I'm here to help you find {what} in this catalog. "
    "What are you looking for?",
    "abuse": "Sorry this hasn't been helpful. I'm here to help you find {what} and answer "
    "questions about them; tell me what you're looking for and I'll do my best.",
    "privacy": _PRIVATE,
    "private": _PRIVATE,
    "language": "Sorry, I can only help in English for now. "
    "Please tell me in English what {what} you're looking for.",
}
_NOT_HELD = (
    "This catalog holds {what}; I can't recommend that here. Tell me what {what} you'd like, "
    "e.g. {examples}."
)
_OFF_TOPIC = (
    "I can't help with that: I only recommend {what} from this catalog and answer "
    "questions about them. What are you looking for?"
)


def wishes(request: Sequence[str], text: str, c: Constraints) -> str:
    """What the person asked for, in their words (the request in force, else this message)
    plus the constraints in force: what the reranker and the explainer read."""
    said = "; ".join(request) or text
    wanted = c.describe()
    return f"{said} ({wanted})" if wanted and wanted.lower() not in said.lower() else said


def answer(
    turn: Turn,
    state: DialogueState,
    catalog: Catalog,
    info: CatalogInfo,
    vectors: np.ndarray,
    policies: qa.Policies | None,
    related: Callable[[str], list[Item]],
    evidencer: Evidencer,
) -> Reply | Retrieving:
    """The reply of a turn that recommends nothing, or the turn itself when it retrieves.
    ``related(name)``: what we carry closest to a product we don't (``qa.answer``)."""
    match turn:
        case Aside(intent="out_of_scope"):
            return Reply(refusal(turn, info), turn.intent)
        case Aside():
            return Reply(hello(info), turn.intent)
        case Clarify():
            return Reply(clarify(turn, state, info), turn.intent)
        case Why():
            return why(turn, state, catalog, vectors, evidencer)
        case Question():
            return qa.answer(turn, state, catalog, policies, related, info.nouns)
        case Judgement(feedback="positive"):
            return Reply(thanks(turn, catalog), turn.intent)
    return turn


def refusal(turn: Aside, info: CatalogInfo) -> str:
    """Short, fixed replies to hostile or odd input: nothing of the message is echoed."""
    flag = next((f for f in _REFUSALS if f in turn.flags), None)
    if flag is None and "not_held" in turn.flags:
        examples = info.greeting_examples or "what you like"
        return _NOT_HELD.format(what=info.nouns, examples=examples)
    return (_REFUSALS[flag] if flag else _OFF_TOPIC).format(what=info.nouns)


def near_liked(
    item: Item, state: DialogueState, catalog: Catalog, vectors: np.ndarray
) -> list[Item]:
    """The liked items closest to ``item`` by embedding (what the personal ranking used)."""
    liked = [i for i in state.liked if i in catalog and i != item.id]
    if not liked:
        return []
    sims = vectors[[catalog.position(i) for i in liked]] @ vectors[catalog.position(item.id)]
    return [catalog.get(liked[j]) for j in np.argsort(-sims)[:2] if sims[j] > 0.3]


def why(
    turn: Why, state: DialogueState, catalog: Catalog, vectors: np.ndarray, evidencer: Evidencer
) -> Reply:
    """Why an item was picked, from its evidence: the parts of the request it meets, the
    people who loved what the person loved and rated it (or the liked titles closest to it),
    and its facts (nothing else is claimed). "why not X?" about an item not shown is
    ``whynot``'s to answer."""
    if turn.absent:
        return whynot.answer(turn, state, catalog, evidencer)
    ids = [i for i in turn.refs if i in catalog]
    if not ids:
        listed = "; ".join(
            f"{n}. {catalog.get(i).title}"
            for n, i in enumerate(state.last_shown, 1)
            if i in catalog
        )
        return Reply(f"Which one do you mean? {listed}".strip(), "why")
    item = catalog.get(ids[0])
    said = [*state.request, *([state.topic] if state.topic else [])]
    pick = Candidate(item, 0.0, catalog.position(item.id))
    ev = evidencer.gather([pick], state.liked, state.constraints, said)[0]
    asked = "; ".join(state.request)
    lines = [f"I picked {item.title}" + (f" for “{asked}”." if asked else ".")]
    if ev.matches:
        lines.append("It fits what you asked: " + "; ".join(ev.matches) + ".")
    near = [] if ev.pulls else near_liked(item, state, catalog, vectors)
    for p in ev.pulls:
        text = p.sentence()
        lines.append(text[0].upper() + text[1:] + ".")
    if near:
        lines.append(f"It is close to {join([it.title for it in near])}, which you liked.")
    facts = fact_values(item)
    known = [facts[k] for k in ("rating", "price", "year", "category") if k in facts]
    if known:
        lines.append(f"It {join(known)}.")
    if not ev.matches and not near and not ev.pulls:
        lines.append("It was among the closest matches to your words in the catalog.")
    rec = Recommendation(item.id, item.title, 0.0, "", item.facts())
    return Reply(" ".join(lines), "why", [rec])


def onboarding_question(info: CatalogInfo, n: int) -> str:
    """The first or second question to a new person whose words don't say enough yet."""
    return info.onboarding[0] if n <= 1 else info.onboarding[1]


def clarify(turn: Clarify, state: DialogueState, info: CatalogInfo) -> str:
    """Contradictions are asked about, not guessed: nothing is recommended this turn."""
    if turn.onboarding:
        return onboarding_question(info, state.onboarding_asks)
    issues = "; ".join(turn.problems)
    kept = " (I kept your earlier request as it was.)" if state.topic else ""
    said = " ".join(turn.impossible)
    return (
        f"{said} I'm not sure what you want: {issues}. Could you tell me which you meant?{kept}"
    ).strip()


def _titles(turn: Retrieving, catalog: Catalog) -> list[str]:
    return [catalog.get(i).title for i in turn.refs if i in catalog]


def lead(turn: Retrieving, catalog: Catalog) -> str:
    """What to say before the picks: what was done with the message and what we ignored."""
    parts = []
    if turn.notice == "long":
        parts.append("Your message was very long, so I read only its first part.")
    if "language" in turn.flags:
        parts.append("I work best in English; here is what I understood.")
    if "capped" in turn.flags:
        parts.append(f"I can show at most {MAX_K} picks at a time.")
    parts.extend(turn.impossible)  # "I can't search for prices below $0."
    if turn.unsupported:
        parts.append(
            f"I can't check {' or '.join(turn.unsupported)} in this catalog, so I left that out."
        )
    titles = _titles(turn, catalog)
    if isinstance(turn, Judgement):
        if turn.feedback == "negative" and titles:
            parts.append(f"Got it, I won't suggest {join(titles)} again.")
    elif turn.like and titles:
        parts.append(f"More like {join(titles)}:")
    elif turn.intent == "onboarding":
        parts.append(
            "Welcome! "
            + (f"I'll keep {join(titles)} in mind. " if titles else "")
            + "Here's a start; tell me what you think of these."
        )
    return " ".join(parts)


def thanks(turn: Judgement, catalog: Catalog) -> str:
    return (
        f"Glad you like {join(_titles(turn, catalog))}! I'll keep it in mind. "
        "Say “more like it” for similar picks."
    )


def nothing(turn: Retrieving, lead_text: str, catalog: Catalog, all_seen: bool) -> str:
    """No item fits: say whether everything that fits was shown already, or nothing does."""
    wanted = turn.constraints.describe()
    if turn.exclude and all_seen:
        text = (
            "You've already seen everything I have that fits"
            + (f" ({wanted})" if wanted else "")
            + ". Want to loosen a constraint or try something else?"
        )
    else:
        text = (
            f"I found nothing in the {catalog.name} catalog that fits"
            + (f" {wanted}" if wanted else " that")
            + ". Could you loosen a constraint, such as the price or the years?"
        )
    return f"{lead_text} {text}".strip()


def no_more(turn: Retrieving) -> str:
    """A 👎 whose place nothing else fills: the list is shorter, and why."""
    c = turn.constraints
    wanted = c.describe()
    what = (
        "the budget"
        if c.price_min is not None or c.price_max is not None
        else "the years"
        if c.year_min is not None or c.year_max is not None
        else "a constraint"
    )
    fits = f"fits ({wanted})" if wanted else "fits your request"
    return f"Nothing else {fits}, so the list is shorter; to see more, loosen {what}."


def widened(fit: int, dropped: str, again: bool) -> str:
    """What a "more like" reply says when the request in force had too few new items like
    it: ``fit`` picks met it all, then ``dropped`` (its price, years, specs) was let go, then
    (``again``) items shown before came back."""
    parts = []
    if dropped and fit == 0:
        parts.append(f"Nothing new like it fits {dropped}, so I looked without that limit.")
    elif dropped:
        first = "the first one fits" if fit == 1 else f"the first {fit} fit"
        parts.append(f"Only {first} {dropped}; for the rest I looked without that limit.")
    if again:
        parts.append("Some of these were shown before: I have nothing else like it.")
    return " ".join(parts)


def picks(turn: Retrieving, lead_text: str, items: list[Recommendation], catalog: Catalog) -> str:
    """The list: a head line, then each pick with its price, rating and explanation."""
    wanted = turn.constraints.describe()
    noun = "pick" if len(items) == 1 else "picks"
    head = f"Here {'is' if len(items) == 1 else 'are'} {len(items)} {noun}"
    head += f" ({wanted}):" if wanted else ":"
    lines = [f"{lead_text} {head}".strip()]
    for n, r in enumerate(items, 1):
        it = catalog.get(r.item_id)
        facts = [price_text(it)] if it.price is not None else []
        if it.rating is not None:
            facts.append(f"{it.rating:g}★")
        lines.append(f"{n}. {r.title}" + (f" — {', '.join(facts)}" if facts else ""))
        if r.explanation:
            lines.append(f"   {r.explanation}")
    return "\n".join(lines)
