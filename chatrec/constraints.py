"""Constraints read from a message: price, years, wanted and unwanted categories, add-ons.

Input: the message text and the catalog's ``Lexicon`` (phrases -> categories). Output: a
``Constraints`` value that ``retrieve`` turns into a filter. Pure functions, no models.
The dialogue carries constraints from turn to turn; this module reads one message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_NUM = r"\$?\s?(\d[\d,]*(?:\.\d+)?)\s?(k\b)?"


def _amount(num: str, k: str | None) -> float:
    value = float(num.replace(",", ""))
    return value * 1000 if k else value


@dataclass(frozen=True)
class Constraints:
    """What a message asks for. ``None`` means "not said"."""

    price_min: float | None = None
    price_max: float | None = None
    year_min: int | None = None
    year_max: int | None = None
    categories: tuple[str, ...] = ()  # any of these
    exclude_categories: tuple[str, ...] = ()
    allow_addons: bool = False
    mentions: tuple[str, ...] = field(default=(), compare=False)  # phrases matched, for replies
    # The message without its negated phrases: "90s sci-fi, no horror" must not be embedded
    # as a query that is close to horror films.
    positive_text: str = field(default="", compare=False)

    def is_empty(self) -> bool:
        return self == Constraints()

    def describe(self) -> str:
        """A short human phrase: 'TVs, under $500'."""
        parts: list[str] = []
        if self.categories:
            parts.append(" or ".join(self.categories))
        if self.exclude_categories:
            parts.append("no " + ", ".join(self.exclude_categories))
        if self.price_min is not None and self.price_max is not None:
            parts.append(f"${self.price_min:,.0f}–${self.price_max:,.0f}")
        elif self.price_max is not None:
            parts.append(f"under ${self.price_max:,.0f}")
        elif self.price_min is not None:
            parts.append(f"over ${self.price_min:,.0f}")
        if self.year_min is not None and self.year_max is not None:
            parts.append(
                f"{self.year_min}"
                if self.year_min == self.year_max
                else f"{self.year_min}–{self.year_max}"
            )
        elif self.year_max is not None:
            parts.append(f"up to {self.year_max}")
        elif self.year_min is not None:
            parts.append(f"from {self.year_min}")
        return ", ".join(parts)


def _singular(phrase: str) -> str:
    """'smart watches' -> 'smart watch', 'batteries' -> 'battery' (last word only)."""
    head, _, last = phrase.rpartition(" ")
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "xes", "sses")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        last = last[:-1]
    return f"{head} {last}".strip()


class Lexicon:
    """Phrases people use for a catalog's categories, matched longest first on word bounds."""

    def __init__(
        self,
        aliases: Mapping[str, Iterable[str]],
        addon_words: Iterable[str] = (),
    ):
        self.aliases = {k.lower(): tuple(v) for k, v in aliases.items()}
        # Singular and plural forms of every phrase, unless the lexicon names them itself.
        for phrase, cats in list(self.aliases.items()):
            for form in (_singular(phrase), phrase + "s"):
                self.aliases.setdefault(form, cats)
        self.addon_words = tuple(w.lower() for w in addon_words)
        phrases = sorted(self.aliases, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases) + r")(?![\w-])")
            if phrases
            else None
        )

    @classmethod
    def from_categories(cls, categories: Iterable[str]) -> Lexicon:
        """Derive phrases from category names: 'Laptops & Notebooks' -> 'laptops', 'laptop', ..."""
        aliases: dict[str, list[str]] = {}
        for cat in categories:
            pieces = {cat.lower()}
            pieces.update(p.strip().lower() for p in re.split(r"[&,/]| and ", cat) if p.strip())
            pieces.update(_singular(p) for p in list(pieces))
            for p in pieces:
                aliases.setdefault(p, []).append(cat)
        return cls(aliases)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        if self._pattern is None:
            return []
        return [(m.start(), m.end(), m.group(1)) for m in self._pattern.finditer(text)]


_NEGATION = re.compile(
    r"\b(no|not|without|except|excluding|but not|nothing|avoid|hate)\s+((a|an|any|the)\s+)?$"
)


def _price(text: str) -> tuple[float | None, float | None]:
    t = text
    m = re.search(rf"\b(?:between|from)\s+{_NUM}\s*(?:and|to|-|–)\s*{_NUM}", t) or re.search(
        rf"\$\s?(\d[\d,]*(?:\.\d+)?)\s?(k\b)?\s*(?:-|–|to)\s*{_NUM}", t
    )
    if m:
        lo, hi = _amount(m[1], m[2]), _amount(m[3], m[4])
        return min(lo, hi), max(lo, hi)
    m = re.search(
        rf"(?:under|below|less than|cheaper than|lower than|up to|at most|max(?:imum)?|"
        rf"no more than|within|<=?)\s*{_NUM}",
        t,
    ) or re.search(rf"{_NUM}\s*(?:or less|or under|max(?:imum)?|tops)\b", t)
    if m:
        return None, _amount(m[1], m[2])
    m = re.search(rf"(?:over|above|more than|at least|min(?:imum)?|>=?)\s*{_NUM}", t) or re.search(
        rf"{_NUM}\s*(?:or more|and up|plus)\b", t
    )
    if m:
        return _amount(m[1], m[2]), None
    m = (
        re.search(r"(?:around|about|roughly|approximately)\s*\$\s?(\d[\d,]*(?:\.\d+)?)\s?(k\b)?", t)
        or re.search(rf"budget(?: of| is| around| about)?\s*{_NUM}", t)
        or re.search(rf"{_NUM}\s*(?:dollars|bucks|usd)\b", t)
    )
    if m:
        v = _amount(m[1], m[2])
        return round(v * 0.8, 2), round(v * 1.2, 2)
    return None, None


def _decade(two_or_four: str) -> int:
    y = int(two_or_four)
    if y < 100:
        y += 1900 if y >= 20 else 2000
    return y


def _years(text: str, newest_year: int | None) -> tuple[int | None, int | None]:
    m = re.search(r"\b(?:from the |in the |the )?'?(\d{2}|\d{4})'?s\b", text)
    if m and (len(m[1]) == 2 or m[1].endswith("0")):
        start = _decade(m[1])
        if 1880 <= start <= 2100:
            return start, start + 9
    m = re.search(r"\b(?:before|earlier than|older than|prior to|pre)[ -](\d{4})\b", text)
    if m:
        return None, int(m[1]) - 1
    m = re.search(r"\b(?:after|since|newer than|later than|post)[ -](\d{4})\b", text)
    if m:
        return int(m[1]) + (0 if "since" in m[0] else 1), None
    m = re.search(r"\b(?:from|in|of)\s+(1[89]\d{2}|20\d{2})\b", text)
    if m:
        return int(m[1]), int(m[1])
    if newest_year and re.search(r"\b(recent|new|newer|latest|modern)\b", text):
        return newest_year - 3, None
    if re.search(r"\b(old|classic|vintage|older)\b", text) and newest_year:
        return None, min(newest_year - 25, 1975)
    return None, None


def parse(
    text: str, lexicon: Lexicon, newest_year: int | None = None, has_prices: bool = True
) -> Constraints:
    """Read the constraints of one message. Unknown words are simply not constraints.

    Args:
        text: the message.
        lexicon: the catalog's category phrases.
        newest_year: the catalog's newest year; None when items carry no year (no year parsing).
        has_prices: whether items carry prices (no price parsing otherwise).
    """
    t = " ".join(text.lower().split())
    price_min, price_max = _price(t) if has_prices else (None, None)
    year_min, year_max = _years(t, newest_year) if newest_year else (None, None)
    wanted: dict[str, None] = {}
    unwanted: dict[str, None] = {}
    mentions: list[str] = []
    cut: list[tuple[int, int]] = []
    for start, end, phrase in lexicon.find(t):
        cats = lexicon.aliases[phrase]
        window = max(0, start - 24)
        before = t[window:start]
        neg = _NEGATION.search(before)
        negated = neg is not None
        if neg is not None:
            cut.append((window + neg.start(), end))
        target = unwanted if negated else wanted
        for c in cats:
            target.setdefault(c, None)
        mentions.append(("not " if negated else "") + phrase)
    allow_addons = any(re.search(rf"\b{re.escape(w)}", t) for w in lexicon.addon_words)
    return Constraints(
        price_min=price_min,
        price_max=price_max,
        year_min=year_min,
        year_max=year_max,
        categories=tuple(c for c in wanted if c not in unwanted),
        exclude_categories=tuple(unwanted),
        allow_addons=allow_addons,
        mentions=tuple(mentions),
        positive_text=_without(t, cut),
    )


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return " ".join(text.replace(" ,", ",").split()).strip(" ,.;")
