"""What the bot says around the picks: plain functions from a turn to English text.

Input: the ``Turn`` (what the message meant), the catalog's ``CatalogInfo`` (its nouns,
examples and onboarding questions) and, for a list, the ``Recommendation``s. Output: text.
Fixed replies to hostile input echo nothing of the message. Every catalog-specific word comes
from ``data/catalogs/<name>.toml``, so no function here branches on a catalog.
"""

from __future__ import annotations

from chatrec.catalog import Catalog
from chatrec.datasets import CatalogInfo
from chatrec.facts import price_text
from chatrec.types import MAX_K, DialogueState, Recommendation, Turn


def join(titles: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(titles) <= 2:
        return " and ".join(titles)
    return ", ".join(titles[:-1]) + " and " + titles[-1]


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
_OFF_TOPIC = (
    "I can't help with that: I only recommend {what} from this catalog and answer "
    "questions about them. What are you looking for?"
)


def refusal(turn: Turn, info: CatalogInfo) -> str:
    """Short, fixed replies to hostile or odd input: nothing of the message is echoed."""
    flag = next((f for f in _REFUSALS if f in turn.flags), None)
    return (_REFUSALS[flag] if flag else _OFF_TOPIC).format(what=info.nouns)


def onboarding_question(info: CatalogInfo, n: int) -> str:
    """The first or second question to a new person whose words don't say enough yet."""
    return info.onboarding[0] if n <= 1 else info.onboarding[1]


def clarify(turn: Turn, state: DialogueState, info: CatalogInfo) -> str:
    """Contradictions are asked about, not guessed: nothing is recommended this turn."""
    if turn.asked == "onboarding":
        return onboarding_question(info, state.onboarding_asks)
    issues = "; ".join(turn.problems)
    kept = " (I kept your earlier request as it was.)" if state.topic else ""
    said = " ".join(turn.impossible)
    return (
        f"{said} I'm not sure what you want: {issues}. Could you tell me which you meant?{kept}"
    ).strip()


def _titles(turn: Turn, catalog: Catalog) -> list[str]:
    return [catalog.get(i).title for i in turn.refs if i in catalog]


def lead(turn: Turn, catalog: Catalog) -> str:
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


def thanks(turn: Turn, catalog: Catalog) -> str:
    return (
        f"Glad you like {join(_titles(turn, catalog))}! I'll keep it in mind. "
        "Say “more like it” for similar picks."
    )


def nothing(turn: Turn, lead_text: str, catalog: Catalog, all_seen: bool) -> str:
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


def picks(turn: Turn, lead_text: str, items: list[Recommendation], catalog: Catalog) -> str:
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
