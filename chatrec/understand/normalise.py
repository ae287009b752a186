"""The rules that remain once a model has read a turn: normalisers and validators shared by
every parser (BERT-style and GPT-style).

Input: the act a model proposes, as a dict of raw values (titles and shop names as typed, mood
words as said), the turn's catalog, the titles shown and the message. Output: a
``DialogueAct`` whose every label is the catalog's. What the rules read more reliably than a
135M or 22M model is taken from them, written as the labelling guide writes it: positions
("the second one", "the first two", "1 or 2") and the item meant when one is shown
(``spans.refs``); years, specs and each amount's money role (``numbers``); attributes by their
canonical names (``attributes``); what the message says outright (named or negated
categories, a title praised or run down, "cheaper", "the lightest") by ``checks``. Titles
are resolved to catalog titles by the title matcher; what the catalog does not know is
dropped, and what the guide never labels on a turn of that intent (a year in a question, a
liked title in a why, a category in a comparison) too.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from chatrec.act import DialogueAct, Vocabulary
from chatrec.understand import checks, vocabulary
from chatrec.understand.spans import refs, title_core

_REQUESTS = ("recommend", "refine", "onboarding")  # what is wanted is said in these only
_JUDGED = (*_REQUESTS, "feedback")  # titles are liked or not in these only


def finish_act(
    act: dict[str, Any],
    catalog: str,
    shown: Sequence[str],
    message: str,
    reader: Any,
    request: Sequence[str] | None = None,
) -> DialogueAct:
    """The validated act from a model's proposal (``act``: raw values, see the module doc).

    ``reader``: the catalog's rule reader (``DialogueContext``: lexicon, years, spec names),
    or None to skip the rules' numbers. ``request``: the request in force (None: unknown)."""
    vocab = vocabulary(catalog)
    if request is not None:
        _request_kind(act, request)
    _screened(act, message)
    checks.questioned(act, message)
    act["mood"] = list(dict.fromkeys(w.lower().strip() for w in act.get("mood", []) if w.strip()))
    for key in ("liked", "disliked"):
        found = [resolve_title(t, vocab.titles) for t in act.get(key, [])]
        if act["intent"] not in _JUDGED:
            found = []
        act[key] = list(dict.fromkeys(t for t in found if t))
    proposed = [r.strip() for r in act.get("refs", []) if _ref_ok(r.strip(), len(shown))]
    act["refs"] = refs(message, shown, act["intent"], proposed)
    checks.check(act, message, shown, reader, request or ())
    _attributes(act)
    _numbers(act, message, reader, vocab)
    if act["intent"] not in _REQUESTS:
        act.update(categories=[], exclude=[], audience=None)
    clean = DialogueAct.model_validate(act)
    return clean.model_copy(
        update={
            "categories": [c for c in clean.categories if c in vocab.categories],
            "exclude": [c for c in clean.exclude if c in vocab.categories],
            "specs": [s for s in clean.specs if s.name in vocab.specs],
        }
    )


def _request_kind(act: dict[str, Any], request: Sequence[str]) -> None:
    """Recommend or refine, as the guide has it: with no request in force every request is a
    new one; with one in force a request refines it unless it replaces it (``mode``)."""
    if act["intent"] not in ("recommend", "refine"):
        return
    if not request:
        act.update(intent="recommend", mode="add")
    else:
        act["intent"] = "recommend" if act.get("mode") == "replace" else "refine"


def _screened(act: dict[str, Any], message: str) -> None:
    """The guard's verdict wins, as in the chat, where it runs before any parser: hostile
    text (injection, someone else's data, this service's secrets, abuse) and a message in
    another language (answered in English, saying so) are out of scope, and so is a request
    no catalog answers ("write me a python script") that names nothing the catalog has."""
    from chatrec.understand import guard

    names = any(act.get(k) for k in ("categories", "liked", "disliked", "price", "specs"))
    off = guard.off_topic(message) and not names
    if guard.hostile(message, message) or guard.is_foreign(message) or off:
        act.clear()
        act["intent"] = "out_of_scope"


def _ref_ok(ref: str, shown: int) -> bool:
    """A position on the list shown, "all" of it (when there is one), or a name."""
    if ref.isdigit():
        return 1 <= int(ref) <= shown
    return bool(ref) and (ref != "all" or shown > 0)


def _attributes(act: dict[str, Any]) -> None:
    """Attributes by their canonical names ("colour" -> "color", ``attributes.json``)."""
    from chatrec.understand.attributes import canonical

    if act.get("attribute"):
        act["attribute"] = canonical(act["attribute"])
    if isinstance(act.get("compare"), dict) and act["compare"].get("attribute"):
        act["compare"] = {**act["compare"], "attribute": canonical(act["compare"]["attribute"])}


def _numbers(act: dict[str, Any], message: str, reader: Any, vocab: Vocabulary) -> None:
    """Years, specs and price as the guide writes them, read from the message by the
    normalisers (``numbers``); only on requests. Specs need the rule reader (``reader``:
    ``DialogueContext``; None: the parser's specs stay)."""
    from chatrec.understand import numbers

    intent = act["intent"]
    said = numbers.years(message, intent) if vocab.has_years else {}
    for key in ("year_min", "year_max"):
        act[key] = said.get(key) if said or intent not in numbers.REQUESTS else act.get(key)
    if reader is not None:
        act["specs"] = numbers.specs(message, intent, reader, vocab.specs)
    price = numbers.price(message, intent, act.get("price")) if vocab.has_prices else None
    act["price"] = price


def resolve_title(typed: str, titles: frozenset[str]) -> str | None:
    """The catalog title a typed name means (exact, or fuzzy with score >= 85), or None."""
    from rapidfuzz import fuzz, process, utils

    if typed in titles:
        return typed
    cores = _cores(titles)
    key = typed.lower().strip()
    if key in cores:
        return cores[key]
    key = title_core(typed).lower()  # "Fargo (1996)" typed with its year
    if key in cores:
        return cores[key]
    hit = process.extractOne(key, list(cores), scorer=fuzz.ratio, processor=utils.default_process)
    if hit and hit[1] >= 85:
        return cores[hit[0]]
    return None


def exact_title(typed: str, titles: frozenset[str]) -> str | None:
    """The catalog title a typed name is, as typed (any case, without its year or a leading
    "the", or the part before a colon: "Terminator 2"), or None. No fuzzy match."""
    key = typed.lower().strip(" ,.!?")
    return _cores(titles).get(key) or _cores(titles).get(title_core(key))


@cache
def _cores(titles: frozenset[str]) -> dict[str, str]:
    """Typed form (lower case, no year, no leading "the") -> catalog title."""
    out: dict[str, str] = {}
    for t in sorted(titles):
        core = title_core(t).lower()
        out.setdefault(core, t)
        if core.startswith("the "):
            out.setdefault(core[4:], t)
    for t in sorted(titles):  # "Terminator 2: Judgment Day" typed "Terminator 2"
        head = title_core(t).lower().split(":")[0].strip()
        if head != title_core(t).lower() and len(head) > 3:
            out.setdefault(head, t)
    return out
