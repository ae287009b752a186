"""References to what was shown, and how many picks a message asks for.

Input: the lower-cased message, the state (its last list and the item in focus) and the spans
of catalog titles named in it. Output: ``Refs``: the ids "the second one", "the first two",
"#3", "both" or "those" point at, what "it" / "that one" means, the spans they cover, and a
problem to ask about when a reference goes past the list ("the seventh one" of five).
``requested_count``: "recommend 3 thrillers" -> 3, capped at ``MAX_K``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from chatrec.constraints import Lexicon
from chatrec.types import MAX_K, DialogueState

_ORDINAL = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "6th": 6,
    "7th": 7,
    "8th": 8,
    "9th": 9,
    "10th": 10,
    "last": -1,
}
_NUMBER = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_NUMBER.update({"nine": 9, "ten": 10, "dozen": 12, "a dozen": 12, "hundred": 100})
_NUMBER.update({"a hundred": 100, "thousand": 1000, "a thousand": 1000, "million": 10**6})
_NUMBER.update({"a million": 10**6, "billion": 10**9, "a billion": 10**9, "trillion": 10**12})
_NUMBER.update({"a trillion": 10**12, "zillion": 10**15, "a zillion": 10**15})
_ORD = "|".join(sorted(_ORDINAL, key=len, reverse=True))
_NOT_A_PICK = r"(?!\s+(?:time|thing|place|day|week|month|year|of|half|date|impression))"
_FIRST_N = re.compile(
    r"\b(?:the\s+)?(?P<side>first|top|last)\s+(?P<n>two|three|four|five|[2-5])\b(?!\s*(?:\$|dollars|inch|gb))"
)
_ORD_REF = re.compile(
    rf"\bthe\s+(?P<o1>{_ORD})\b{_NOT_A_PICK}"
    rf"|\b(?P<o2>{_ORD})\s+(?:one|pick|item|option|choice|suggestion|film|movie|product|result)\b"
)
_NUM_REF = re.compile(
    r"#\s?(?P<n1>\d{1,2})\b|\b(?:number|no\.|item|option|pick|result)\s*#?\s?(?P<n2>\d{1,2})\b"
    r"|\bnumber\s+(?P<n3>one|two|three|four|five|six|seven|eight|nine|ten)\b"
)
_ALL_REF = re.compile(
    r"\b(?:all of (?:them|those|these)|none of (?:them|those|these)|all (?:three|four|five)"
    r"|those|these|them)\b(?!\s+(?:kinds?|types?|sorts?|days|guys|of)\b)"
)
_BOTH = re.compile(r"\bboth\b")
PRONOUN = re.compile(r"\b(?:(?:that|this)(?:\s+one)?|it)\b|👍|👎|\bthumbs (?:up|down)\b")


def requested_count(text: str, lexicon: Lexicon) -> tuple[int | None, bool]:
    """(k, capped): "recommend 3 thrillers" -> (3, False); "10000 movies" -> (MAX_K, True)."""
    nouns = (
        r"(?:movies|films|items|products|picks|options|recommendations|suggestions|things|"
        r"ones|titles|choices|results|"
        + "|".join(re.escape(p) for p in sorted(lexicon.aliases, key=len, reverse=True))
        + r")"
    )
    # Digits read whole, with an exponent ("10^9", "1e9": never 9 picks) or thousands commas.
    digits = r"(?:\d{1,3}(?:,\d{3})++|\d++)(?:\s?\^\s?\d++|e\d++)?+"
    number = rf"(?P<n>{digits}|" + "|".join(sorted(_NUMBER, key=len, reverse=True)) + ")"
    unit = r"(?!\s*(?:\"|”|''|-?inch|in\b|gb|tb|hz|k\b|dollars?|bucks|%|stars?|years?|mah|-))"
    m = (
        re.search(
            rf"(?<![\$\d.,])\b{number}{unit}\s+(?:more\s+|other\s+|different\s+|new\s+|"
            rf"good\s+|great\s+|[a-z-]+\s+)?{nouns}\b",
            text,
        )
        or re.search(rf"(?<!the )\btop\s+{number}\b{unit}", text)
        or re.search(rf"(?<![\$\d.,])\b{number}\s+more\b", text)
    )
    if not m:
        return None, False
    raw = m["n"]
    n = _NUMBER[raw] if raw in _NUMBER else _count(raw)
    if raw.isdigit() and len(raw) == 4 and 1880 <= n <= 2100:
        return None, False  # a year: "1995 films"
    if n < 1:
        return None, False
    return (MAX_K, True) if n > MAX_K else (int(n), False)


def _count(raw: str) -> float:
    """A count in digits: "1,000" -> 1000, "10^9" and "1e9" -> 1e9; inf past a float."""
    text = "".join(raw.split()).replace(",", "")
    base, op, power = text.partition("^") if "^" in text else text.partition("e")
    if not op:
        return float(base)
    try:
        return float(base) ** int(power) if op == "^" else float(text)
    except OverflowError:
        return math.inf


def says_reference(text: str) -> bool:
    """Whether ``text`` points at the list at all ("the second one", "#3", "those", "it")."""
    low = text.lower()
    return any(p.search(low) for p in (_FIRST_N, _ORD_REF, _NUM_REF, _ALL_REF, _BOTH, PRONOUN))


@dataclass
class Refs:
    ids: list[str] = field(default_factory=list)  # ordinals, "#3", "both", "those"
    pronoun: list[str] = field(default_factory=list)  # "it", "that one": focus or first item
    spans: list[tuple[int, int]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def references(text: str, state: DialogueState, titles: Sequence[tuple[int, int]] = ()) -> Refs:
    """Resolve "the second one", "the first two", "#3", "those", "it" against the last list.

    ``titles``: spans of catalog titles in the text; a title wins ("The Last Emperor").
    """
    out = Refs()
    shown = state.last_shown
    positions: list[int] = []

    def want(pos: int, span: tuple[int, int]) -> None:
        if any(a < span[1] and span[0] < b for a, b in titles):
            return
        out.spans.append(span)
        if not shown:
            msg = "I haven't shown you anything yet"
        elif -len(shown) <= pos < len(shown):
            positions.append(pos % len(shown))
            return
        else:
            msg = f"my last list had only {len(shown)} item{'s' if len(shown) > 1 else ''}"
        if msg not in out.problems:
            out.problems.append(msg)

    for m in _FIRST_N.finditer(text):
        n = int(m["n"]) if m["n"].isdigit() else _NUMBER[m["n"]]
        for p in range(n):
            want(-n + p if m["side"] == "last" else p, m.span())
    for m in _ORD_REF.finditer(text):
        if any(a <= m.start() < b for a, b in out.spans):
            continue
        o = _ORDINAL[m["o1"] or m["o2"]]
        want(o - 1 if o > 0 else o, m.span())
    for m in _NUM_REF.finditer(text):
        raw = m["n1"] or m["n2"] or m["n3"]
        want((int(raw) if raw.isdigit() else {"one": 1, **_NUMBER}[raw]) - 1, m.span())
    if shown:
        m = _BOTH.search(text)
        if m and len(shown) >= 2:
            want(0, m.span())
            want(1, m.span())
        m = _ALL_REF.search(text)
        if m and not positions:
            out.spans.append(m.span())
            positions.extend(range(len(shown)))
    out.ids = list(dict.fromkeys(shown[p] for p in positions))
    m = PRONOUN.search(text)
    if m and not any(a <= m.start() < b for a, b in [*out.spans, *titles]):
        target = state.focus or (shown[0] if shown else "")
        if target:
            out.pronoun = [target]
    return out
