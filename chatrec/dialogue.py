"""Dialogue state: what the person asked for so far, what was shown, and this turn's intent.

Input: the state, one raw message and the catalog's ``DialogueContext``. Output: the updated
state and a ``Turn``: clean text, intent, the constraints in force, the retrieval query, the
ids to leave out, the items the message points at, and anything to tell or ask the person.

``update`` is a short pipeline, one stage per line: sanitize → guard (``understand.guard``) →
parse (the learned parser, ``understand.read``) → validate against the catalog and merge into
the state (the rules, ``understand.rules``) → commit what the parser's act decides
(``understand.read.with_act``). The rules' word lists are data
(``data/understanding/vocabulary.toml``).

Intents, in the order they are recognised:
- ``out_of_scope``: binary noise, prompt injection, questions about other people's data,
  accounts, credentials or this service's database ("list every user"), off-topic
  requests ("what's the weather"), a message in another language with nothing we can
  read. Nothing of such a turn is written to the state.
- ``chit_chat``: greetings, thanks, "what can you do", an empty message.
- ``clarify``: the message contradicts itself ("under $200 but over $500", "a 90s film
  from after 2005"), asks for years the catalog does not have, or points at an item that
  was not shown ("the seventh one" of five). We ask; nothing is committed.
- ``recommend`` with ``like``: "more like Fargo", "similar to the second one": the query is
  the liked items' text, and the liked items are left out.
- ``feedback``: "not that one", "I've seen it" (ids go to ``rejected``, the turn
  re-recommends); "I like the first one", 👍 (ids go to ``liked``).
- ``product_question``: "how much is the second one?", "what's the rating of Fargo?".
- ``onboarding``: a person describing their tastes ("I'm new, I love 90s sci-fi"); titles
  they name go to ``liked`` and are left out of what we show.
- ``recommend`` / ``refine``: a new request, or one that narrows the current one.
"""

from __future__ import annotations

import copy

from chatrec.catalog import Item
from chatrec.types import DialogueState, Judgement, Turn
from chatrec.understand import guard, read, rules
from chatrec.understand.context import DialogueContext

# Re-exported: the names other modules and the tests read from here.
from chatrec.understand.guard import MAX_CHARS, clean_message, is_foreign, strip_markup
from chatrec.understand.references import requested_count
from chatrec.understand.rules import MIN_COMBINED, QUERY_CHARS

__all__ = [
    "MAX_CHARS",
    "MIN_COMBINED",
    "QUERY_CHARS",
    "DialogueContext",
    "clean_message",
    "is_foreign",
    "judge",
    "requested_count",
    "strip_markup",
    "update",
]


def update(state: DialogueState, message: object, ctx: DialogueContext) -> Turn:
    """Read one message into the state and decide what this turn does.

    The stages, one line each: sanitize → guard → parse → validate against the catalog →
    merge into the state → commit.

    1. sanitize and guard (``guard.screen``): clean text, or the turn of a binary, hostile,
       empty or chit-chat message, which changes nothing;
    2. parse (``read.parse``): the learned parser's ``DialogueAct`` (None: the rules alone);
    3. validate against the catalog (``rules.read``): titles, references and constraints as
       the catalog has them; a foreign or off-topic message ends here;
    4. merge into the state (``rules.decide``): a question, praise or clarifying question,
       or the request merged with the one in force and written to the state;
    5. commit (``read.with_act``): the act decides what the rules cannot; a turn it decides
       otherwise starts again from the state as it was (``before``).

    Pure apart from ``state``: nothing outside it changes, and only turns that act on the
    catalog (not hostile, off-topic or contradictory ones) change it.
    """
    screened = guard.screen(state, message)  # sanitize, guard: hostile or chit-chat ends here
    if isinstance(screened, Turn):
        return screened
    act = read.parse(ctx.parser, screened.text, state, ctx)  # parse: the learned parser's act
    before = copy.deepcopy(state) if act is not None else state
    reading = rules.read(screened, state, ctx)  # validate: titles, references, constraints
    turn = reading if isinstance(reading, Turn) else rules.decide(reading, state, ctx)  # merge
    if act is None or ctx.info is None:
        return turn
    return read.with_act(turn, act, state, before, ctx, ctx.info)  # commit the act's say


def judge(state: DialogueState, item: Item, up: bool) -> Judgement:
    """A 👍 or 👎 button on a shown item, read into the state like words would be: 👍 makes
    it liked; 👎 rejects it, and the turn re-runs the request in force without it."""
    if up:
        if item.id not in state.liked:
            state.liked.append(item.id)
        text = f"👍 {item.title}"
        return Judgement(
            text=text, constraints=state.constraints, refs=(item.id,), feedback="positive"
        )
    if item.id not in state.rejected:
        state.rejected.append(item.id)
    return Judgement(
        text=f"👎 {item.title}",
        constraints=state.constraints,
        query=state.topic or item.document(),
        exclude=tuple(dict.fromkeys([*state.rejected, *state.liked])),
        refs=(item.id,),
        feedback="negative",
    )
