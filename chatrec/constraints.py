"""Constraints read from a message: price, years, categories, add-ons and product specs.

Input: the message text and the catalog's ``Lexicon`` (phrases -> categories). Output: a
``Constraints`` value that ``retrieve`` turns into a filter, plus the problems of that
message (contradictions, specs the catalog cannot check) for the dialogue to ask about.
Pure functions, no models. The dialogue carries constraints from turn to turn; this module
reads one message. ``SpecTable`` reads the specs that a catalog's titles and feature bullets
state (screen size, RAM, storage, refresh rate, rating, panel/resolution words) once, so a
spec constraint is a vectorised check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping

from chatrec.catalog import Item
from chatrec.facts import money
from chatrec.types import Constraints, Spec

# Units after a number that make it anything but a price ("16GB", "65 inch", "2 hours").
_UNIT = (
    r"(?!\s?(?:\"|”|''|-?inch|-?in\b|gb\b|tb\b|mb\b|hz\b|khz|ghz|mah|wh\b|w\b|watts?|v\b|volts?"
    r"|mp\b|megapixels?|lbs?\b|pounds?\b|kg\b|kilos?|g\b|grams?|oz\b|ounces?|mm\b|cm\b|ft\b|feet"
    r"|hours?|hrs?\b|h\b|min\b|mins|minutes?|stars?|%|x\b|cores?|fps|nits|db\b|years?|yrs|people"
    r"|players?|pack|count|ch\b|channel|s\b|'s))"
)
# An amount, read whole or not at all: its digits possessively (backtracking into a digit run
# would read "16GB" as "1" and cost O(n^3) on a 1,000-digit message), with its exponent
# ("1e308", "10^9": never "$1" or "$9") and its sign ("$-5", "-$5"; "under-50" is a hyphen).
# Group 1 is the amount, group 2 a multiplier word.
_NUM = (
    r"((?:(?<![^\s(])[-−]\s?)?\$?\s?(?:(?<=\$)[-−])?\d[\d,]*+(?:\.\d+)?+(?:e[+-]?\d++|\s?\^\s?\d++)?+)"
    r"(?!\.\d)\s?(?:(k|thousand|grand|million|billion|trillion)\b)?" + _UNIT
)
_TIMES = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "million": 1e6, "billion": 1e9}
_TIMES["trillion"] = 1e12
MAX_PRICE = 10_000_000  # dollars: no search needs more; a larger amount is named, not used


def _amount(num: str, times: str | None) -> float:
    """Dollars: "1,500" -> 1500, ("2", "k") -> 2000, "1e308" -> 1e308, "10^9" -> 1e9,
    "$-5" -> -5; ``inf`` beyond what a float holds (a 400-digit number)."""
    s = "".join(num.split()).replace(",", "").replace("$", "").replace("−", "-")
    negative = s.startswith("-")
    base, _, power = s.lstrip("-").partition("^")
    try:
        value = float(base) ** int(power) if power else float(base)
    except OverflowError:
        value = math.inf
    value *= _TIMES.get(times or "", 1.0)
    return -value if negative else value


def amounts(text: str) -> list[tuple[int, int, float]]:
    """(start, end, dollars) of every amount in ``text`` that can be a price, read as
    ``parse`` reads them ("$250", "1.5k", "2 grand"; never "16GB" or "65 inch")."""
    out = []
    for m in re.finditer(_NUM, text, re.IGNORECASE):
        num = m.group(1)
        start = m.start(1) + len(num) - len(num.lstrip())  # the amount, not the space before
        out.append((start, m.end(), _amount(num, (m.group(2) or "").lower() or None)))
    return out


def _impossible_price(num: str, times: str | None, value: float) -> str:
    """The sentence that names an amount no price search can use; "" for a price."""
    if value < 0:
        return "I can't search for prices below $0."
    if value <= MAX_PRICE:
        return ""
    said = "".join(num.split()).replace("$", "")
    digits = sum(ch.isdigit() for ch in said)
    if value < 1e15:
        shown = money(value)
    elif "e" in said or "^" in said or times:
        shown = f"${said}{' ' + times if times else ''}" if len(said) <= 20 else "That number"
    else:
        shown = f"A {digits:,}-digit number"
    return f"{shown} is not a price I can search for (the most is {money(MAX_PRICE)})."


def _bound(m: re.Match[str], group: int, impossible: list[str]) -> float | None:
    """The amount of ``m``'s ``group`` (and the multiplier after it), or None when it is no
    price: then the reason is added to ``impossible``."""
    value = _amount(m[group], m[group + 1])
    why = _impossible_price(m[group], m[group + 1], value)
    if why:
        if why not in impossible:
            impossible.append(why)
        return None
    return value


SPEC_LABELS = {
    "screen": "screen size",
    "ram": "RAM",
    "storage": "storage",
    "refresh": "refresh rate",
    "rating": "star rating",
}
# Feature words a listing states or not: name -> pattern (lower-case text).
KEYWORDS: dict[str, str] = {
    "4K": r"\b(?:4k|uhd|ultra hd|2160p)\b",
    "8K": r"\b8k\b",
    "1080p": r"\b(?:1080p|full hd|fhd\+?)(?!\w)",
    "QHD": r"\b(?:w?qhd\+?|1440p)(?!\w)",
    "OLED": r"\boled\b",
    "QLED": r"\bqled\b",
    "Mini LED": r"\bmini[- ]?led\b",
    "touchscreen": r"\btouch ?screen\b",
    "2-in-1": r"\b2[- ]in[- ]1\b",
}
_PRICE_WORD = re.compile(r"(under|below|over|above|than|around|about|to|max|budget|\$)\s*$")


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
            plural = phrase + ("es" if re.search(r"(?:s|x|z|ch|sh)$", phrase) else "s")
            for form in (_singular(phrase), plural):
                self.aliases.setdefault(form, cats)
        self.addon_words = tuple(w.lower() for w in addon_words)
        phrases = sorted(self.aliases, key=len, reverse=True)
        self._pattern = (
            re.compile(
                r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases) + r")(?!\w|-(?!ish\b))"
            )
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
    r"\b(no|not|without|except|excluding|but not|(?:anything|everything) but|nothing|avoid|"
    r"hates?|hated|dislikes?|never|"
    r"skip|no more|minus|hold(?=\s+the\b)|nix|pass on|"
    r"(?:can['’]?t|cannot|could never) stand|sick of|tired of|spare (?:me|us)|"
    r"(?:stay|keep (?:me |us )?)?away from|steer clear of|done with|(?<!well )done|drop|ditch|"
    r"had (?:enough|my fill) of|"
    r"zero|exclude|remove|filter out|take out|leave out|cut out|less|fewer|"
    r"(?:don['’]?t|do not) do|(?:don['’]?t|do not) care for|not into|not a fan of|"
    r"(?:isn|aren|wasn)['’]?t|(?:is|are) not|"
    r"(?:don['’]?t|do not) (?:really |much |particularly |actually )?(?:like|want|enjoy))"
    r"\s+((?:with|involving|featuring|containing)\s+)?((a|an|any|anything|the|another|more)\s+)?$"
)
_LISTED = re.compile(r"\s*(?:,|and|or|nor|&|/)\s*(?:(?:no|any|the)\s+)?")
# "forget westerns", "never mind the musicals": no longer wanted, but not ruled out either
# ("drop the thrillers", "ditch the cartoons" rule them out: ``_NEGATION``).
_DROPPED = re.compile(
    r"\b(?:forget|never mind|nevermind|scrap|instead of|rather than|no longer|enough|park)\s+"
    r"(?:about\s+|of\s+)?"
    r"(?:the\s+|those\s+|that\s+)?$"
)


_UNDER = (
    r"(?:under|below|less than|cheaper than|lower than|up to|at most|max(?:imum)?|"
    r"no more than|within|<=?)"
)
_OVER = r"(?:over|above|(?<!no )(?<!not )more than|at least|min(?:imum)?|>=?)"
# "I don't want to spend more than $450" is a ceiling, not a floor.
_NOT_MORE = re.compile(
    r"\b(?:don'?t|do not|not|never|won'?t|can'?t|cannot)\s+(?:want to\s+|wanna\s+|like to\s+|"
    r"plan to\s+|be able to\s+)?(?:spend|pay|go)\s+(?:any\s+)?(?:more than|over|above)"
)
# "watch" as a verb ("we watch movies") is no smart watch.
_WATCH_VERB = re.compile(
    r"\b(watch(?:ing|es)?)(?=\s+(?:a lot of\s+|lots of\s+|mostly\s+|the\s+)?(?:movies|films|"
    r"tv|shows|series|videos|netflix|sports|the game|football|anime|youtube|streams?)\b)"
)


def _price(text: str) -> tuple[float | None, float | None, list[str], list[str]]:
    """(min, max, problems, impossible). Both an upper and a lower bound may be said ("over
    $100 but under $300"); when they contradict each other neither is used and the problem is
    named. An amount that is no price ("$-5", "$1e308") is not used and is named."""
    t = text
    impossible: list[str] = []
    m = re.search(rf"\b(?:between|from)\s+{_NUM}\s*(?:and|to|-|–)\s*{_NUM}", t) or re.search(
        rf"(?=[-−]?\s?\$){_NUM}\s*(?:-|–|to)\s*{_NUM}", t
    )
    if m:
        said = sorted([(_amount(m[1], m[2]), 1), (_amount(m[3], m[4]), 3)])
        ends = [_bound(m, group, impossible) for _, group in said]
        return ends[0], ends[1], [], impossible
    m_hi = re.search(rf"{_UNDER}\s*{_NUM}", t) or re.search(
        rf"{_NUM}\s*(?:or less|or under|max(?:imum)?|tops)\b", t
    )
    m_lo = re.search(rf"{_OVER}\s*{_NUM}", t) or re.search(
        rf"{_NUM}\s*(?:or more|and up|plus)\b", t
    )
    hi = _bound(m_hi, 1, impossible) if m_hi else None
    lo = _bound(m_lo, 1, impossible) if m_lo else None
    if lo is not None and hi is not None and lo > hi:
        problem = f"a price under {money(hi)} and over {money(lo)} can't both hold"
        return None, None, [problem], impossible
    if lo is not None or hi is not None or m_hi or m_lo:
        return lo, hi, [], impossible
    m = (
        re.search(rf"(?:around|about|roughly|approximately)\s*(?=[-−]?\s?\$){_NUM}", t)
        or re.search(rf"budget(?: of| is| around| about)?\s*{_NUM}", t)
        or re.search(rf"{_NUM}\s*(?:dollars|bucks|usd)\b", t)
    )
    v = _bound(m, 1, impossible) if m else None
    if v is not None:
        return round(v * 0.8, 2), round(v * 1.2, 2), [], impossible
    return None, None, [], impossible


def _decade(two_or_four: str) -> int:
    y = int(two_or_four)
    if y < 100:
        y += 1900 if y >= 20 else 2000
    return y


YEAR_MIN, YEAR_MAX = 1800, 2100  # the years an item may carry (``Item.year``)
# A year no item can carry, said as one: with "year" ("the year -500", "year 99999"), in BC,
# or a bare number after a year word where it can be no price or count ("from 3000.").
_ODD_YEAR = re.compile(
    r"\b(?:before|earlier than|older than|prior to|pre|after|since|newer than|later than|post"
    r"|from|in)[ -](?:(?:the\s+)?year\s+(?P<y1>[-−]?\d++)"
    r"|(?P<bc>\d++)\s?(?:bc|bce|b\.c\.?)(?![\w.])"
    r"|(?P<y2>[-−]\d++|\d{5,}+|(?!1[89]|20)\d{4})(?![\d.,])"
    r"(?=\s*(?:$|[,.;:!?)]|(?:and|or|but|please|only|onwards?|on|ad|ce)\b)))"
)


def _odd_year(m: re.Match[str]) -> tuple[int, str]:
    """(the year, how to name it) of an ``_ODD_YEAR`` match; any 10 digits or more read as
    10**9 (only its side of the range matters)."""
    raw = (m["y1"] or m["y2"] or f"-{m['bc']}").replace("−", "-")
    digits = raw.lstrip("-")
    year = int(digits) if len(digits) < 10 else 10**9
    shown = (
        f"{digits} BC"
        if m["bc"] and len(digits) <= 12
        else f"year {raw}"
        if len(digits) <= 12
        else f"a year of {len(digits):,} digits"
    )
    return (-year if raw.startswith("-") else year), shown


def _no_year(year: int, shown: str, newest_year: int) -> str:
    """The sentence that names a year no item can carry; "" for a year one may carry."""
    if year < YEAR_MIN:
        return f"I can't search for {shown}."
    if year > YEAR_MAX:
        return f"There is nothing from after {newest_year} in this catalog."
    return ""


def _years(text: str, newest_year: int) -> tuple[int | None, int | None, list[str], list[str]]:
    """(min, max, problems, impossible): every year statement of the message, intersected.

    "a 90s film from after 2005" states two ranges that do not overlap: that is a problem to
    ask about, and neither bound is used. A year no item can carry ("the year -500", "the
    1700s", "from 99999") is not used either, and is named in ``impossible``.
    """
    said: list[tuple[int | None, int | None, str]] = []
    impossible: list[str] = []

    def usable(year: int, shown: str) -> bool:
        why = _no_year(year, shown, newest_year)
        if why and why not in impossible:
            impossible.append(why)
        return not why

    m = re.search(r"\b(?:from the |in the |the )?'?(\d{2}|\d{4})'?s\b", text)
    if m and (len(m[1]) == 2 or m[1].endswith("0")):
        start = _decade(m[1])
        if YEAR_MIN <= start <= YEAR_MAX:
            said.append((start, start + 9, f"the {start}s"))
        elif not re.match(r"\s+of\b", text[m.end() :]):  # "1000s of films" is no decade
            usable(start, f"the {start}s")
    m = re.search(r"\bbetween (1[89]\d{2}|20\d{2}) and (1[89]\d{2}|20\d{2})\b", text)
    if m:
        a, b = sorted((int(m[1]), int(m[2])))
        said.append((a, b, f"{a}–{b}"))
    year = r"(?:the\s+)?(?:year\s+)?(\d{4})\b"
    m = re.search(rf"\b(?:before|earlier than|older than|prior to|pre)[ -]{year}", text)
    if m and usable(int(m[1]), f"year {m[1]}"):
        said.append((None, int(m[1]) - 1, f"before {m[1]}"))
    m = re.search(rf"\b(?:after|since|newer than|later than|post)[ -]{year}", text)
    if m and usable(int(m[1]), f"year {m[1]}"):
        since = "since" in m[0]
        said.append(
            (int(m[1]) + (0 if since else 1), None, f"{'since' if since else 'after'} {m[1]}")
        )
    m = re.search(
        r"\b(?:from|in|of)\s+(?:the\s+)?(?:year\s+)?(1[89]\d{2}|20\d{2})\b"
        r"(?!\s*(?:and|to|-|–)\s*\d)",
        text,
    )
    if m and not said:
        said.append((int(m[1]), int(m[1]), m[1]))
    for m in _ODD_YEAR.finditer(text):
        usable(*_odd_year(m))
    # "new" about the person ("I'm new here", "new to this") is not about the films.
    about_me = r"(?<!i'm )(?<!i am )(?<!im )(?<!we're )(?<!brand )"
    if not said and re.search(
        rf"\b(recent|{about_me}new(?! here| to | user| customer)|newer|latest|modern)\b", text
    ):
        said.append((newest_year - 3, None, "recent"))
    # "old" of an age ("my 8-year-old", "a 10 year old") is about a person, not the films.
    if not said and re.search(
        r"\b(?<!year-)(?<!years-)(?<!year )(?<!years )(?<!yr )"
        r"(old|classic|vintage|older)\b",
        text,
    ):
        said.append((None, min(newest_year - 25, 1975), "older"))
    los = [lo for lo, _, _ in said if lo is not None]
    his = [hi for _, hi, _ in said if hi is not None]
    lo, hi = (max(los) if los else None), (min(his) if his else None)
    if lo is not None and hi is not None and lo > hi:
        names = " and ".join(name for _, _, name in said)
        return None, None, [f"{names} don't overlap"], impossible
    return lo, hi, [], impossible


_SIZE_UNIT = r"\s?(?:\"|”|''|-?\s?inch(?:es)?\b|-?in\.?(?=\s|$))"
_MIN_WORDS = r"at least|min(?:imum)?|over|above|bigger than|larger than|more than|greater than|>=?"
_MAX_WORDS = r"under|below|smaller than|less than|at most|max(?:imum)?|up to|no more than|<=?"
_MIN_AFTER = r"or (?:bigger|larger|more|above|over|higher|better)|\+|and (?:up|above|bigger|larger)"
_MAX_AFTER = r"or (?:smaller|less|under|below|lower)"


def _spec_range(pre: str | None, post: str | None) -> str:
    """'min', 'max' or '' from the words around a spec amount."""
    if (pre and re.fullmatch(_MAX_WORDS, pre)) or (post and re.fullmatch(_MAX_AFTER, post)):
        return "max"
    if (pre and re.fullmatch(_MIN_WORDS, pre)) or (post and re.fullmatch(_MIN_AFTER, post)):
        return "min"
    return ""


def _amount_spec(unit_pattern: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?:(?P<pre>{_MIN_WORDS}|{_MAX_WORDS})\s*)?(?P<n>\d{{1,4}}(?:\.\d)?)(?![\d.])"
        rf"(?:{unit_pattern})(?:\s*(?P<post>{_MIN_AFTER}|{_MAX_AFTER}))?"
    )


_SPEC_PATTERNS = {
    "screen": _amount_spec(_SIZE_UNIT),
    "ram": _amount_spec(r"\s?gb\s*(?:of\s+)?(?:unified\s+)?(?:ram|memory)\b"),
    "storage": _amount_spec(
        r"\s?(?P<u>gb|tb)\b(?!\s*(?:of\s+)?(?:unified\s+)?(?:ram|memory))"
        r"(?:\s*(?:of\s+)?(?:ssd|storage|hdd|hard drive|drive|flash))?"
    ),
    "refresh": _amount_spec(r"\s?hz\b"),
    "rating": _amount_spec(r"\s*\+?\s*stars?\b|\s*/\s*5\b"),
}
_RATED = re.compile(
    r"\brated\s+(?:(?P<pre>at least|over|above)\s+)?(?P<n>[0-5](?:\.\d)?)\+?(?![\d.])"
)

# What no catalog here can check: a number with these units, or these words.
_UNKNOWN_SPECS: tuple[tuple[str, str], ...] = (
    (
        r"\b\d[\d,]*\s?mah\b|\bbattery life\b|\b\d+\s?(?:hours?|hrs?) (?:of )?battery",
        "battery life",
    ),
    (
        r"\b\d+(?:\.\d+)?\s?(?:lbs?|pounds?|kg|kilos?|grams?|oz|ounces?)\b|\bweigh(?:s|t|ing)?\b",
        "weight",
    ),
    (r"\b\d+\s?(?:mp|megapixels?)\b", "camera megapixels"),
    (r"\b\d+(?:\.\d+)?\s?ghz\b", "processor speed (GHz)"),
    (r"\b\d+\s?(?:w|watts?)\b(?!/)", "power in watts"),
    (r"\b\d+\s?nits\b", "brightness (nits)"),
    (r"\b\d+(?:\.\d+)?\s?(?:mm|cm)\b", "dimensions"),
    (r"\b\d+\s?fps\b", "frame rate"),
    (r"\b\d+\s?db\b", "loudness (dB)"),
    (r"\b(?:directed by|director|starring|actors?|actress(?:es)?|cast)\b", "cast or director"),
    (
        r"\b(?:runtime|running time|minutes long|hours? long|\d+\s?(?:minutes|mins)\b"
        r"|(?:under|less than|over|at least|about|around)\s+\d+(?:\.\d+)?\s?(?:hours?|hrs?)\b)",
        "running time",
    ),
    (r"\b(?:rated|rating)\s+(?:pg-13|pg|nc-17|r|g)\b", "age rating"),
    (r"\b(?:subtitles?|subtitled|dubbed)\b", "subtitles or dubbing"),
    (r"\b(?:on netflix|on hulu|prime video|disney\+|streaming on)\b", "where it streams"),
)


def _specs(
    text: str, available: Collection[str] | None
) -> tuple[list[Spec], list[str], list[tuple[int, int]]]:
    """(specs the catalog can check, labels of those it cannot, spans read as specs)."""
    found: list[Spec] = []
    unsupported: list[str] = []
    spans: list[tuple[int, int]] = []

    def add(spec: Spec, span: tuple[int, int]) -> None:
        spans.append(span)
        if available is None or spec.name in available:
            if all(s.name != spec.name for s in found):
                found.append(spec)
        else:
            label = SPEC_LABELS.get(spec.name, spec.name)
            if label not in unsupported:
                unsupported.append(label)

    for name, pattern in _SPEC_PATTERNS.items():
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            n = float(m["n"])
            if name == "storage" and m["u"] == "tb":
                n *= 1000
            if name == "rating" and n > 5:
                continue
            side = _spec_range(m["pre"], m["post"])
            add(_numeric_spec(name, n, side), m.span())
            break
    m = _RATED.search(text)
    if m and all(s.name != "rating" for s in found):
        add(_numeric_spec("rating", float(m["n"]), "min"), m.span())
    for name, pattern in KEYWORDS.items():
        for m in re.finditer(pattern, text):
            if _PRICE_WORD.search(text[max(0, m.start() - 12) : m.start()]) and name == "4K":
                continue  # "under 4k" is a price
            add(Spec(name, None, None, name), m.span())
            break
    for pattern, label in _UNKNOWN_SPECS:
        m = re.search(pattern, text)
        if m and not any(a <= m.start() < b for a, b in spans):
            spans.append(m.span())
            if label not in unsupported:
                unsupported.append(label)
    return found, unsupported, spans


def _numeric_spec(name: str, n: float, side: str) -> Spec:
    """A spec amount -> a range. A bare amount is a minimum ("16GB RAM" = at least 16GB),
    except screen sizes, which people mean as a size class: a "15-inch" laptop has a 15.6"
    screen and a "65-inch" TV measures 64.5", so a bare size n means [n - 0.5, n + 0.99]."""
    num = f"{n:g}"
    if name == "screen":
        if side == "min":
            return Spec(name, n - 0.5, None, f'{num}"+ screen')
        if side == "max":
            return Spec(name, None, n + 0.99, f'screen up to {num}"')
        return Spec(name, n - 0.5, n + 0.99, f'{num}" screen')
    unit, noun = {"ram": ("GB", " RAM"), "storage": ("GB", " storage"), "refresh": ("Hz", "")}.get(
        name, ("", "")
    )
    if name == "storage" and n >= 1000:
        num, unit = f"{n / 1000:g}", "TB"
    if name == "rating":
        return (
            Spec(name, None, n, f"rated up to {num}")
            if side == "max"
            else Spec(name, n, None, f"rated {num}+")
        )
    if side == "max":
        return Spec(name, None, n, f"up to {num}{unit}{noun}")
    return Spec(name, n, None, f"{num}{unit}+{noun}")


def parse(
    text: str,
    lexicon: Lexicon,
    newest_year: int | None = None,
    has_prices: bool = True,
    specs: Collection[str] | None = None,
) -> Constraints:
    """Read the constraints of one message. Unknown words are simply not constraints.

    Args:
        text: the message.
        lexicon: the catalog's category phrases.
        newest_year: the catalog's newest year; None when items carry no year (no year parsing).
        has_prices: whether items carry prices (no price parsing otherwise).
        specs: the spec names the catalog can check (``SpecTable.available``); None = all.
            A spec it cannot check is named in ``unsupported``, never silently dropped.
    """
    t = " ".join(text.lower().split())
    t = _NOT_MORE.sub("under", t)
    t = _WATCH_VERB.sub(lambda m: "v" * len(m.group(1)), t)  # same length: spans stay put
    wanted_specs, unsupported, spans = _specs(t, specs)
    rest = t  # "16GB RAM" or "65 inch" must not read as a price, "battery life" as batteries
    for a, b in spans:
        kept = re.sub(r"\b(?!(?:ssd|hdd|hard drive)\b)\S", " ", rest[a:b])  # but "1TB SSD" is one
        rest = rest[:a] + kept + rest[b:]
    problems: list[str] = []
    impossible: list[str] = []  # values no search can use, named in the reply
    price_min = price_max = None
    if has_prices:
        price_min, price_max, said, cannot = _price(rest)
        problems += said
        impossible += cannot
    year_min = year_max = None
    if newest_year:
        year_min, year_max, said, cannot = _years(rest, newest_year)
        problems += said
        impossible += cannot
    elif _DECADE_OR_YEAR.search(rest):
        unsupported.append("release years")  # "from the 70s" in a catalog without years
    wanted: dict[str, None] = {}
    unwanted: dict[str, None] = {}
    mentions: list[str] = []
    cut: list[tuple[int, int]] = []
    last_negated: int | None = None
    for start, end, phrase in lexicon.find(rest):
        cats = lexicon.aliases[phrase]
        window = max(0, start - 24)
        before = t[window:start]
        dropped = _DROPPED.search(before)
        if dropped is not None:
            cut.append((window + dropped.start(), end))
            mentions.append("drop " + phrase)
            continue
        neg = _NEGATION.search(before)
        negated = neg is not None
        # "except horror and westerns", "no horror or gore": the list shares its "no".
        negated |= bool(last_negated is not None and _LISTED.fullmatch(t[last_negated:start]))
        if neg is not None:
            cut.append((window + neg.start(), end))
        target = unwanted if negated else wanted
        for c in cats:
            target.setdefault(c, None)
        mentions.append(("not " if negated else "") + phrase)
        last_negated = end if negated else None
    allow_addons = any(re.search(rf"\b{re.escape(w)}", t) for w in lexicon.addon_words)
    return Constraints(
        price_min=price_min,
        price_max=price_max,
        year_min=year_min,
        year_max=year_max,
        categories=tuple(c for c in wanted if c not in unwanted),
        exclude_categories=tuple(unwanted),
        allow_addons=allow_addons,
        specs=tuple(wanted_specs),
        mentions=tuple(mentions),
        positive_text=_without(t, cut),
        problems=tuple(problems),
        unsupported=tuple(unsupported),
        impossible=tuple(impossible),
    )


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return " ".join(text.replace(" ,", ",").split()).strip(" ,.;")


_SIZE_IN_TITLE = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d)?)\s?(?:\"|”|''|-inch\b| inch\b|-in\b)")
_SIZE_IN_TEXT = re.compile(
    r"(?<![\d.])(\d{1,3}(?:\.\d)?)\s?(?:\"|”|-inch)\s*(?:ips|fhd|qhd|uhd|oled|lcd|led|display|"
    r"screen|touch|retina|pixelsense|class)",
    re.IGNORECASE,
)
_RAM = re.compile(r"(\d{1,3})\s?gb\s*(?:of\s+)?(?:unified\s+)?(?:ram|memory|lpddr|ddr)", re.I)
_STORAGE_TITLE = re.compile(
    r"(?<![\d.])(\d{1,4})\s?(gb|tb)\b(?!\s*(?:of\s+)?(?:unified\s+)?(?:ram|memory|lpddr|ddr|gddr))",
    re.IGNORECASE,
)
_STORAGE_TEXT = re.compile(
    r"(?<![\d.])(\d{1,4})\s?(gb|tb)\s*(?:pcie\S*\s*)?(?:nvme\S*\s*)?(?:m\.2\s*)?"
    r"(?:ssd|hdd|emmc|storage|flash|hard drive|ufs)",
    re.IGNORECASE,
)
# An explicit decade or year ("the 70s", "1990s"); "new"/"recent" are left out on purpose: in
# a catalog without years they mean "a current model", not a date.
_DECADE_OR_YEAR = re.compile(
    r"\b(?:(?:19|20)\d{2}s?|'?\d0s|year\s+[-−]?\d+|\d+\s?(?:bc|bce))\b", re.IGNORECASE
)
_HZ = re.compile(r"(?<![\d-])(\d{2,3})\s?hz\b(?!\s*-)", re.IGNORECASE)


def item_specs(item: Item) -> tuple[dict[str, float], set[str]]:
    """(numeric specs, keyword specs) that an item's title and feature bullets state.

    The title wins over the bullets (bullets also compare with other products: "faster
    than the 27-inch iMac"). Refresh rates count only for items with a screen (a speaker's
    "29Hz-120Hz" is its frequency response).
    """
    title, text = item.title, item.text
    values: dict[str, float] = {}
    m = _SIZE_IN_TITLE.search(title) or _SIZE_IN_TEXT.search(text)
    if m:
        values["screen"] = float(m[1])
    m = _RAM.search(title) or _RAM.search(text)
    if m:
        values["ram"] = float(m[1])
    m = _STORAGE_TITLE.search(title) or _STORAGE_TEXT.search(text)
    if m:
        values["storage"] = float(m[1]) * (1000 if m[2].lower() == "tb" else 1)
    hz = [float(h) for h in _HZ.findall(f"{title} {text}")]
    if hz and "screen" in values:
        values["refresh"] = max(hz)
    if item.rating is not None:
        values["rating"] = item.rating
    low = f"{title} {text}".lower()
    words = {name for name, pattern in KEYWORDS.items() if re.search(pattern, low)}
    return values, words
