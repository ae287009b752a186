"""Claims an explanation makes, held against what they are about (issue 18).

Input: a generated text, the ``Item`` it explains, its ``Evidence``, what the person stated
(their words and ``Constraints``) and the catalog's ``Vocabulary``. Output: the problems found
(empty: every claim checked holds). ``explain.check`` runs these after its own checks (every
number exists somewhere in the facts, no other title, no invented history or praise), which
prove that a number exists, not what it is said of. Here:

- roles: a number sits in a phrase whose role matches the fact it equals. An average next to
  the people who loved X is their average from the evidence, not the item's own; "N of the M
  people who loved X" are the evidence's counts for X; the item's own rating, its number of
  ratings, its year and its price are its own; a price is never called a rating; an amount
  said as a budget ("your $N budget", "under $N") is one the person stated, and the item's
  price is within it;
- cut short or garbled: a sentence that ends on a bare number ("rated 4." of a 4.8 rating,
  "rated it too, 3." of a 3.0★ average), on a function word ("with a."), or on a word the
  listing goes on from ("5,800 sq." of "Sq.Ft"); an amount said twice;
- features: a number said with a noun the listing does not say with it ("2 games" of 200+
  titles, "a 3-drone bundle" of a "Mini 3 Drone", "a 20-100W peak" of a 160W peak); a model
  code the listing does not have ("Q400"); a feature the item is said to have ("with a
  camera") or to be, in a word of the catalog's ``Vocabulary`` that its own title, text and
  features never use; a liked title spoken of as if it were the pick;
- contrasts: one may not deny the item its own brand or genre ("not a Bose" of a Bose
  soundbar, "not sci-fi" of a Sci-Fi film); "not just a drama" says more, not less.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chatrec.catalog import Item
from chatrec.facts import facts_text, number_key, price_text
from chatrec.text import STOP_WORDS, fold, singular, words
from chatrec.types import Constraints, Evidence, Pull

# One token: a model code ("q400", "i7-1355u", "kd-51m"), a number with an ordinal ("13th"),
# a number (commas between digits, a decimal part), a word, or one mark.
_TOKEN = re.compile(
    r"[a-z]+\d[a-z0-9]*(?:-[a-z0-9]+)*"
    r"|\d+(?:st|nd|rd|th)\b"
    r"|\d(?:[\d,]*\d)?(?:\.\d+)?"
    r"|[a-z]+(?:['’.][a-z]+)*"
    r"|[^\sa-z0-9™®©]"
)
_NUM = re.compile(r"^\d(?:[\d,]*\d)?(?:\.\d+)?$")
_CODE = re.compile(r"^[a-z]+\d")
_INCH = re.compile(r"(\d)\s?(?:\"|”|″|''|-inch\b|\s?inch(?:es)?\b)")
_MARK = "⟪{}⟫"
_MARKED = re.compile(r"⟪\d+⟫")
# The people behind a pick: "62 of the 63 people who loved X", "of the 229 people who loved
# X, 191 rated", "48 of the 188 X fans", "38 of its 52 fans".
_PAIR = re.compile(
    r"\b(?P<also>\d[\d,]*) (?:out )?of (?:the |its |their |those |all |his |her )?"
    r"(?P<fans>\d[\d,]*)\b"
)
_OF_THE = re.compile(
    r"(?<![\d,] )\bof (?:the |its |their |those |all )?(?P<fans>\d[\d,]*) (?:people|fans|viewers)"
    r"[^,;]*?,\s*(?P<also>\d[\d,]*)(?![\d.,]*\d|★)\b"
)
_FAN = re.compile(r"\bfans?\b|\bwho (?:loved|liked|enjoyed|adored)\b")
# The fans who rated the pick, counted alone: "44 people who loved Jaws rated it too" is the
# evidence's 44 of 178, never its 178 (a count in "44 of the 178 ..." is ``_PAIR``'s).
_RATERS = re.compile(
    r"\b(?P<n>\d[\d,]*) (?:(?:people|fans|viewers) who (?:loved|liked|enjoyed|adored)|fans of)\b"
    r"[^,;.]*?\b(?:rated|gave|scored)\b"
)
# Raters called owners or buyers: "1,604 owners give it 4.8" (a count of ratings says who
# rated, not who owns or bought it).
_OWNERS = re.compile(r"\b\d[\d,]* (?:\w+ )?(?:owners|buyers|shoppers|customers|purchasers)\b")
# The person's own ratings: nothing shown to the explainer says what they rated.
_YOU_RATED = re.compile(
    r"\byou(?:['’]ve| have)? rated\b|\byou(?:['’]ve| have)? (?:gave|given) (?:it|this|them)\b"
    r"|\b(?:ratings|stars|scores) you(?:['’]ve| have)? gave\b"
)
# Remarks about the person: only what their request or history says of them.
_THE_PERSON = re.compile(r"\b(?:the|a) (?:person|viewer|buyer|customer|user) who\b")
_YOUR = re.compile(r"\byour (?:own )?([a-z]+)")
_AGE = re.compile(r"\b\d{1,2}\s*-?\s*(?:years?|yrs?)[- ]old\b|\b\d{1,2}\s?yo\b", re.I)
_PERSONAL = frozenset(
    [
        "daughter",
        "son",
        "wife",
        "husband",
        "kid",
        "child",
        "baby",
        "toddler",
        "teen",
        "teenager",
        "grandson",
        "granddaughter",
        "grandkid",
        "grandchild",
        "grandma",
        "grandpa",
        "mum",
        "mom",
        "dad",
        "mother",
        "father",
        "parent",
        "partner",
        "girlfriend",
        "boyfriend",
        "friend",
        "nephew",
        "niece",
        "brother",
        "sister",
        "family",
        "boss",
        "colleague",
        "roommate",
        "neighbour",
        "neighbor",
        "dog",
        "cat",
        "final",
        "exam",
        "party",
        "birthday",
        "wedding",
        "anniversary",
        "trip",
        "flight",
        "commute",
        "holiday",
        "vacation",
        "date",
    ]
)
# When or where the person will use it, said without "for": "parents night in", "gym".
_OCCASION = frozenset(
    ["night", "evening", "morning", "weekend", "sleepover", "christmas", "gift", "present",
     "gym", "school", "work", "office", "class", "dorm", "kitchen", "bedroom", "travel",
     "camping", "hiking", "running", "commute"]
)  # fmt: skip
_NEEDED = frozenset({"required", "needed", "necessary", "includes", "included", "requires"})
# "not a bose", "not sci-fi", "isn't a drama"; "not just/only a drama" says more, not less.
_DENIED = re.compile(
    r"\b(?:not|isn't|isn’t|never|no|without)\s+(?!just\b|only\b|merely\b|simply\b|your\b)"
    r"(?:a |an |the )?([a-z][a-z'-]*(?: [a-z][a-z'-]*){0,2})"
)
_LIKENESS = {"clone", "knockoff", "knock-off", "copy", "lookalike", "imitation", "rival"}
_SEPARATELY = re.compile(r"\b(?:sold|sells?|bought|purchased) separately\b")
_SOLD_OF = re.compile(
    r"([a-z0-9][\w\s/&-]{2,60}?),?\s+(?:is |are )?(?:sold separately|not included)"
)
_AMOUNT = re.compile(r"\$\s?(\d(?:[\d,]*\d)?(?:\.\d+)?)")
_STATED = re.compile(r"\bthe \$(\d(?:[\d,]*\d)?(?:\.\d+)?) (?:budget|asked for)")
# A verdict on the item no fact gives: "a night to watch", "one to remember".
_VERDICT = re.compile(
    r"\b(?:a|one)\s+(?:\w+\s+)?(?:to|worth)\s+(?:watch|see|remember|own|treasure)\b"
)
_NUMBER = r"(?P<n>\$?\d(?:[\d,]*\d)?(?:\.\d+)?)"
# A number said as a rating: "rated 4.1", "4.1★", "4.1 out of 5", "average of 4.1", "4.1 on
# average", "a 4.1 rating".
_RATINGS = [
    re.compile(rf"\brated (?:it |this |them )?(?:a |an |at )?{_NUMBER}(?!\s*(?:of|people|fans))"),
    re.compile(rf"{_NUMBER}\s*(?:★|stars?\b|out of (?:5|five)\b|/5\b)"),
    re.compile(rf"\b(?:averag(?:e|es|ed|ing)|avg)(?: rating)?(?: of| at)? {_NUMBER}"),
    re.compile(rf"{_NUMBER} (?:on average|average|avg)\b"),
    re.compile(rf"\ban? {_NUMBER}(?:★| stars?)? rating\b"),
    re.compile(rf"\brating of {_NUMBER}"),
]
# After a rating: whose it is ("by 62 of the 63 people who loved X": the fans').
_BY_FANS = re.compile(r"^[^.;]{0,30}?\b(?:by|from|among) (?:the )?\d[\d,]* (?:of|people who|fans)")
_OWN_AFTER = re.compile(
    r"^[^.;]{0,25}?\b(?:from|of|across|over) \d[\d,]* (?:ratings|reviews)|^\s*overall"
)
_RESET = re.compile(r"(?:, and |; |, while |, but )(?:it|this|overall)\b|\boverall\b")
_COUNT = re.compile(
    r"\b(?P<n>\d[\d,]*) (?P<w>ratings|reviews|votes|people|viewers|raters)\b(?! who)"
)
_BUDGET_AMOUNT = re.compile(
    r"\byour (?:\w+ )?\$(?P<a>[\d,.]*\d)|\$(?P<b>[\d,.]*\d) budget|\bbudget of \$(?P<c>[\d,.]*\d)"
    r"|\b(?:under|below|less than|within|at most|up to|no more than) \$(?P<d>[\d,.]*\d)"
)
_WITHIN = re.compile(r"\b(?:within|under|fits|inside|in) (?:your|the) budget\b")
_OFF = re.compile(
    r"\$(?P<n>[\d,.]*\d) (?:off|discount|saving|savings|cheaper)\b|\bsave \$(?P<m>[\d,.]*\d)"
)
_PRICE_AS_RATING = re.compile(r"\brat(?:ed|ing)(?: of| at)? \$|\$[\d,.]*\d\s*(?:★|stars?\b|out of)")
# A count said as a price: "it costs 1,302 ratings".
_COUNT_AS_PRICE = re.compile(
    r"\b(?:costs?|priced at|sells for)\s+(?:just |only )?\d[\d,.]*\s+"
    r"(?:ratings|reviews|votes|people)\b"
)
# A thing the item is said to have: "with a camera", "adds a camera", "includes 2 games".
_HAS = re.compile(
    r"\b(?:with|has|have|adds|add|includes|including|featuring|features|plus|comes with|"
    r"boasts|offers|packs)\s+(?!your\b|you\b|no\b|nothing\b|not\b)(?P<what>(?:(?!\b(?:to|that|"
    r"which|for|so|but|if|though|while|as|than|rather|instead|into|plus|not|no)\b)[^,.;:!?()])+)"
)
# A thing the item is said to be: "is a mini speaker", "it's a night to watch".
_IS = re.compile(
    r"\b(?:is|it's|it is|this is|that's)\s+(?:a|an)\s+(?P<what>(?:(?!\b(?:to|that|which|for|so|"
    r"but|if|though|while|as|than|rather|instead|into|plus|not|no|with)\b)[^,.;:!?()])+)"
)
# What the item is said to be for: "for office work", "for art students", "for cooking".
_FOR = re.compile(
    r"\bfor (?:a |an |the |your |any |all |those |some |his |her |their )?"
    r"(?P<what>[a-z][a-z'’-]*(?: (?!(?:and|or|with|but|at|from|in|on|to|that|who|which|"
    r"as|than|it|its|this|is|are|was|of)\b)[a-z][a-z'’-]*){0,2})"
)
# "for a first taste", "for two", "for little money", "for beginners": for nobody in particular.
_FOR_ANYONE = frozenset(
    ["taste", "first", "step", "start", "two", "money", "beginner", "everyone", "anyone", "age"]
)
_FOR_KIDS = frozenset(["kid", "child", "children", "young", "younger", "little", "family"])
# How a liked title is said to relate to the pick: "people who loved Alien", "Alien fans",
# "like Alien", "if you enjoyed Alien"; "Sci-Fi with a Clockwork Orange" says nothing.
_RELATION = re.compile(
    r"\b(?:lik(?:e|ed|es|ing)|lov(?:e|ed|es|ing|ers?)|enjoy(?:ed|s)?|ador(?:e|ed)|fans?|people|"
    r"viewers|who|as|than|same|similar|after|since|if|favou?rites?|kin|"
    r"spirit|vein|mood|fellow|companion|pair|next to|beside|alongside)\b"
)
# A processor's name: "13th Gen Core i5-13400", "Ryzen 7 7730U", "M3 chip".
_CPU = re.compile(r"\b(?:\d+(?:th|st|nd|rd) gen\b|core i\d|ryzen \d|m\d (?:pro |max )?chip)")
# Parts an item has, never what it is: "the Mac mini is a 8-core M2 chip" is garbled.
_PARTS = frozenset(["chip", "processor", "cpu", "gpu", "ssd", "hdd", "ram", "memory"])
# Words that end no finished sentence.
_DANGLING = words("a an the and or but with of by from at its their your than")
# How an explanation talks about any item: never a feature claim.
_FRAME = words(
    "fit fits fitting pick picks choice option item product film movie films movies title "
    "release released rated rating ratings review reviews average averages averaging people "
    "fans fan loved love liked enjoyed rated price priced cost costs budget asked request "
    "requested wanted want wish match matches year years out five star stars too also more "
    "one ones right just good great nice solid fine top high well value deal tag"
)


@dataclass(frozen=True)
class Vocabulary:
    """The words a catalog names its items by: stems found in the titles of at least
    ``min_items`` items that have a description ("camera", "controller", "drone"). These
    are the kinds, parts and specs a text could claim of an item; a claim in one of them
    must be in the item's own listing. A title with no description beside it (a film's) is
    a name, not a description: it adds no word.

    ``measured``: for each unit a listing puts after a number ("inch", "w"), the words the
    catalog says of a number in that unit ("inch": display, screen, panel). An item whose
    listing has a number in that unit may be said to have any of them: a 65" TV has a
    screen, whether its listing says "display" or not.
    """

    words: frozenset[str]
    measured: dict[str, frozenset[str]]

    @classmethod
    def of(cls, items: Iterable[Item], min_items: int = 3) -> Vocabulary:
        seen: Counter[str] = Counter()
        said: dict[str, Counter[str]] = {}
        for it in items:
            if not (it.text or it.attributes.get("features")):
                continue
            seen.update({_stem(w) for w in _words(it.title) if w not in STOP_WORDS})
            runs = _runs(tokens(_listing(it)))
            pairs = {(after[0], _stem(w)) for _, _, after in runs if after for w in after[1:]}
            for unit, w in pairs:
                said.setdefault(unit, Counter())[w] += 1
        kinds = frozenset(w for w, n in seen.items() if n >= min_items and len(w) > 2)
        measured = {
            u: frozenset(w for w, n in c.items() if n >= min_items and w in kinds)
            for u, c in said.items()
        }
        return cls(kinds, measured)

    def said_of(self, listing: list[str]) -> set[str]:
        """The words said of the numbers in the units ``listing`` measures in."""
        units = {after[0] for _, _, after in _runs(listing) if after}
        return {w for u in units for w in self.measured.get(u, ())}


def _listing(item: Item) -> str:
    """The item's own words: title, text, features, price and rating (not its categories:
    an aisle's name is not a feature of the item in it)."""
    features = " ".join(str(f) for f in item.attributes.get("features") or [])
    facts = facts_text(item.model_copy(update={"categories": ()}), max_features=0)
    return " . ".join([item.title, item.text, features, facts])


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'’]*[a-z]|[a-z]", _INCH.sub(r"\1 inch ", text.lower()))


def _stem(word: str) -> str:
    w = fold(word.removesuffix("'s").removesuffix("’s"))
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "xes", "sses")):
        return w[:-2]
    return singular(w)


def _known(word: str, stems: set[str]) -> bool:
    """Whether ``word`` (a stem) is among ``stems``, begins one ("play" of "playtime") or
    shares its first 5 letters with one ("animated" of "Animation")."""
    if word in stems:
        return True
    if len(word) >= 4 and any(s.startswith(word) for s in stems if len(s) >= len(word)):
        return True
    return len(word) >= 5 and any(len(s) >= 5 and s[:5] == word[:5] for s in stems)


def tokens(text: str) -> list[str]:
    """Lower-case tokens with inch marks as "inch" (``_TOKEN``): '58" TV' -> 58, inch, tv."""
    return _TOKEN.findall(_INCH.sub(r"\1 inch ", text.lower()))


def _amount_keys(x: float | None) -> set[str]:
    return {number_key(f"{x:.2f}")} if isinstance(x, int | float) else set()


def _rating_keys(r: float) -> set[str]:
    return {number_key(f"{r:g}"), number_key(f"{r:.1f}"), number_key(f"{r:.2f}")}


@dataclass(frozen=True)
class Claims:
    """What may be said of one item, gathered once; ``problems(text)`` checks a text."""

    item: Item
    pulls: tuple[Pull, ...] = ()
    evidence_text: str = ""
    request: str = ""
    titles: tuple[str, ...] = ()  # other titles the text may name: the liked ones
    budgets: frozenset[str] = frozenset()  # amounts the person stated (``number_key``)
    budget_max: float | None = None
    vocabulary: Vocabulary | None = None

    @classmethod
    def of(
        cls,
        item: Item,
        evidence: Evidence | None = None,
        request: str = "",
        history: Sequence[str] = (),
        constraints: Constraints | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> Claims:
        lines = " ".join(evidence.lines()) if evidence is not None else ""
        pulls = evidence.pulls if evidence is not None else ()
        stated = _STATED.findall(lines)  # "within the $400 budget": the person's, not a price
        budgets = {number_key(m) for m in [*_AMOUNT.findall(request), *stated]}
        top = None
        if constraints is not None:
            budgets |= _amount_keys(constraints.price_max) | _amount_keys(constraints.price_min)
            top = constraints.price_max
        titles = tuple(dict.fromkeys([*(p.title for p in pulls), *history]))
        return cls(item, tuple(pulls), lines, request, titles, frozenset(budgets), top, vocabulary)

    def problems(self, text: str) -> list[str]:
        """Every claim of ``text`` that does not hold (see the module's doc)."""
        low, marks = self._masked(text)
        out = self._titles_as_pick(low, marks)
        out += self._ratings(low)
        out += self._people(low)
        out += self._years(low)
        out += self._prices(low)
        out += self._cut_short(low)
        out += self._numbers_with_words(low)
        out += self._features(low)
        out += self._about_the_person(low)
        out += self._separately(low)
        out += self._denies_itself(low)
        out += self._purpose(low)
        out += self._is_a_part(low)
        return list(dict.fromkeys(out))

    # -- what the facts never say ------------------------------------------------------------

    def _about_the_person(self, low: str) -> list[str]:
        """The person as the request and history say them: "your daughter's" only when the
        request names a daughter; "the person who wanted…" or "after your finals" never."""
        asked = re.sub(r"['’]s\b", "", f"{self.request} {' '.join(self.titles)}")
        said = {singular(w) for w in _words(asked)}
        out = [f"speaks of the person: {m.group(0)!r}" for m in _THE_PERSON.finditer(low)]
        out += [
            f"speaks of ratings the person gave: {m.group(0)!r}" for m in _YOU_RATED.finditer(low)
        ]
        out += [f"calls the raters owners or buyers: {m.group(0)!r}" for m in _OWNERS.finditer(low)]
        if said & _PERSONAL or _AGE.search(asked):
            return out  # they spoke of someone or some occasion: the text may too
        for m in _YOUR.finditer(low):
            if singular(m.group(1)) in _PERSONAL:
                out.append(f"speaks of the person's {m.group(1)}, which they did not mention")
        return out

    def _denies_itself(self, low: str) -> list[str]:
        """A contrast that denies the item what it is: "not a Bose" of a Bose soundbar, "not
        sci-fi" of a Sci-Fi film ("not just a drama" says more; "not a Bose clone" is true)."""
        title = _words(self.item.title)
        brand = [w for w in title[:1] if len(w) > 2 and w not in ("the", "and")]
        own = {*brand, *(c.lower() for c in self.item.categories if " " not in c)}
        own |= {_stem(w) for w in own}
        # A product is also what its title calls it ("not a watch" of an Apple Watch); "not
        # the console you named" speaks of another one, and "not included" of no kind.
        named = own | ({_stem(w) for w in title if len(w) > 3} - _FRAME - _NEEDED)
        named |= {_stem(w) for w in re.findall(r"[a-z]+(?:-[a-z]+)+", self.item.title.lower())}
        product = self.item.price is not None
        out = []
        for m in _DENIED.finditer(low):
            first, *rest = m.group(1).split()
            if first in ("pair", "kind", "type", "sort") and rest[:1] == ["of"]:
                first, rest = (rest[1], rest[2:]) if len(rest) > 1 else (first, [])
            kinds = named if product and " the " not in m[0] else own
            if _stem(first) in kinds and not (rest and rest[0] in _LIKENESS):
                out.append(f"denies the item what it is: {m.group(0)!r}")
        return out

    def _purpose(self, low: str) -> list[str]:
        """What the item is for ("for office work", "for cooking", "for art students") when
        the person said no purpose: at least one of its words in the request, the listing,
        the evidence or a title. A person who said one ("a soundbar for movie nights", "my
        kids", "a 6th grade sleepover") may read it back in other words ("for a night")."""
        body = _unmarked(low)
        if not _FOR.search(body) or _FOR.search(self.request.lower()):
            return []
        asked = _words(self.request.replace("'s", "").replace("’s", ""))
        if ({singular(w) for w in asked} | {w.removesuffix("s") for w in asked}) & (
            _PERSONAL | _OCCASION
        ):
            return []
        stated = " ".join(
            [self.request, _listing(self.item), self.evidence_text, *self.titles,
             *self.item.categories]
        )  # fmt: skip
        known = {_stem(w) for w in _words(stated)} | _FOR_ANYONE
        if {"children's", "animation"} & {c.lower() for c in self.item.categories}:
            known |= _FOR_KIDS  # a children's film is for kids; the genre says so
        out = []
        for m in _FOR.finditer(body):
            words_ = [w for w in _words(m.group("what")) if w not in STOP_WORDS]
            if words_ and not any(_stem(w) in _FRAME or _known(_stem(w), known) for w in words_):
                out.append(f"says what it is for, which nothing states: {m.group(0)!r}")
        return out

    def _is_a_part(self, low: str) -> list[str]:
        """The item said to BE one of its parts ("the Mac mini is a 256GB SSD"): only an item
        in that aisle is one ("Hard Drives, SSD & Storage")."""
        own = {_stem(w) for w in _words(" ".join(self.item.categories))}
        out = []
        for m in _IS.finditer(_unmarked(low)):
            what = m.group("what")
            head = _words(what)
            if _CPU.search(what) and "processor" not in own:
                out.append(f"says the item is its processor: {m.group(0)!r}")
            elif head and head[-1] in _PARTS and _stem(head[-1]) not in own:
                out.append(f"says the item is a {head[-1]}, a part it has: {m.group(0)!r}")
        return out

    def _separately(self, low: str) -> list[str]:
        """ "Sold separately" belongs to what the listing says it of ("Base Station Required,
        Sold Separately"): its words must come with it."""
        if not _SEPARATELY.search(low):
            return []
        listing = _listing(self.item).lower()
        parts = [m.group(1) for m in _SOLD_OF.finditer(listing)]
        if not parts:
            return ["says something is sold separately; the listing does not"]
        said = set(_words(low))
        own = set(_words(self.item.title))  # the part's own words, not the item's
        need = [set(_words(p)) - STOP_WORDS - _NEEDED - own or set(_words(p)) for p in parts]
        if not any(len(n & said) >= min(2, len(n)) for n in need):
            return [f"says what is sold separately wrongly (the listing: {parts[0]!r})"]
        return []

    def _masked(self, text: str) -> tuple[str, list[int]]:
        """``text`` in lower case with the item's title as ⟪0⟫ and each liked title as ⟪i⟫
        (``titles[i - 1]``), with and without its year; the marks put in."""
        out = text
        found: list[int] = []
        for i, t in enumerate([self.item.title, *self.titles]):
            for form in dict.fromkeys([t, re.sub(r"\s*\(\d{4}\)$", "", t)]):
                if len(form) > 2 and form in out:
                    out = out.replace(form, _MARK.format(i))
                    found.append(i)
        return out.lower(), found

    def _stems(self, categories: bool) -> set[str]:
        """Stems of the item's listing and evidence (and its categories when asked: what it
        is may be said in its aisle's words, what it has may not)."""
        text = _listing(self.item) + " " + self.evidence_text
        if categories:
            text += " " + " ".join(self.item.categories)
        return {_stem(w) for w in _words(text)}

    # -- roles ------------------------------------------------------------------------------

    def _titles_as_pick(self, low: str, marks: list[int]) -> list[str]:
        """A liked title made the subject: "From Dusk Till Dawn (1996) is a crime drama"."""
        out = []
        for i in (i for i in marks if i):
            for m in re.finditer(re.escape(_MARK.format(i)) + r"\s+(?:is|was|'s|’s)\s", low):
                before = low[max(0, m.start() - 30) : m.start()]
                if not re.search(
                    r"\b(?:like|than|as|if|since|who|which|loved|enjoyed)\W*$", before
                ):
                    out.append(f"speaks of {self.titles[i - 1]} as if it were the pick")
            for m in re.finditer(re.escape(_MARK.format(i)), low):
                near = low[max(0, m.start() - 45) : m.end() + 30]
                if not _RELATION.search(near.replace(m.group(0), " ")):
                    out.append(f"names {self.titles[i - 1]} without saying how it relates")
        return out

    def _named_pulls(self, sentence: str) -> list[Pull]:
        named = [p for i, p in enumerate(self.pulls, 1) if _MARK.format(i) in sentence]
        return named or list(self.pulls)

    def _ratings(self, low: str) -> list[str]:
        """Each rating said is the item's own, or the fans' when said of them."""
        out = []
        own = _rating_keys(self.item.rating) if self.item.rating is not None else set()
        for s in _sentences(low):
            fan = [m.start() for rx in (_PAIR, _OF_THE, _FAN) for m in rx.finditer(s)]
            for start, end, n in _rating_mentions(s):
                if n.startswith("$"):
                    continue  # a price called a rating: ``_prices``
                if float(n.replace(",", "")) > 5:
                    # "rated at 399.99." is a price read as a rating; "rated this 1974 crime
                    # drama" and "96 Star Trek fans" say no rating at all
                    if not re.match(r"\s*[a-z]", s[start + len(n) :]):
                        out.append(f"gives {n} as a rating; ratings are out of 5")
                    continue
                after, before = s[end:], s[:start]
                fans = bool(_BY_FANS.search(after))
                if not fans and fan and not _OWN_AFTER.search(after):
                    last = max((f for f in fan if f < start), default=-1)
                    fans = last >= 0 and not _RESET.search(before[last:])
                key = number_key(n)
                if fans:
                    means = {number_key(f"{p.mean:.1f}") for p in self._named_pulls(s)}
                    if key not in means:
                        said = " or ".join(sorted(means)) or "nothing of the people"
                        out.append(f"gives {n} as the fans' average; the evidence says {said}")
                elif key not in own:
                    said = f"it is rated {self.item.rating:g}" if own else "it has no rating"
                    out.append(f"gives {n} as its rating; {said}")
        return out

    def _people(self, low: str) -> list[str]:
        """Counts of people: the evidence's for the fans, the item's for its ratings."""
        out = []
        count = self.item.review_count
        for s in _sentences(low):
            used: set[int] = set()
            for rx in (_PAIR, _OF_THE):
                for m in rx.finditer(s):
                    if m.group("fans") == "5":
                        continue  # "4 out of 5"
                    used |= {m.start("also"), m.start("fans")}
                    also, fans = (int(m.group(g).replace(",", "")) for g in ("also", "fans"))
                    pulls = self._named_pulls(s)
                    if not any(p.also == also and p.fans == fans for p in pulls):
                        want = "; ".join(f"{p.also:,} of {p.fans:,}" for p in pulls) or "none"
                        out.append(f"says {also:,} of {fans:,} people; the evidence says {want}")
            for m in _RATERS.finditer(s):
                n = int(m.group("n").replace(",", ""))
                pulls = self._named_pulls(s) or list(self.pulls)
                of_the = re.search(r"\bof (?:the |its |their |those |all )?$", s[: m.start("n")])
                if m.start("n") not in used and not of_the and not any(p.also == n for p in pulls):
                    want = "; ".join(f"{p.also:,} of {p.fans:,}" for p in pulls) or "none"
                    out.append(f"says {n:,} fans rated it; the evidence says {want}")
                used.add(m.start("n"))
            fan_talk = bool(_FAN.search(s))
            for m in _COUNT.finditer(s):
                if m.start("n") in used:
                    continue
                n, word = int(m.group("n").replace(",", "")), m.group("w")
                ok = {p.fans for p in self.pulls} | {p.also for p in self.pulls}
                if fan_talk and word in ("people", "viewers") and n in ok:
                    continue
                if count is not None and n != count and n not in _numbers(self.item.title):
                    out.append(f"says {n:,} {word}; it has {count:,} ratings")
        return out

    def _years(self, low: str) -> list[str]:
        """A year said (not a decade, not one of the request's) is the item's own: "a 1993
        comedy" of a 1994 film is another film's year. A liked title's year may be said of
        that film ("the 1977 film you named")."""
        if self.item.year is None:
            return []
        asked = set(re.findall(r"\b(?:1[89]|20)\d\d\b", self.request)) | {str(self.item.year)}
        liked = set(re.findall(r"\((\d{4})\)", " ".join(self.titles)))
        out = []
        for m in re.finditer(r"(\w+ )?\b((?:1[89]|20)\d\d)(?!s\b|['’]s\b|\d)", low):
            y = m.group(2)
            if y not in asked and not (y in liked and m.group(1) == "the "):
                out.append(f"gives {y} as its year; it came out in {self.item.year}")
        return out

    def _prices(self, low: str) -> list[str]:
        """A price is the item's price (or an amount of its listing); a discount its
        discount; a budget one the person stated, with the price within it."""
        out = []
        if _PRICE_AS_RATING.search(low):
            out.append("calls a price a rating")
        if _COUNT_AS_PRICE.search(low):
            out.append("calls a count of ratings a price")
        item = self.item
        top = item.price_max or item.price or 0.0
        prices = _amount_keys(item.price) | _amount_keys(item.price_max)
        discount = _amount_keys(item.attributes.get("discount_amount"))
        listed = {number_key(n) for n in _AMOUNT.findall(_listing(item))}
        spans: list[tuple[int, int]] = []
        for m in _BUDGET_AMOUNT.finditer(low):
            a = next(g for g in m.groups() if g)
            spans.append(m.span())
            if number_key(a) not in self.budgets:
                stated = ", ".join(f"${b}" for b in sorted(self.budgets)) or "none"
                out.append(f"gives ${a} as the budget; the person stated {stated}")
            elif top > float(number_key(a)):
                out.append(f"says it is within ${a}; it costs {price_text(item)}")
        if re.search(r"\bbudget\b", low) and not self.budgets:
            out.append("states a budget the person did not")
        elif _WITHIN.search(low) and self.budget_max is not None and top > self.budget_max:
            out.append(f"says it is within the budget; it costs {price_text(item)}")
        offs = {number_key(m.group("n") or m.group("m")) for m in _OFF.finditer(low)}
        out += [f"gives ${n} as its discount" for n in sorted(offs - discount - listed)]
        for m in _AMOUNT.finditer(low):
            key = number_key(m.group(1))
            if any(a <= m.start() < b for a, b in spans) or key in offs | prices | listed:
                continue
            if key in discount:
                out.append(f"gives its discount ${m.group(1)} as its price")
        said = Counter(number_key(a) for a in _AMOUNT.findall(low))
        out += [f"says ${a} twice" for a, n in said.items() if n > 1][:1]
        return out

    # -- cut short ------------------------------------------------------------------------

    def _cut_short(self, low: str) -> list[str]:
        """A sentence that ends on a bare whole number (a rating cut before its decimals,
        "rated 4." of 4.8, or that lost its star, "3." of 3.0★; a year or a number of the
        listing may end one) or on a function word; a text that stops inside a phrase of
        the listing ("5,800 sq." of "5,800 Sq.Ft")."""
        out = []
        listing = f" {' '.join(tokens(_listing(self.item)))} "
        year = str(self.item.year) if self.item.year is not None else ""
        for s in _sentences(low):
            body = s.rstrip(" .!?;")
            toks = tokens(body)
            if not toks:
                continue
            last = toks[-1]
            if _NUM.match(last) and "." not in last and not re.search(r"\$\s?[\d,.]*$", body):
                tail = " ".join(toks[-3:])
                # "61 of 212" is a pair; "rated 4.36 out of 5 of 219" is a count cut short
                pair = bool(re.search(r"(?<!out of )\b[\d,.]+ of (?:the |its )?[\d,]+$", body))
                named = f" {' '.join(toks[-2:])} " in listing
                if last != year and not body.endswith("out of 5") and not pair and not named:
                    out.append(f"ends on a bare number: {tail!r}")
            elif last in _DANGLING:
                out.append(f"ends on {last!r}: cut short")
        end = re.search(r"\b([a-z]{1,4})\.\s*$", low)
        if end and re.search(rf"\b{end[1]}\.[a-z]", _listing(self.item).lower()):
            out.append(f"stops inside a phrase of the listing: {end[1]!r}")
        return out

    # -- features -------------------------------------------------------------------------

    def _numbers_with_words(self, low: str) -> list[str]:
        """A number said with a noun is said with it in the listing ("2 games", "3-drone",
        "a 20-100W peak"); a model code is the listing's or the person's own ("Q400")."""
        listing = tokens(_listing(self.item))
        person = tokens(f"{self.request} {self.evidence_text}")
        codes = {p for t in listing + person if _CODE.match(t) for p in (t, *t.split("-"))}
        said = tokens(_unmarked(low))
        out = [
            f"names a model the listing does not: {t.upper()}"
            for t in dict.fromkeys(said)
            if _CODE.match(t) and not set(t.split("-")) <= codes and t.replace("-", "") not in codes
        ]
        skip = self._role_numbers() | {number_key(t) for t in person if _NUM.match(t)}
        near = _near(listing)
        for i, t in enumerate(said):
            key = number_key(t) if _NUM.match(t) else ""
            if not key or key in skip or key not in near or (i and said[i - 1] == "$"):
                continue
            if {"x", "/"} & {said[i - 1] if i else "", said[i + 1] if i + 1 < len(said) else ""}:
                continue  # a resolution or a fraction: "2560 x 1440", "24/7"
            if i and any(w == said[i - 1] and d == -1 for w, d in near[key]):
                continue  # said in its name: "RTX 2050", "Mini 3"
            after = _after(said, i)
            if not after:
                continue
            if i + 1 < len(said) and said[i + 1] == "-" and not _counts(listing, key, after[0]):
                out.append(f"says {t}-{after[0]}, which the listing does not")
            elif not any(_same(a, w) for a in after for w, d in near[key] if d > 0):
                out.append(f"says {t} {after[0]}, which the listing does not")
            else:
                out += _other_number(t, key, after, near)
        return out

    def _role_numbers(self) -> set[str]:
        """Numbers whose roles ``_ratings``, ``_people`` and ``_prices`` check."""
        it = self.item
        out = {"5", *_amount_keys(it.price), *_amount_keys(it.price_max)}
        out |= _amount_keys(it.attributes.get("discount_amount"))
        if it.year is not None:
            out.add(str(it.year))
        if it.rating is not None:
            out |= _rating_keys(it.rating)
        if it.review_count is not None:
            out.add(str(it.review_count))
        for p in self.pulls:
            out |= {str(p.fans), str(p.also), number_key(f"{p.mean:.1f}")}
        return out

    def _features(self, low: str) -> list[str]:
        """What the item is said to have or to be: in its listing when the word is one the
        catalog names items by (``Vocabulary``), and never the person's wish said as the
        item's ("a thriller with crime and paranoia" of a Crime Thriller asked "with
        paranoia")."""
        person = {_stem(w) for w in _words(self.request)}
        own = {_stem(c) for c in _words(" ".join(self.item.categories))}
        has, kinds = self._stems(categories=False), self._stems(categories=True)
        vocab = self.vocabulary or Vocabulary(frozenset(), {})
        measured = vocab.said_of(tokens(_listing(self.item)))
        body = _unmarked(low)
        out = []
        if _VERDICT.search(body):
            out.append(f"gives a verdict the facts do not: {_VERDICT.search(body)[0]!r}")
        for rx, allowed, verb in ((_HAS, has | measured, "has"), (_IS, kinds | measured, "is")):
            for m in rx.finditer(body):
                said = [w for w in _words(m.group("what"))[:4] if w not in STOP_WORDS]
                listed = own & {_stem(w) for w in said}  # beside its own genre: "crime and X"
                for w in said:
                    s = _stem(w)
                    if s in _FRAME or _known(s, allowed):
                        continue
                    wish = listed and not _known(s, kinds) and s not in vocab.words
                    if s in person and verb == "has" and wish:
                        out.append(f"gives the wish {w!r} as a fact of the item")
                    elif s in vocab.words and s not in person:
                        out.append(f"says it {verb} {w!r}, which its listing does not")
        return out


def _unmarked(low: str) -> str:
    """``low`` with each masked title (``Claims._masked``) as a break: a title's words are
    never a claim about the item."""
    return _MARKED.sub(" , ", low)


def _sentences(low: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+", low) if s.strip()]


def _numbers(text: str) -> set[int]:
    return {int(float(number_key(n))) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def _rating_mentions(s: str) -> list[tuple[int, int, str]]:
    """(start, end, number) of each number said as a rating in sentence ``s``; the end is
    the rating phrase's ("4.1 out of 5|")."""
    found: dict[int, tuple[int, int, str]] = {}
    for rx in _RATINGS:
        for m in rx.finditer(s):
            if not re.search(r"\bout of\s*$", s[: m.start("n")]):
                found.setdefault(m.start("n"), (m.start("n"), m.end(), m.group("n")))
    return sorted(found.values())


def _after(said: list[str], i: int) -> list[str]:
    """Up to three words right after the number at ``i`` (a hyphen skipped), to the next
    mark, number or function word."""
    out = []
    for t in said[i + 1 : i + 6]:
        if t in ("-", "+"):
            continue
        if not re.match(r"^[a-z]", t) or t in STOP_WORDS:
            break
        out.append(t)
    return out[:4]


def _runs(listing: list[str]) -> list[tuple[str, str, list[str]]]:
    """Each number of the listing (``number_key``) with the word right before it ('' when
    none) and the words after it (``_after``)."""
    out = []
    for i, t in enumerate(listing):
        if _NUM.match(t):
            prev = listing[i - 1] if i and re.match(r"^[a-z]", listing[i - 1]) else ""
            out.append((number_key(t), prev, _after(listing, i)))
    return out


def _near(listing: list[str]) -> dict[str, list[tuple[str, int]]]:
    """For each number of the listing, the words around it as (word, distance): the one
    right before at -1, those after at 1, 2, ... (``_runs``)."""
    out: dict[str, list[tuple[str, int]]] = {}
    for key, prev, after in _runs(listing):
        ws = out.setdefault(key, [])
        ws += [(prev, -1)] if prev else []
        ws += [(w, d) for d, w in enumerate(after, 1)]
    return out


def _counts(listing: list[str], key: str, word: str) -> bool:
    """Whether the listing says "N-word" or "N word" of ``word`` as a count or a size
    ("12-count", "6 Cameras"), not inside a name ("Mini 3 Drone": a capitalised word
    before the number)."""
    for i, t in enumerate(listing[:-1]):
        if not (_NUM.match(t) and number_key(t) == key):
            continue
        hyphen = listing[i + 1] == "-"
        nxt = listing[i + 2] if hyphen and i + 2 < len(listing) else listing[i + 1]
        if not _same(word, nxt):
            continue
        prev = listing[i - 1] if i else ""
        unit = i > 1 and bool(_NUM.match(listing[i - 2]))  # "800 Lumens 60 Watts"
        name = bool(re.match(r"^[a-z]+$", prev)) and prev not in STOP_WORDS and not unit
        if hyphen or not name:
            return True
    return False


def _other_number(t: str, key: str, after: list[str], near: dict[str, list]) -> list[str]:
    """A word said of ``t`` with its unit that the listing says of another number with the
    same unit: "a 20-100W peak" of "20-100 Watts ... Peak 160W"."""
    unit, out = after[0], []
    for w in after[1:]:
        if any(_same(w, x) for x, _ in near[key]):
            continue
        for k, ws in near.items():
            same_unit = any(_same(unit, x) for x, d in ws if d == 1)
            if k != key and same_unit and any(_same(w, x) for x, _ in ws):
                out.append(f"says {w} of {t}{unit}; the listing says it of {k}")
                break
    return out


def _same(said: str, listed: str) -> bool:
    """One word as said and as listed: "speakers" / "speaker", "w" / "watts", "watt" / "w"."""
    a, b = _stem(said), _stem(listed)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) <= 3 < len(long) and long.startswith(short):
        return True
    return len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5]
