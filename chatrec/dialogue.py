"""Dialogue state: what the person asked for so far, what was shown, and this turn's intent.

Input: the state and one raw message. Output: the updated state and a ``Turn`` (clean text,
intent, the constraints in force, the retrieval query). Messages are untrusted: empty,
binary or huge input is recognised here and never reaches a model unbounded.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Literal

from chatrec.constraints import Constraints, Lexicon, parse

Intent = Literal["recommend", "refine", "chit_chat", "out_of_scope"]

MAX_CHARS = 10_000  # longer messages are cut (and the reply says so)
QUERY_CHARS = 1_000  # what retrieval reads of a message

_MORE = re.compile(r"\b(more|other|others|another|else|different|again|next)\b", re.IGNORECASE)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|yo|thanks|thank you|thx|good (morning|evening|afternoon)|bye)\b[\s!.?]*$",
    re.IGNORECASE,
)


@dataclass
class DialogueState:
    """One session's memory (in process; persisted by the store later)."""

    session_id: str
    constraints: Constraints = field(default_factory=Constraints)
    topic: str = ""  # the last message that set what we are looking for
    shown: list[str] = field(default_factory=list)  # item ids shown, oldest first
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user, bot)


@dataclass(frozen=True)
class Turn:
    text: str  # the cleaned message
    intent: Intent
    constraints: Constraints
    query: str  # what retrieval embeds
    exclude: tuple[str, ...]  # ids not to show again
    notice: str = ""  # something to tell the person about their message


def clean_message(message: object) -> tuple[str, str]:
    """(text, notice): printable text, cut to MAX_CHARS; notice says what was done."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    if not isinstance(message, str):
        message = "" if message is None else str(message)
    if not message:
        return "", ""
    # Binary noise: control characters (other than whitespace) or replacement characters.
    bad = sum(
        1
        for ch in message[:MAX_CHARS]
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r")
    )
    if bad > max(3, len(message[:MAX_CHARS]) // 20):
        return "", "binary"
    text = "".join(
        ch for ch in message if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\t\n\r"
    )
    notice = ""
    if len(text) > MAX_CHARS:
        text, notice = text[:MAX_CHARS], "long"
    return " ".join(text.split()), notice


def update(
    state: DialogueState,
    message: object,
    lexicon: Lexicon,
    newest_year: int | None = None,
    has_prices: bool = True,
) -> Turn:
    """Read one message into the state and decide what this turn does."""
    text, notice = clean_message(message)
    if notice == "binary":
        return Turn("", "out_of_scope", state.constraints, "", (), notice)
    if not text or _GREETING.match(text):
        return Turn(text, "chit_chat", state.constraints, "", (), notice)

    said = parse(text[:QUERY_CHARS], lexicon, newest_year, has_prices)
    new_topic = bool(said.categories) and set(said.categories) != set(state.constraints.categories)
    if new_topic or not state.topic:
        constraints = said
        state.topic = said.positive_text or text[:QUERY_CHARS]
        intent: Intent = "recommend"
        query = state.topic
    else:
        constraints = _merge(state.constraints, said)
        intent = "refine"
        query = f"{state.topic} {said.positive_text}".strip()
    state.constraints = constraints
    wants_more = intent == "refine" and bool(_MORE.search(text))
    exclude = tuple(state.shown) if wants_more else ()
    return Turn(text, intent, constraints, query, exclude, notice)


def _merge(old: Constraints, new: Constraints) -> Constraints:
    """A refinement keeps what was asked before and adds or overrides what is said now."""
    said = {
        name: getattr(new, name)
        for name in ("price_min", "price_max", "year_min", "year_max")
        if getattr(new, name) is not None
    }
    return replace(
        old,
        **said,
        categories=new.categories or old.categories,
        exclude_categories=tuple(dict.fromkeys(old.exclude_categories + new.exclude_categories)),
        allow_addons=old.allow_addons or new.allow_addons,
        mentions=old.mentions + new.mentions,
    )
