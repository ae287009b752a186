"""Catalog titles mentioned in free text: "more like the godfather" -> The Godfather (1972).

Input: a catalog (built once) and any text (a message, a generated explanation). Output:
``Mention(item_id, start, end, score)`` spans into the original text, best first by position.
Used by the dialogue (references to titles) and by the explanation checker (a text may only
name the item it explains).

Titles and text go through one normaliser (lower case, accents and apostrophes dropped,
punctuation to spaces, "&" -> "and") so that an exact match is a dictionary lookup of word
n-grams. Every title has several keys: with and without a leading article ("The Godfather",
"Godfather, The" -> "godfather"), with and without its year, its parenthesised alternative
title, and for long product names a unique short name ("Apple AirPods"). A fuzzy fallback
(rapidfuzz) reads only the few words after a reference cue ("like", "similar to", "seen",
"rating of" ...), where a near miss ("godfahter") is far more likely a title than chance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from chatrec.catalog import Catalog
from chatrec.text import STOP_WORDS, fold, words

_TOKEN = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*|&")
_YEAR = re.compile(r"\s*\((\d{4})\)\s*$")
_ALT = re.compile(r"^(?P<main>.+?)\s*\((?P<alt>[^()]*)\)\s*$")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+),\s*(?P<art>the|a|an)$", re.IGNORECASE)
_ARTICLES = {"the", "a", "an"}
# Where a short name of a long product title ends: "Apple AirPods (3rd Gen) with ..." -> "Apple
# AirPods", "Sony 65" Class - X77CL Series" -> "Sony 65" Class".
_NAME_END = re.compile(r"\s(?:-|–|—|\(|with\b|,)|,")
_QUOTES = "\"'“”‘’`*«»"


# Words after which a name is very likely a title: "more like fargo", "I've seen heat".
_CUES = words("like than seen saw watched love loved liked enjoyed about")
_CUE_PAIRS = frozenset(
    {("similar", "to"), ("rating", "of"), ("fan", "of"), ("reviews", "of"), ("price", "of")}
)
# Words that may follow a title that stands alone ("like fargo, please"), unlike a modifier
# ("ghost stories").
_AFTER = words("and or but please too as again instead")
_CUE_PHRASE = re.compile(
    r"\b(?:like|similar to|than|seen|saw|watched|loved?|liked|enjoyed|about|rating of|"
    r"price of|reviews of)\s+",
    re.IGNORECASE,
)
FUZZY_CUTOFF = 86.0  # rapidfuzz ratio (0-100) a near miss must reach
FUZZY_WORDS = 6  # longest phrase after a cue that the fuzzy fallback reads


def tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, normalised word) for every word of ``text``; spans index the original."""
    out = []
    for m in _TOKEN.finditer(text):
        word = fold(m.group())
        if word:
            out.append((m.start(), m.end(), word))
    return out


def normalise(text: str) -> str:
    """'The Godfather: Part II' -> 'the godfather part ii'."""
    return " ".join(t for _, _, t in tokens(text))


def _drop_article(key: str) -> str:
    head, _, rest = key.partition(" ")
    return rest if head in _ARTICLES and rest else key


def title_keys(title: str) -> set[str]:
    """Every normalised form a person may use for ``title`` (article and year optional)."""
    year = ""
    m = _YEAR.search(title)
    if m:
        year, title = m[1], title[: m.start()]
    forms = {title}
    alt = _ALT.match(title)
    if alt:
        forms |= {alt["main"], alt["alt"]}
    keys: set[str] = set()
    for form in forms:
        trailing = _TRAILING_ARTICLE.match(form.strip())
        if trailing:
            form = f"{trailing['art']} {trailing['body']}"
        key = normalise(form)
        if not key:
            continue
        for k in {key, _drop_article(key)}:
            keys.add(k)
            if year:
                keys.add(f"{k} {year}")
    return keys


@dataclass(frozen=True)
class Mention:
    """A catalog title found at ``text[start:end]``. ``ids``: every item with that title."""

    item_id: str  # the most rated item with this title (``ids[0]``)
    start: int
    end: int
    score: float  # 1.0 exact, else the fuzzy similarity in [0, 1]
    ids: tuple[str, ...] = ()


class TitleMatcher:
    """Finds the titles of one catalog in text; all keys are precomputed at construction.

    Args:
        catalog: the items whose titles are looked for.
        reserved: words that are also catalog vocabulary (genre or category phrases such as
            "kids"; the catalog's category names always are); a one-word title equal to one
            counts only when quoted.
    """

    def __init__(self, catalog: Catalog, reserved: Iterable[str] = ()):
        self.catalog = catalog
        popularity = {it.id: it.review_count or 0 for it in catalog}
        by_key: dict[str, list[str]] = {}
        for it in catalog:
            for key in title_keys(it.title):
                by_key.setdefault(key, []).append(it.id)
        # Short names of long product titles, when only one item has them.
        short: dict[str, list[str]] = {}
        for it in catalog:
            cut = _NAME_END.search(it.title)
            name = normalise(it.title[: cut.start()]) if cut else ""
            if len(name.split()) >= 2 and len(name) >= 8 and name not in by_key:
                short.setdefault(name, []).append(it.id)
        for name, ids in short.items():
            if len(ids) == 1:
                by_key[name] = ids
        self._ids = {
            k: tuple(sorted(set(v), key=lambda i: -popularity[i])) for k, v in by_key.items()
        }
        self._first: dict[str, set[int]] = {}  # first word -> key lengths (in words)
        for key in self._ids:
            words = key.split()
            self._first.setdefault(words[0], set()).add(len(words))
        self._lengths = {w: sorted(ls, reverse=True) for w, ls in self._first.items()}
        # The catalog's own category names are vocabulary too: "It is in Drama, War" must
        # not name "The War (1994)".
        self.reserved = frozenset(normalise(r) for r in [*reserved, *catalog.categories()])
        # ratio >= 86 needs lengths within about 3/4 and 4/3 of each other: bucket by length.
        self._by_len: dict[int, list[str]] = {}
        for k in sorted(self._ids):
            if not re.search(r" \d{4}$", k):
                self._by_len.setdefault(len(k), []).append(k)

    def _plain(
        self, key: str, text: str, start: int, end: int, prev: list[str], nxt: str | None
    ) -> bool:
        """Whether a match of a 'plain word' title (one word, or only function words) counts.

        "It", "Heat", "Go", "Big", "Speed" are films and everyday words. Such a title counts
        only with a sign that it is a name: quotes; a capital letter (for titles of four
        letters or fewer, not at the start of a sentence, where every word is capitalised);
        or, for longer words, a reference cue just before and nothing that it modifies after
        ("more like fargo", not "I love ghost stories"). Catalog vocabulary ("kids") and bare
        numbers ("187") count only in quotes.
        """
        quoted = (
            start > 0 and text[start - 1] in _QUOTES and end < len(text) and text[end] in _QUOTES
        )
        if quoted:
            return True
        if key in self.reserved or key.replace(" ", "").isdigit():
            return False
        capital = text[start].isupper()
        before = text[:start].rstrip()
        sentence_start = not before or before[-1] in '.!?:;"“'
        if len(key) <= 4 or all(w in STOP_WORDS for w in key.split()):
            return capital and not sentence_start
        cued = bool(prev) and (prev[-1] in _CUES or tuple(prev[-2:]) in _CUE_PAIRS)
        alone = nxt is None or nxt in _AFTER or bool(re.match(r"\s*[,.;!?)]", text[end:]))
        return capital or (cued and alone)

    def exact(self, phrase: str) -> tuple[str, ...]:
        """The items whose title is the whole ``phrase`` ("grease", "the lion king"), most
        rated first; a phrase that is catalog vocabulary ("horror") names none."""
        key = normalise(phrase)
        return () if key in self.reserved else self._ids.get(key, ())

    def find(self, text: str, fuzzy: bool = True) -> list[Mention]:
        """Titles mentioned in ``text``: exact matches (longest first, never overlapping),
        then near misses after a reference cue. Sorted by position."""
        toks = tokens(text)
        words = [w for _, _, w in toks]
        found: list[Mention] = []
        taken = [False] * len(toks)
        i = 0
        while i < len(toks):
            hit = None
            for n in self._lengths.get(words[i], ()):
                if i + n > len(toks) or any(taken[i : i + n]):
                    continue
                key = " ".join(words[i : i + n])
                if key not in self._ids:
                    continue
                start, end = toks[i][0], toks[i + n - 1][1]
                plain = n == 1 or all(w in STOP_WORDS for w in words[i : i + n])
                nxt = words[i + n] if i + n < len(words) else None
                if plain and not self._plain(key, text, start, end, words[max(0, i - 2) : i], nxt):
                    continue
                hit = (n, key, start, end)
                break
            if hit is None:
                i += 1
                continue
            n, key, start, end = hit
            ids = self._ids[key]
            found.append(Mention(ids[0], start, end, 1.0, ids))
            for j in range(i, i + n):
                taken[j] = True
            i += n
        if fuzzy:
            found += self._fuzzy(text, toks, taken)
        return sorted(found, key=lambda m: m.start)

    def _fuzzy(
        self, text: str, toks: list[tuple[int, int, str]], taken: list[bool]
    ) -> list[Mention]:
        out: list[Mention] = []
        starts = {s: j for j, (s, _, _) in enumerate(toks)}
        for cue in _CUE_PHRASE.finditer(text):
            j = starts.get(cue.end())
            if j is None or taken[j]:
                continue
            if toks[j][2] in _ARTICLES:
                j += 1
            best: tuple[float, int, str] | None = None
            for n in range(1, FUZZY_WORDS + 1):
                if j + n > len(toks) or taken[j + n - 1]:
                    break
                if n > 1 and re.search(
                    r"[,;!?]|\.\s", text[toks[j + n - 2][1] : toks[j + n - 1][0]]
                ):
                    break  # a phrase ends at punctuation
                phrase = " ".join(w for _, _, w in toks[j : j + n])
                if phrase in self._ids or len(phrase) < 5:
                    continue  # exact keys were judged by ``find``
                if all(w in STOP_WORDS or w in self.reserved for w in phrase.split()):
                    continue
                if n == 1:  # a near miss of one word must stand alone: not "ghosts stories"
                    after = toks[j + 1][2] if j + 1 < len(toks) else None
                    between = text[toks[j][1] : toks[j + 1][0]] if after else ""
                    if after and after not in _AFTER and not re.search(r"[,.;!?]", between):
                        continue
                lo, hi = int(len(phrase) * 0.75), int(len(phrase) * 1.34) + 1
                choices = [c for size in range(lo, hi + 1) for c in self._by_len.get(size, ())]
                m = process.extractOne(
                    phrase, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                if m:  # the longest phrase that passes: "godfather part 2", not "godfather"
                    best = (m[1], n, m[0])
            if best is None:
                continue
            score, n, key = best
            ids = self._ids[key]
            out.append(Mention(ids[0], toks[j][0], toks[j + n - 1][1], round(score / 100, 3), ids))
            for k in range(j, j + n):
                taken[k] = True
        return out

    def mentioned_ids(self, text: str, fuzzy: bool = False) -> set[str]:
        """Every item id a title in ``text`` may denote (all items sharing a mentioned title).

        Exact matches only by default: a checker must not flag near misses of ordinary words.
        """
        return {i for m in self.find(text, fuzzy=fuzzy) for i in m.ids}

    def foreign(self, text: str, allowed: Iterable[str]) -> list[Mention]:
        """Mentions in ``text`` that can denote none of ``allowed`` (e.g. the item explained)."""
        ok = set(allowed)
        return [m for m in self.find(text, fuzzy=False) if not ok.intersection(m.ids)]
