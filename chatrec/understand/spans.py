"""Where an act's words stand in the message, and the normalisers that turn spans into values.

A tagging parser learns spans: the mood words, the titles liked or not, the names that point at
a shown item, and money amounts with their role (a ceiling, a floor, a target). ``align`` finds
a labelled act's values in its message (verbatim, or fuzzily for titles people type their own
way); ``amount`` and ``ordinal_refs`` are the rules that remain as normalisers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rapidfuzz import fuzz

from chatrec.act import DialogueAct
from chatrec.constraints import amounts
from chatrec.understand import wordlists

# Span labels (BIO over the message's tokens).
SPAN_LABELS: tuple[str, ...] = ("MOOD", "LIKED", "DISLIKED", "REF", "PMAX", "PMIN", "PAROUND")
TAGS: tuple[str, ...] = ("O", *(f"{p}-{x}" for x in SPAN_LABELS for p in "BI"))

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
    "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10,
}  # fmt: skip
_COUNTS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}  # fmt: skip
_ORD = "|".join(sorted(_ORDINALS, key=len, reverse=True))
_N = r"10|[1-9]"
_COUNT = "|".join(_COUNTS)
# "the first two", "last 2", "top three": a run of positions.
_RUN = re.compile(
    r"\b(?P<side>first|top|last|bottom)\s+(?P<k>two|three|four|five|[2-5])\b"
    r"(?!\s*(?:hours?|years?|minutes?|days?|weeks?|times?|seasons?|episodes?|%))"
)
_WORD = re.compile(rf"\b(?P<w>{_ORD})\b")
# Not a position: "on second thought", "first time here", "the second world war".
_NOT_POSITION = re.compile(
    r"\s*(?:thoughts?|time|world|hand|half|season|language|opinion|of all|of the month"
    r"|place|date|grade|class|impression|instalment|installment|day|week|kid|baby|apartment|flat)\b"
)
_LAST = re.compile(
    r"\b(?:the|that)\s+(?:very\s+)?last\b(?!\s*(?:week|night|time|year|month|weekend|christmas"
    r"|summer|winter|day|minute|\d))|\blast\s+(?:one|ones|pick|item|film|movie|product)\b"
)
_NUMBERED = re.compile(
    rf"(?:#|\bnumber\s*|\bno\.\s?|\boption\s|\bitem\s|\bpick\s)(?:(?P<n>{_N})|(?P<c>{_COUNT}))\b"
    rf"|(?:^|\s)(?P<b>{_N})(?:\s*(?:st|nd|rd|th))?\s+(?:one|pick|item)\b"
)
# Bare numbers that can only be positions: "1 or 2", "2 and 3", "3 is good", "why 2".
_LIST = re.compile(
    rf"(?<![\w$.,])(?:{_N})(?:\s*(?:,|and|or|n|&|vs\.?|\s)\s*(?:{_N}))+(?![\w%$]|[.,]\d|\s*(?:k|gb|tb|hz)\b)"
)
_ALONE = re.compile(
    rf"(?:^|\b(?:why|why's|whys|like|seen|not|than|pick|vs|about|is|on|but|and)\s+)(?P<n>{_N})"
    r"(?=\s*(?:$|[?!.,]|\s(?:is|was|r|are|looks?|has|have|in|tho|though|but|please|pls"
    r"|already|too|seems?|first|recommended|there)\b))"
)
_ALL = re.compile(
    r"\b(?:those|these|them|they|they're|all of them|any of them|all (?:three|four|five)|both"
    r"|the whole list|whole lot|all of it|the lot|the list|this list"
    r"|(?:good|great|bad|terrible|awful|rubbish|poor|nice|solid|boring) (?:picks|list|choices"
    r"|suggestions))\b",
    re.I,
)
_NOT_A_NAME = wordlists.load().word_set("not_a_name")  # words that name no one item
SINGLE_INTENTS = ("question", "why", "feedback")  # about the one item shown, when one is


def amount(span: str) -> float | None:
    """The dollars a span says, or None."""
    found = amounts(span)
    return found[0][2] if found else None


def _words(text: str, taken: list[tuple[int, int]]) -> list[int]:
    """Ordinal words that name a position: "the second one", "the 2nd and 4th"."""
    out: list[int] = []
    for m in _WORD.finditer(text):
        if any(a <= m.start() < b for a, b in taken) or _NOT_POSITION.match(text, m.end()):
            continue
        before = text[max(0, m.start() - 12) : m.start()]
        after = text[m.end() : m.end() + 8]
        pointed = re.search(r"\b(?:the|my|your|that|this)\s+(?:very\s+)?$", before) or re.match(
            r"\s*(?:one|ones|pick|item|option)\b", after
        )
        opening = re.fullmatch(r"\W*", before) and re.match(
            r"\s*(?:is|was|and|or|,)(?:\W|$)", after
        )
        listed = out and re.search(r"(?:\band|\bor|&|,|\bvs\.?)\s*$", before)
        whole = re.fullmatch(r"\W*", text[: m.start()]) and re.fullmatch(r"\W*", text[m.end() :])
        if pointed or listed or whole or opening:
            out.append(_ORDINALS[m["w"]])
    return out


def ordinal_refs(message: str, shown: int, bare: bool = False) -> list[str]:
    """Positions a message names ("the second one", "#3", "the last one", "the first two"),
    1-based, within the ``shown`` items. ``bare``: numbers alone count too ("1 or 2", "3 is
    good"): for turns about the list shown, where a number is no price or count."""
    text = message.lower()
    found: list[int] = []
    taken: list[tuple[int, int]] = []
    for m in _RUN.finditer(text):
        k = int(m["k"]) if m["k"].isdigit() else _COUNTS[m["k"]]
        first = shown - k + 1 if m["side"] in ("last", "bottom") else 1
        found += list(range(max(first, 1), first + k))
        taken.append(m.span())
    found += _words(text, taken)
    found += [shown for m in _LAST.finditer(text) if not any(a <= m.start() < b for a, b in taken)]
    if re.search(r"\bthe\s+top\s+(?:one|pick)\b|\bup top\b|\bat the top\b", text):
        found.append(1)
    if re.search(r"\bthe\s+middle\b", text) and shown % 2 == 1:
        found.append((shown + 1) // 2)
    for m in _NUMBERED.finditer(text):
        found.append(int(m["n"] or m["b"]) if not m["c"] else _COUNTS[m["c"]])
    if bare:
        for m in _LIST.finditer(text):
            found += [int(x) for x in re.findall(rf"\b(?:{_N})\b", m.group(0))]
        found += [int(m["n"]) for m in _ALONE.finditer(text)]
    out: list[str] = []
    for n in found:
        if 1 <= n <= max(shown, 1) and str(n) not in out:
            out.append(str(n))
    return out


def name_words(message: str, shown: Sequence[str], many: bool = False) -> list[str]:
    """Words of the message that name one shown item and no other, as typed: "why the HP",
    "the ring one", "cyberpower is junk" (a word of five letters or more may be the start of
    the title's word: "cyberpowerpc"). The first such word only, unless ``many``. Words the
    vocabulary lists as too common to name a thing (``[not_a_name]``) never count."""
    words = [_title_words(t) for t in shown]
    out: list[str] = []
    meant: set[int] = set()
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9+'-]*", message):
        typed = m.group(0).strip("'-")
        word = typed.lower()
        if word in _NOT_A_NAME or (len(word) < 3 and not typed.isupper()):
            continue
        hits = [
            i
            for i, ws in enumerate(words)
            if word in ws or (len(word) >= 5 and any(w.startswith(word) for w in ws))
        ]
        if len(hits) == 1 and hits[0] not in meant:
            meant.add(hits[0])
            out.append(typed)
            if not many:
                break
    return out


def _title_words(title: str) -> set[str]:
    return {w.strip("'-") for w in re.findall(r"[a-z0-9][a-z0-9+'-]*", title_core(title).lower())}


def _one_per_item(message: str, shown: Sequence[str], found: list[str]) -> list[str]:
    """One reference per shown item: of a position and a name for the same item ("the
    first one? never heard of hisense"), or two names of it ("the fifth element" and
    "element"), the one said first (the longest on a tie)."""
    if len(found) < 2 or not shown:
        return found
    low = message.lower()

    def item(ref: str) -> int | None:
        if ref.isdigit():
            return int(ref) - 1
        hits = [i for i, t in enumerate(shown) if names_shown(ref, [t])]
        return hits[0] if len(hits) == 1 else None

    def said_at(ref: str) -> tuple[int, int]:
        if ref.isdigit():
            words = [k for k, v in _ORDINALS.items() if v == int(ref)] + [ref]
            if ref == str(len(shown)):
                words.append("last")
            at = [m.start() for w in words for m in re.finditer(rf"\b{w}\b", low)]
            return (min(at, default=len(low)), 0)
        at = low.find(ref.lower())
        return (at if at >= 0 else len(low), -len(ref))

    keep: dict[int, str] = {}
    out: list[str] = []
    for ref in sorted(found, key=said_at):
        i = item(ref)
        if i is None:
            out.append(ref)
        elif i not in keep:
            keep[i] = ref
            out.append(ref)
    return [r for r in found if r in out]


def says_all(message: str) -> bool:
    """Whether the message points at the whole list ("those", "them")."""
    return bool(_ALL.search(message))


def names_shown(name: str, shown: Sequence[str]) -> bool:
    """Whether a name ("the Sony", "Bose 550") names one of the titles shown."""
    key = name.lower().strip()
    if key.startswith("the "):
        key = key[4:]
    if key in ("the", "a", "an", "one", "that", "this", "it"):
        return False
    return bool(key) and any(
        key in t.lower()
        or fuzz.token_set_ratio(key, t.lower()) >= 90
        or fuzz.partial_ratio(key, t.lower()) >= 85
        for t in shown
    )


def refs(message: str, shown: Sequence[str], intent: str, names: Iterable[str]) -> list[str]:
    """What a turn points at on the list shown: the positions it says, the parser's names
    (``names``: a name must name a shown item), one each per item (``_one_per_item``); else,
    in a question, a why or feedback: the one item shown when there is one, "all" for
    "those", or a word that names one shown item (``name_words``)."""
    about_list = intent in (*SINGLE_INTENTS, "compare", "refine")
    out = ordinal_refs(message, len(shown), bare=about_list) if shown else []
    for name in (n.strip() for n in names):
        position = name.isdigit() or name == "all"  # a parser's own position ("2")
        if name and (position or not shown or names_shown(name, shown)):
            out.append(name)
    out = _one_per_item(message, shown, out)
    if not out and shown and intent in SINGLE_INTENTS:
        if len(shown) == 1:
            out.append("1")
        elif says_all(message):
            out.append("all")
        else:
            out += name_words(message, shown, many=intent == "feedback")
    return list(dict.fromkeys(out))


def _located(message: str, spans: Sequence[tuple[str, str]]) -> list[list[Any]]:
    """[label, start, end] of each span, found in order in the message."""
    out: list[list[Any]] = []
    at = 0
    for label, text in spans:
        i = message.find(text, at)
        if i < 0:
            i = message.find(text)
        if i >= 0 and text:
            out.append([label, i, i + len(text)])
            at = i + len(text)
    return out


def _widen(message: str, s: int, e: int) -> tuple[int, int]:
    """A span cut inside a word ("Bow|ers", "1|k") widened to the whole word."""
    while 0 < s < len(message) and message[s - 1].isalnum() and message[s].isalnum():
        s -= 1
    while 0 < e < len(message) and message[e - 1].isalnum() and message[e].isalnum():
        e += 1
    return s, e


_TITLE_LABELS = ("LIKED", "DISLIKED")


def _grow(message: str, s: int, e: int, resolves: Callable[[str], bool]) -> tuple[int, int]:
    """A title span that names no title grown by up to three words on either side until it
    does ("Americans" -> "My Fellow Americans"); unchanged when none does."""
    for extra in range(1, 4):
        left = [m.start() for m in re.finditer(r"\S+", message[:s])][-extra:]
        right = [m.end() + e for m in re.finditer(r"\S+", message[e:])][:extra]
        for a, b in ((left[0] if len(left) == extra else s, e), (s, right[-1] if right else e)):
            candidate = message[a:b].strip(" ,.!?")
            if (a, b) != (s, e) and resolves(candidate):
                return a, a + len(candidate)
    return s, e


def repair(
    message: str, spans: Sequence[tuple[str, str]], resolves: Callable[[str], bool]
) -> list[tuple[str, str]]:
    """Tagged spans mended where a tagger cuts them: widened to whole words, pieces of one
    word joined, two title pieces joined when together they name a title ("Beauty and" +
    "the Beast"), a title piece grown to the title it is part of. ``resolves``: whether a
    text names a catalog title exactly."""
    out: list[list[Any]] = []
    for label, s, e in _located(message, spans):
        s, e = _widen(message, s, e)
        if out and s <= out[-1][2]:  # pieces of one word
            out[-1][2] = max(out[-1][2], e)
            continue
        prev = out[-1] if out else None
        joins = (
            prev is not None
            and label == prev[0] in _TITLE_LABELS
            and not re.search(r"[.,;!?]", message[prev[2] : s])
            and e - prev[1] <= 80
            and resolves(message[prev[1] : e])
        )
        if joins and prev is not None:
            prev[2] = e
            continue
        if prev and label == prev[0] == "REF" and re.fullmatch(r"\s*&?\s*", message[prev[2] : s]):
            prev[2] = e  # "the" + "Piano", "Bowers" + "&" + "Wilkins": one name
            continue
        out.append([label, s, e])
    for span in out:
        if span[0] in _TITLE_LABELS and not resolves(message[span[1] : span[2]]):
            span[1], span[2] = _grow(message, span[1], span[2], resolves)
    return [(label, message[s:e]) for label, s, e in out]


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
