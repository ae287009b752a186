"""Where an act's words stand in the message, and the normalisers that turn spans into values.

A tagging parser learns spans: the mood words, the titles liked or not, the names that point at
a shown item, and money amounts with their role (a ceiling, a floor, a target). ``align`` finds
a labelled act's values in its message (verbatim, or fuzzily for titles people type their own
way); ``amount`` and ``ordinal_refs`` are the rules that remain as normalisers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz

from chatrec.act import DialogueAct
from chatrec.constraints import amounts

# Span labels (BIO over the message's tokens).
SPAN_LABELS: tuple[str, ...] = ("MOOD", "LIKED", "DISLIKED", "REF", "PMAX", "PMIN", "PAROUND")
TAGS: tuple[str, ...] = ("O", *(f"{p}-{x}" for x in SPAN_LABELS for p in "BI"))

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
}  # fmt: skip
_POSITION = re.compile(
    r"(?:\b(?P<word>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"1st|2nd|3rd|4th|5th)\b|(?:#|\bnumber |\bno\.? ?)(?P<num>10|[1-9])\b|\b(?P<last>last)\s+"
    r"(?:one|item|pick|film|movie|product)|(?:^|\s)(?P<bare>10|[1-9])(?:\s*(?:st|nd|rd|th))?\s+"
    r"(?:one|pick|item)\b)",
    re.IGNORECASE,
)
_ALL = re.compile(r"\b(?:those|these|them|all of them|any of them|all three|both)\b", re.I)


def amount(span: str) -> float | None:
    """The dollars a span says, or None."""
    found = amounts(span)
    return found[0][2] if found else None


def ordinal_refs(message: str, shown: int) -> list[str]:
    """Positions a message names ("the second one", "#3", "the last one"), 1-based."""
    out: list[str] = []
    for m in _POSITION.finditer(message):
        if m.group("word"):
            n = _ORDINALS[m.group("word").lower()]
        elif m.group("num") or m.group("bare"):
            n = int(m.group("num") or m.group("bare"))
        else:
            n = shown
        if 1 <= n <= max(shown, 1) and str(n) not in out:
            out.append(str(n))
    return out


def says_all(message: str) -> bool:
    """Whether the message points at the whole list ("those", "them")."""
    return bool(_ALL.search(message))


def _find(message: str, phrase: str) -> tuple[int, int] | None:
    i = message.lower().find(phrase.lower())
    return (i, i + len(phrase)) if i >= 0 and phrase.strip() else None


def title_core(title: str) -> str:
    """A catalog title without its year or alternative name: "Fargo (1996)" -> "Fargo"."""
    core = re.sub(r"\s*\(\d{4}\)\s*$", "", title)
    return re.sub(r"\s*\([^)]*\)\s*$", "", core).strip()


def find_title(message: str, title: str) -> tuple[int, int] | None:
    """Where a catalog title is named in a message, as typed (no year, any case, fuzzy)."""
    core = title_core(title)
    exact = _find(message, core)
    if exact:
        return exact
    if core.lower().startswith("the ") and (hit := _find(message, core[4:])):
        return hit
    if len(core) < 4:
        return None
    best = fuzz.partial_ratio_alignment(core.lower(), message.lower())
    if best is not None and best.score >= 85:
        return best.dest_start, best.dest_end
    return None


def align(message: str, act: DialogueAct) -> list[tuple[int, int, str]]:
    """(start, end, label) character spans of ``act``'s span values in ``message``."""
    spans: list[tuple[int, int, str]] = []
    for word in act.mood:
        if hit := _find(message, word):
            spans.append((*hit, "MOOD"))
    for label, titles in (("LIKED", act.liked), ("DISLIKED", act.disliked)):
        for t in titles:
            if hit := find_title(message, t):
                spans.append((*hit, label))
    for ref in act.refs:
        if not ref.isdigit() and ref != "all" and (hit := _find(message, ref)):
            spans.append((*hit, "REF"))
    if act.price is not None:
        found = amounts(message)
        for label, value in (
            ("PMAX", act.price.max),
            ("PMIN", act.price.min),
            ("PAROUND", act.price.around),
        ):
            spans += [(s, e, label) for s, e, v in found if value is not None and v == value][:1]
    return _no_overlap(spans)


def _no_overlap(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if all(s[0] >= e or s[1] <= b for b, e, _ in out):
            out.append(s)
    return out
