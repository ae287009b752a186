"""The numbers of an act, read by rules as the labelling guide writes them (issue 17).

A parser proposes the act's meaning; the numbers in it are written the guide's way by these
normalisers (``normalise.finish_act``), which read the message itself:

- ``years``: "the 80s" -> 1980-1989, "the 50s and 60s" -> 1950-1969, "90s up" -> from 1990,
  "before 1960" -> to 1959, "nothing before 1980" -> from 1980, "after 1995" -> from 1996.
  Only what has a number: "old" or "recent" alone is a mood, not a year.
- ``specs``: screen sizes as said ("55 inch" -> 55 to 55, "65 inch or bigger" -> from 65,
  "24 to 27 inches", "maximum 43 inches"); RAM, storage, refresh rate and stars from the rule
  reader (``constraints.parse``), "rating above 4.7" too.
- ``price``: the role of each amount from the words around it ("under" -> max, "at least" ->
  min, "around"/"budget"/"in the $200 range" -> around, "$300-500" -> min and max); an amount
  no word places keeps the role the parser proposed; an amount that is no price ("250
  grams", "at least 8" cameras) is dropped.

Numbers are only read on requests (``recommend``, ``refine``, ``onboarding``): "are these all
from the 90s?" or "does it have 16GB?" asks, it does not constrain.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping
from typing import Any

from chatrec.constraints import amounts

REQUESTS = ("recommend", "refine", "onboarding")

_DECADE_WORDS = {
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
    "seventies": 70, "eighties": 80, "nineties": 90,
}  # fmt: skip
_DECADE = re.compile(
    r"(?<![\w$])(?P<part>mid|late|early)?[ -]?(?:(?P<cent>19|20)?(?P<d>\d)0\s?'?s\b|"
    r"(?P<word>twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b)",
    re.I,
)
_LATER = (
    r"\s*(?:\+|up\b|onwards?\b|on\b|and (?:later|after|up|newer|beyond)|or (?:later|newer|after))"
)
_EARLIER = r"\s*(?:or (?:older|earlier|before)|and (?:older|earlier|before))"
_YEAR = r"(1[89]\d\d|20[0-3]\d)(?![\d,.]?\d|'?s\b|:)"
_NOT = r"(?:nothing|not|no|none|skip|avoid|without|anything but)\b[\w\s']{0,12}?"
# A filler between a bound and its year: "nothing older than like 1990", "before about 1970".
_ABOUT = r"(?:(?:like|about|around|roughly|say|maybe|approximately|circa)\s+)?"


def _decades(text: str) -> tuple[int | None, int | None]:
    """The years the decades said span: "the 50s and 60s" -> (1950, 1969)."""
    lows: list[int] = []
    highs: list[int] = []
    for m in _DECADE.finditer(text):
        before = text[max(0, m.start() - 24) : m.start()].lower()
        if re.search(r"\b(?:in (?:my|his|her|their|our) |i'm in |aged? )$", before):
            continue  # an age ("in my 20s")
        if re.search(r"\b(?:less|instead of(?: the)?|rather than(?: the)?)\s*$", before):
            continue
        d = _DECADE_WORDS[m["word"].lower()] if m["word"] else int(m["d"]) * 10
        start = int(m["cent"] or 19) * 100 + d if not m["word"] else 1900 + d
        if m["part"] and m["part"].lower() in ("mid", "late"):
            start += 5
        end = start - start % 10 + 9
        after = text[m.end() : m.end() + 20].lower()
        older = re.search(r"\b(?:older|earlier) than (?:the )?$|\bbefore (?:the )?$", before)
        newer = re.search(r"\b(?:newer|later) than (?:the )?$|\bafter (?:the )?$", before)
        bound = older or newer
        negated = bound is not None and bool(re.search(rf"\b{_NOT}$", before[: bound.start()]))
        if older:  # "older than the 90s"; "nothing older than the 90s" is from 1990
            if negated:
                lows.append(start)
            else:
                highs.append(start - start % 10 - 1)
        elif newer:  # "after the 80s"; "nothing after the 80s" is up to 1989
            if negated:
                highs.append(end)
            else:
                lows.append(end + 1)
        elif re.search(rf"\b{_NOT}(?:from |in )?(?:the )?$", before):
            highs.append(start - start % 10 - 1)  # "nothing from the 90s"
        elif re.match(_LATER, after):
            lows.append(start)
        elif re.match(_EARLIER, after):
            highs.append(end)
        else:
            lows.append(start)
            highs.append(end)
    return (min(lows) if lows else None), (max(highs) if highs else None)


def _years_said(text: str) -> tuple[int | None, int | None]:
    """Years said with a number: a range, a bound, or one year."""
    t = re.sub(r"\b(older|newer|later|earlier)\s+then\b", r"\1 than", text.lower())  # a typo
    m = re.search(rf"\b(?:between|from)?\s*{_YEAR}\s*(?:-|–|to|and)\s*{_YEAR}", t)
    if m:
        a, b = sorted((int(m[1]), int(m[2])))
        return a, b
    lo = hi = None
    for m in re.finditer(
        rf"\b(?P<w>before|earlier than|older than|prior to|pre)[ -]{_ABOUT}{_YEAR}", t
    ):
        negated = re.search(rf"\b{_NOT}$", t[max(0, m.start() - 20) : m.start()])
        lo, hi = (int(m[2]), hi) if negated else (lo, int(m[2]) - 1)
    for m in re.finditer(rf"\b(?P<w>after|since|newer than|later than|post)[ -]{_ABOUT}{_YEAR}", t):
        negated = re.search(rf"\b{_NOT}(?:from )?$", t[max(0, m.start() - 24) : m.start()])
        if negated:
            hi = int(m[2])
        else:
            lo = int(m[2]) + (0 if m["w"] == "since" else 1)
    for m in re.finditer(rf"{_YEAR}(?:{_LATER}|{_EARLIER})", t):
        if re.match(rf"{_YEAR}{_LATER}", t[m.start() :]):
            lo = int(m[1])
        else:
            hi = int(m[1])
    if lo is None and hi is None:
        m = re.search(
            rf"\b(?:from|in|year|(?:what|how) about|only|just)\s+(?:the\s+)?(?:year\s+)?{_YEAR}", t
        ) or re.fullmatch(rf"\W*{_YEAR}\W*", t)  # "what about 1998?", "1994?"
        if m:
            return int(m[1]), int(m[1])
        m = re.search(rf"(?:\bfrom\s+['’]?|['’])(\d\d)(?:{_LATER})", t)  # "from 95 onwards"
        if m:
            return _century(m[1]), None
        m = re.search(
            r"(?<![\w$.,])['’]?(\d\d)\s*(?:onwards?|or (?:later|newer)|and (?:later|newer))\b", t
        )
        if m:  # "95 onwards"
            return _century(m[1]), None
        m = re.search(r"\b(?:from|in)\s+['’]?(\d\d)\s*(?:or|and|to|-|–)\s*['’]?(\d\d)\b(?!s)", t)
        if m:  # "from 97 or 98", "in 96-97"
            a, b = sorted((_century(m[1]), _century(m[2])))
            return a, b
        m = re.search(r"\b(?:from|in|of)\s+['’](\d\d)\b(?!s)", t)  # "from '77"
        if m:
            year = int(m[1]) + (1900 if int(m[1]) > 30 else 2000)
            return year, year
    return lo, hi


def _century(two: str) -> int:
    """A two-digit year as a film's: "95" -> 1995, "05" -> 2005."""
    return int(two) + (1900 if int(two) > 30 else 2000)


def years(message: str, intent: str) -> dict[str, int]:
    """``year_min`` / ``year_max`` the message says (a request's only; {} otherwise)."""
    if intent not in REQUESTS:
        return {}
    lo, hi = _years_said(message)
    if lo is None and hi is None:
        lo, hi = _decades(message)
    if lo is not None and hi is not None and lo > hi:
        return {}
    out = {"year_min": lo, "year_max": hi}
    return {k: v for k, v in out.items() if v is not None}


_INCH = r"\s?(?:\"|”|''|-?\s?inch(?:es)?\b|-?in\b(?!-|\s+(?:the|a|my|your)\b))"
_SIZE = r"(\d{1,3}(?:\.\d)?)(?![\d.])"
_SCREEN_MIN = (
    r"at least|min(?:imum)?|over|above|bigger than|larger than|more than|greater than|from"
)
_SCREEN_MAX = r"under|below|smaller than|less than|at most|max(?:imum)?|up to|no more than"
_AFTER_MIN = (
    r"\s*(?:screen\s*)?(?:or (?:bigger|larger|more|above|over|up)|\+"
    r"|and (?:up|above|bigger|larger|more)|min(?:imum)?\b|plus\b)"
)
_AFTER_MAX = (
    r"\s*(?:screen\s*)?(?:,?\s*or (?:smaller|less|under|below)|,?\s*not (?:bigger|larger|more)"
    r"|max(?:imum)?\b|tops\b)"
)


# "bigger, 65 at least", "not bigger than 43": a size word, then a bare number that is no price.
_SIZE_WORD = re.compile(r"\b(?:bigger|larger|smaller|screen|size)\b")
_BARE_SIZE = re.compile(r"(?<![\w$£€.,])(\d{2,3})(?![\w.,%$]|\s*(?:dollars|bucks|usd|k)\b)")


def _bare_sizes(message: str) -> dict[int, dict[str, float]]:
    """Screen sizes said as bare numbers next to a size word, by where they start, each as
    the guide writes it ({"min": 65} for "bigger, 65 at least")."""
    t = message.lower()
    if not _SIZE_WORD.search(t) or re.search(r"[$£€]|\b(?:dollars|bucks|budget|price)\b", t):
        return {}
    out: dict[int, dict[str, float]] = {}
    for m in _BARE_SIZE.finditer(t):
        n = float(m[1])
        if not 13 <= n <= 100 or _UNIT_AFTER.match(t[m.end() :]):
            continue
        before, after = t[max(0, m.start() - 24) : m.start()], t[m.end() : m.end() + 24]
        at_most = re.search(rf"\b(?:{_SCREEN_MAX}|not (?:bigger|larger|more) than)\s*$", before)
        at_least = re.search(rf"\b(?:{_SCREEN_MIN})\s*$", before) or re.match(_AFTER_MIN, after)
        if at_most or re.match(_AFTER_MAX, after):
            out[m.start()] = {"max": n}
        elif at_least or re.search(r"\b(?:bigger|larger)\b", t) or re.match(r"\s*at least", after):
            out[m.start()] = {"min": n}
        elif re.search(r"\bsmaller\b", t):
            out[m.start()] = {"max": n}
    return out


def screen(message: str) -> dict[str, float] | None:
    """The screen size said, in inches, as the guide writes it: {"min": .., "max": ..}."""
    t = message.lower()
    m = re.search(rf"\b{_SIZE}\s*(?:{_INCH})?\s*(?:-|–|to|or|and)\s*{_SIZE}{_INCH}", t)
    if m and float(m[1]) < float(m[2]):
        return {"min": float(m[1]), "max": float(m[2])}
    m = re.search(rf"(?:\b(?P<pre>{_SCREEN_MIN}|{_SCREEN_MAX})\s+)?\b(?P<n>{_SIZE}){_INCH}", t)
    if not m:
        bare = _bare_sizes(message)
        return next(iter(bare.values())) if len(bare) == 1 else None
    n = float(m["n"])
    before = t[max(0, m.start() - 20) : m.start()]
    after = t[m.end() : m.end() + 24]
    pre = m["pre"] or ""
    if re.match(_AFTER_MAX, after) or (
        re.fullmatch(_SCREEN_MAX, pre) or (pre in ("over", "above") and re.search(_NOT, before))
    ):
        return {"max": n}
    if pre or re.match(_AFTER_MIN, after) or re.search(r"\bbig(?:ger)?\b", t):
        return {"min": n}  # "65 inch or bigger"; "a big screen, 17 inch": at least
    return {"min": n, "max": n}


def specs(message: str, intent: str, reader: Any, names: Collection[str]) -> list[dict[str, Any]]:
    """The specs a request says (screen, RAM, storage, refresh rate, stars), as the guide
    writes them; ``names``: the spec names of the catalog."""
    from chatrec.constraints import parse

    if intent not in REQUESTS or not names:
        return []
    text = re.sub(r"\b(\d+)\s?gigs?\b", r"\1GB", message, flags=re.I)
    c = parse(text, reader.lexicon, reader.newest_year, reader.has_prices, reader.spec_names)
    out = [
        {"name": s.name, "min": s.lo, "max": s.hi}
        for s in c.specs
        if s.name != "screen" and (s.lo is not None or s.hi is not None)
    ]
    rated = re.search(r"\brat(?:ed|ings?)\s+(?:above|over|of|at least)\s+([0-5](?:\.\d)?)\b", text)
    if rated and all(s["name"] != "rating" for s in out):
        out.append({"name": "rating", "min": float(rated[1]), "max": None})
    if (size := screen(text)) is not None:
        out.insert(0, {"name": "screen", "min": size.get("min"), "max": size.get("max")})
    return [s for s in out if s["name"] in names]


_P_MAX = (
    r"under|below|less than|max(?:imum)?|up to|at most|within|cheaper than|stretch to"
    r"|go up to|can spend|no more than"
)
_P_OVER = r"over|above|more than|at least|starting at|min(?:imum)?"
_P_AROUND = (
    r"around|about|roughly|approximately|close to|closer to|like|maybe|~|budget(?:'s| is| of)?"
    r"|in the|ish"
)
_P_AFTER_MAX = (
    r"\s*(?:(?:dollars|bucks|quid|pounds|euros?)\s*)?"
    r"(?:or less|or under|max(?:imum)?\b|tops\b|at most|no more|is my (?:hard )?limit"
    r"|,? that's my (?:hard )?limit)"
)
# A number named after a product word is a model, not a price ("RTX 4070", "Galaxy S23").
_MODEL = re.compile(
    r"\b(?:rtx|gtx|rx|ps|xbox|series|model|gen|core|ryzen|iphone|galaxy|pixel|windows|wifi|wi-fi"
    r"|hero|quest|mac|ipad|surface|switch|explorer)\s*$"
)
_P_AFTER_MIN = r"\s*(?:or more|and up|plus\b|\+|minimum\b|at least)"
_P_AFTER_AROUND = r"\s*(?:range\b|or so\b|-?ish\b|give or take)"


def _role(message: str, start: int, end: int) -> str | None:
    """What the words next to an amount make of it: "max", "min", "around" or None."""
    before = message[max(0, start - 32) : start].lower().rstrip(" $£€")
    after = message[end : end + 24].lower()
    if re.search(rf"\b(?:{_P_MAX})$", before):
        return "max"
    over = re.search(rf"\b(?:{_P_OVER})$", before)
    if over:
        said = before[: over.start()]
        negated = re.search(
            r"\b(?:nothing|nothin|nothign|nuthin|not|no|don't|do not|never|won't|anything)\b"
            r"[\w\s']*$",
            said,
        )
        return "max" if negated else "min"
    if re.search(r"\bup to\b", before) or re.match(_P_AFTER_MAX, after):
        return "max"
    if re.match(_P_AFTER_MIN, after):
        return "min"
    if re.search(rf"(?:\b(?:{_P_AROUND})|~)$", before) or re.match(_P_AFTER_AROUND, after):
        return "around"
    if re.search(r"\bbudget\b[\w\s']{0,14}$", before):  # "budget can be $1000"
        return "around"
    return None


# A count or a measure, not money: "88 keys", "32 gigs of ram", "32 to 43 inch", "3 floors".
_UNIT_AFTER = re.compile(
    r"\s*(?:-\s*)?(?:keys|gigs?|gb|tb|mb|inch(?:es)?|in\b|\"|”|hz|mp\b|megapixels?|watts?|w\b"
    r"|hours?|hrs?|mah|years?|yrs?|yo\b|months?|days?|minutes?|mins?|kids?|people|players?"
    r"|ft\b|feet|foot|meters?|m\b|mm\b|cm\b|floors?|rooms?|bedrooms?|%|x\b|fps|ports?"
    r"|cameras?|pack\b|count\b|pcs\b|pieces?|lbs?\b|pounds? weight|kg\b|grams?|g\b|oz\b"
    r"|sq\.?\s?(?:ft|feet|foot|m)\b|sqft\b|square\b)",
    re.I,
)


def _is_price(message: str, start: int, end: int, value: float, tagged: bool) -> bool:
    """A money amount, not a count: a dollar sign or word, or a plausible price."""
    said = message[start:end].lower()
    if _UNIT_AFTER.match(message[end:]) and "$" not in message[max(0, start - 2) : end]:
        return False
    money_word = re.match(
        r"\s*(?:dollars|bucks|usd|quid|pounds|euros?|gbp|eur)\b", message[end : end + 10].lower()
    )
    sign = message[max(0, start - 2) : start]
    if "$" in said or money_word or any(c in sign for c in "$£€"):
        return True
    if _MODEL.search(message[max(0, start - 12) : start].lower()):
        return False
    if re.fullmatch(r"[48]\s?k", said):  # "4K" is a resolution unless a bound is said
        return bool(re.search(rf"\b(?:{_P_MAX}|{_P_OVER})\s*$", message[:start].lower()))
    return "k" in said or value >= 20 or (tagged and value >= 10)


_A_GRAND = re.compile(r"\ba (?:grand|thousand)\b", re.I)


def price(message: str, intent: str, proposed: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The price a request says: each amount's role from its words, else the parser's.

    ``proposed``: the parser's price; its relative direction is kept, and its amounts give the
    role of an amount no word places ({"max": 250} for "250 please")."""
    proposed = proposed or {}
    if intent not in REQUESTS:
        return None
    out: dict[str, Any] = {}
    if proposed.get("relative"):
        out["relative"] = proposed["relative"]
    tagged = {v: k for k, v in proposed.items() if k in ("max", "min", "around") and v is not None}
    # "a grand" is 1000 (same length, so every position stays put).
    message = _A_GRAND.sub(lambda m: "1000".ljust(len(m[0])), message)
    found = [(s, e, v) for s, e, v in amounts(message) if v >= 0]
    measures: set[int] = set()  # "32 to 43 inch": both ends are the unit's
    for (s1, e1, v1), (s2, e2, v2) in itertools.pairwise(found):
        joined = re.fullmatch(r"\s*(?:-|–|to|and)\s*", message[e1:s2])
        if joined and _UNIT_AFTER.match(message[e2:]) and "$" not in message[s1 - 1 : e1]:
            measures.add(s1)
        elif joined and 0 < v1 < v2 and _is_price(message, s2, e2, v2, False):
            return {**out, "min": v1, "max": v2}  # "$300-500", "between 500 and 800"
    for s, e, v in found:
        if s in measures:
            continue
        role = _role(message, s, e) or tagged.get(v)
        if s in _bare_sizes(message):
            continue  # "bigger, 65 at least": a screen size
        if role and role not in out and _is_price(message, s, e, v, v in tagged):
            out[role] = v
    if len(out) > 1:
        out.pop("relative", None)  # "cheaper, under 200": the amount says how much cheaper
    return out or None
