"""What a message says outright, checked against the act a model proposes (issue 17).

A 22M or 135M model guesses; some of what a message says is no guess, and the rules read it
more reliably. These validators run on every parser's proposal (``normalise.finish_act``)
before the act is checked against the catalog:

- ``categories``: a category the catalog's lexicon names in the message is a fact. Negated
  ("no romance", "hate horror", "skip the animated ones") it is excluded and never wanted;
  named plainly ("horror + thrillers") it is never excluded. A negated mood word ("nothing
  scary") excludes the categories the catalog card hints for it (``[moods]``).
- ``judged``: a title the model tagged as liked, in a clause that speaks against it ("hated
  the shining", "twister is sooo cheesy"), is disliked, and the other way round.
- ``pointed``: a judged title that is on the list shown is also what the turn points at
  (``refs``, as said: "Clerks is hilarious" -> "Clerks").
- ``relative``: "cheaper", "less pricey", "more high-end" set the price direction (the
  vocabulary's ``cheaper`` / ``pricier`` lists), unless an amount follows ("cheaper than
  $300" is a budget, read by ``numbers.price``).
- ``superlative``: a comparison whose word names its measure ("brightest", "lightest",
  "quietest") is that measure and direction (``data/understanding/superlatives.json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from chatrec.text import STOP_WORDS, folded, has_run
from chatrec.understand import wordlists
from chatrec.understand.references import says_reference
from chatrec.understand.spans import find_title, names_shown

if TYPE_CHECKING:
    from chatrec.constraints import Lexicon
    from chatrec.datasets import CatalogInfo
    from chatrec.understand.context import DialogueContext

REQUESTS = ("recommend", "refine", "onboarding")
KIDS_OK = ("Children's", "Animation")  # what an audience of kids means
_REFUSED_AFTER = re.compile(
    r"(?:\s+(?:films?|movies?|ones?|stuff))?\s*[:?,-]?\s*(?:no|nope|nah|never|no way|no thanks"
    r"|not for (?:me|us)|please no|is out|are out|away(?: from (?:me|us))?"
    # "horror is a hard no for me", "westerns bore me", "thrillers are too stressful for me"
    r"|(?:is|are) (?:a )?(?:hard |big |firm |definite )?no"
    r"|(?:is|are) (?:an? )?(?:hard |total |absolute )?deal[- ]?breakers?"
    r"|(?:bores?|scares?|stress(?:es)?|depress(?:es)?|annoys?) (?:me|us)(?: out)?"
    r"|(?:is|are) (?:way |far |just |a bit |really |much )?too (?:stressful|boring|scary|dark"
    r"|depressing|intense|violent|slow|sad|much|heavy|bleak|gory)"
    r"|(?:is|are) (?:so |really |just )?(?:boring|overrated|off the table|off limits)"
    r"|(?:is|are)(?:n['’]?t| not) (?:really )?(?:my|our) (?:thing|cup of tea|jam|style|scene)"
    r"|(?:puts?|turns?) (?:me|us) off|gives? (?:me|us) nightmares"
    r"|(?:do|does)(?:n['’]?t| not) (?:do it|work) for (?:me|us))"
    r"(?:\s+(?:for|to) (?:me|us))?(?:\s+(?:anymore|any more|honestly|tbh|lol))?"
    r"\s*(?:[,.;!?]|$)"
)
# "anything but Titanic" is one clause: its "but" is the refusal, not a turn.
_CLAUSE = re.compile(
    r"[,.;!?]+|(?<!anything)(?<!everything)\s(?:but|though|tho|although|whereas)\s|\s-\s"
)
# "seen psycho already", "I already own the sonos": turned down as a pick, not judged.
_SEEN = re.compile(
    r"\b(?:seen|watched|already|own|owned|have one|got one|have it|got it|have that)\b"
)
_NEGATED_MOOD = re.compile(
    r"\b(?:not|nothing|no|zero|without|never|less)\s+(?:too\s+|very\s+|so\s+|that\s+|overly\s+)?"
    r"([a-z][a-z'-]+(?:\s[a-z]+)?)"
)


def check(
    act: dict[str, Any],
    message: str,
    shown: Sequence[str],
    reader: Any,
    request: Sequence[str] = (),
) -> None:
    """Correct ``act`` (a model's proposal, raw values) in place by what ``message`` says.
    ``reader``: the catalog's ``DialogueContext`` (None: only the word-list checks);
    ``request``: the request in force."""
    if reader is not None:
        ruling_out(act, message, reader, request)
        categories(act, message, reader, request)
    newcomer(act, message, shown, request)
    child_age(act, message, request)
    kid_words(act, message)
    if reader is not None:
        easily_scared(act, message, reader)
    judged(act, message, shown)
    if reader is not None:
        refused_titles(act, message, reader)
    like_shown(act, message, shown)
    pointed(act, message, shown)
    whole_refs(act, message, shown)
    asked(act, message)
    relative(act, message)
    superlative(act, message)


_NEGATED_BEFORE = re.compile(
    r"\b(?:no|not|none|without|nothing|never(?! mind)|avoid|skip|hates?|dislikes?|except)\b"
    r"[^.;!?,]{0,24}$"
)


_ASKS_ABOUT = re.compile(
    r"^\s*(?:is|isn't|was|does|doesn't|did|has|how (?:long|old|scary|violent|funny|bloody|loud"
    r"|heavy|big|much)|when (?:did|was)|who (?:is|was|directed|stars|made))\s+(?!there\b|any)"
    r"[^?]*\?\s*$",
    re.I,
)


# The price or rating of one thing asked: "what are you selling that for?", "what would the
# fourth set me back", "the first result - give me its star rating", "px7 s2 star rating pls".
_ASKS_PRICE = re.compile(
    r"\bwhat (?:are|do|would|will|r) (?:you|u|ya) (?:sell(?:ing)?|charg(?:e|ing)|ask(?:ing)?)"
    r" (?:it|that|this|them|those|one|the \w+) for\b"
    r"|\bwhat (?:would|will|does|do|did) (?:it|that|this|they|those|the \w+) (?:set (?:me|us) back"
    r"|sell for|go for|retail for|cost)\b"
    r"|\b(?:give me|tell me|what(?:'s| is)) (?:its|their|the) (?:price|cost)\b(?! range)"
)
_ASKS_RATING = re.compile(
    r"\b(?:star )?rating (?:pls|please|plz)\b"
    r"|\b(?:give me|tell me|what(?:'s| is)) (?:its|their) (?:star )?rating\b"
)


def asks_price_or_rating(message: str) -> str | None:
    """ "price" or "rating" when the message asks the price or rating of one thing ("what
    would the fourth set me back", "px7 s2 star rating pls"), else None."""
    low = message.lower()
    rating = _ASKS_RATING.search(low)
    if rating and re.search(
        r"\b(?:with|good|high|great|best|top|decent|solid)\b", low[: rating.start()]
    ):
        rating = None  # "a tv with a good star rating please" asks for TVs
    return "price" if _ASKS_PRICE.search(low) else "rating" if rating else None


def questioned(act: dict[str, Any], message: str) -> None:
    """A yes/no or fact question about a thing ("is X too scary for an 8 year old?", "how
    long is X?", "what would the fourth set me back?") asks; it is no request, whatever the
    model read ("is there any..." is one). A price or rating asked is the attribute."""
    fact = asks_price_or_rating(message)
    if act["intent"] in REQUESTS and _ASKS_ABOUT.match(message):
        act["intent"] = "question"
    elif fact and act["intent"] in (*REQUESTS, "question"):
        act["intent"] = "question"
        if act.get("attribute") not in ("price", "rating"):
            act["attribute"] = fact


_NEW_PERSON = re.compile(wordlists.load().pattern("new_person"))
_DESCRIBES = re.compile(
    r"\b(?:i|we)(?:'m| am|'re| are)? (?:really |usually |mostly |also |just |big |huge )?"
    r"(?:love|like|enjoy|adore|prefer|into|a fan of|fans of)\b|\bmy favou?rites?\b"
    r"|\b(?:i'?m|i am) an? [\w-]+ (?:student|fan|buff|nerd|geek|lover)\b"
)
_ASKS_FOR = re.compile(
    r"\b(?:recommend|suggest|looking for|look for|need|want|find|show|give|get me|any|anything"
    r"|something|what should|pick|buy|shopping for|ideas?)\b|\?"
)


def newcomer(
    act: dict[str, Any], message: str, shown: Sequence[str], request: Sequence[str]
) -> None:
    """A first message that tells who the person is or what they like, and asks for nothing
    ("setting up my profile: horror fan", "I'm into animation, like Akira"), onboards."""
    if act["intent"] != "recommend" or shown or request:
        return
    low = message.lower()
    if _NEW_PERSON.search(low) or (_DESCRIBES.search(low) and not _ASKS_FOR.search(low)):
        act["intent"] = "onboarding"


_CHILD = (
    r"(?:youngest|oldest|eldest|little ones?|son|daughter|kids?|boys?|girls?|nephew|niece|"
    r"grandson|granddaughter|grandkids?|toddler|child|children|twins|baby)"
)
_CHILD_AGE = re.compile(
    rf"\b{_CHILD}\b[^.?!;]{{0,20}}?\b(?:is|are|'s|’s|turns?|turned|aged?)\s+"
    r"(?:only |just |nearly |almost |barely )?(?P<a>\d{1,2})\b(?!\s*(?:%|\$|inch|gb|hz))"
    r"|\b(?P<b>\d{1,2})\s*(?:-|\s)?(?:yo|y/o|yrs?|years?)(?:[- ]olds?)?\b(?![- ]old)"
    r"(?!\s+(?:films?|movies?|classics?|tvs?|ones?|laptops?|models?|products?)\b)"
    rf"|\b{_CHILD}\s*\((?P<c>\d{{1,2}})"
)


def child_age(act: dict[str, Any], message: str, request: Sequence[str]) -> None:
    """A child's age said ("my youngest is only 5", "for a 7 yo", "2 kids (4 and 7)") makes
    the audience kids (up to 14: "for teens tho, my son is 14" wants no horror either); said
    after a list, it refines the request in force."""
    if act.get("audience"):
        return
    ages = [int(g) for m in _CHILD_AGE.finditer(message.lower()) for g in m.groups() if g]
    if not ages or min(ages) > 14:
        return
    if act["intent"] in REQUESTS:
        act["audience"] = "kids"
    elif act["intent"] in ("feedback", "chit_chat") and request and not says_reference(message):
        act.update(intent="refine", audience="kids", refs=[], mode="add")


_KIDS_WATCH = re.compile(
    r"\b(?:kids?|child|children)[- ]?(?:friendly|appropriate|safe|proof)\b"
    r"|\bg[- ]rated\b|\brated g\b"
    r"|\b(?:watch|see|enjoy)\b[^.?!;,]{0,12}\bwith (?:my|the|our|his|her|their) (?:little )?"
    r"(?:kids|children|little ones|toddlers?|grandkids|son|daughter|boy|girl)\b"
    r"|\bfor (?:my|the|our) (?:little )?(?:kids|children|little ones|toddlers?|grandkids)\b"
)
_KIDS_AWAY = re.compile(
    r"\b(?:kids|children|little ones|son|daughter)\b[^.?!;]{0,12}\b(?:are|is|'re|’re|'s|’s)"
    r"\s+(?:finally\s+)?(?:asleep|in bed|away|out|gone|at (?:their|his|her|my|a|the)\b)"
    r"|\b(?:after|once|when) (?:the|my|our) (?:kids|children|little ones) (?:go|are|have gone)"
    r"|\b(?:without|no) (?:the )?(?:kids|children)\b|\bkid[- ]free\b"
)


def kid_words(act: dict[str, Any], message: str) -> None:
    """Children watching, said plainly ("kid-appropriate", "G-rated", "to watch with my
    kids"), makes the audience kids, unless it is ruled out ("not a kids movie"); children
    away ("the kids are asleep, something scary") make it nobody's."""
    low = message.lower()
    if act.get("audience") == "kids" and _KIDS_AWAY.search(low):
        del act["audience"]
        return
    if act.get("audience") not in (None, "family") or act["intent"] not in REQUESTS:
        return
    m = _KIDS_WATCH.search(low)
    if m and not _NEGATED_BEFORE.search(low[: m.start()]) and not _KIDS_AWAY.search(low):
        act["audience"] = "kids"


_EASILY_SCARED = re.compile(
    r"\b(?:i|we|she|he|they|you|kids?|wife|husband|partner|mum|mom)\b[^.?!;]{0,20}"
    r"\b(?:get|have|has|gets|had)\s+(?:bad\s+)?nightmares"
    r"|\b(?:gives?|give (?:me|us|her|him|them)) (?:bad )?nightmares"
    r"|\bscare(?:d|s)? (?:so |too |really )?easily\b|\beasily (?:scared|frightened|spooked)\b"
    r"|\b(?:hates?|hate) (?:being|getting) (?:scared|frightened)\b|\bscaredy[- ]?cat\b"
    r"|\bjumpy\b"
)


def easily_scared(act: dict[str, Any], message: str, reader: DialogueContext) -> None:
    """Someone easily scared ("I get nightmares easily", "she scares easily") wants no
    horror: a request rules it out, whatever its words matched ("nightmares": Horror)."""
    cats = {c for named in reader.lexicon.aliases.values() for c in named}
    if "Horror" not in cats or act["intent"] not in REQUESTS:
        return
    if _EASILY_SCARED.search(message.lower()):
        act["categories"] = [c for c in act.get("categories", []) if c != "Horror"]
        act["exclude"] = [*(c for c in act.get("exclude", []) if c != "Horror"), "Horror"]


def ruling_out(
    act: dict[str, Any], message: str, reader: DialogueContext, request: Sequence[str]
) -> None:
    """Feedback that names no item and rules out kinds of item ("not a gaming one, and none
    of those mini pcs") refines the request in force: it says what to leave out."""
    if act["intent"] not in ("feedback", "chit_chat") or not request:
        return
    if act.get("liked") or act.get("disliked"):
        return
    if any(r != "all" for r in act.get("refs", [])) and says_reference(message):
        return  # "not that one": feedback on a pick ("sick of animated stuff" points at none)
    trial = {**act, "intent": "refine", "categories": [], "exclude": []}
    categories(trial, message, reader, request)
    if trial["exclude"] and not trial["categories"]:
        act.update(intent="refine", refs=[], mode="add")


def _negated_own_word(message: str, category: str, named: Sequence[str]) -> bool:
    """Whether a word only ``category``'s name has among the ``named`` categories ("gaming"
    of "Gaming Laptops & ..." beside "Laptops & ...") is said after a negation."""
    others = {w for c in named if c != category for w in re.findall(r"[a-z]+", c.lower())}
    if not others:
        return False  # no sibling to tell it from: the lexicon reads it
    own = [w for w in re.findall(r"[a-z]+", category.lower()) if len(w) > 2 and w not in others]
    low = message.lower()
    for w in own:
        said = [
            bool(_NEGATED_BEFORE.search(low[: m.start()]))
            for m in re.finditer(rf"\b{re.escape(w)}", low)
        ]
        if said and all(said):  # "a comedy but not a romantic comedy": said plainly too
            return True
    return False


def categories(
    act: dict[str, Any], message: str, reader: DialogueContext, request: Sequence[str] = ()
) -> None:
    """Wanted and unwanted categories as the lexicon and the card's moods read them."""
    if act["intent"] not in REQUESTS:
        return
    from chatrec.constraints import _singular, parse

    for title in [*act.get("liked", []), *act.get("disliked", [])]:  # "star wars" is no War
        at = find_title(message, title)
        if at:
            message = message[: at[0]] + " " * (at[1] - at[0]) + message[at[1] :]
    said = parse(message, reader.lexicon, None, has_prices=False, specs=())
    # "scary movies but not slashers": a kind said plainly and a part of it refused stays
    plain = {c for m in _plain(said.mentions) for c in reader.lexicon.aliases.get(m, ())}
    unwanted = set(said.exclude_categories) - plain
    unwanted |= set(negated_moods([message], reader.info))
    unwanted |= refused_after(message, reader.lexicon)
    ruled, misread = mood_exclusions(message, reader)
    unwanted |= ruled
    # "a laptop, not a gaming one": "laptop" names both laptop categories; the one whose own
    # word is negated is ruled out (of those the message, the request or the act names).
    before = parse(" ".join(request), reader.lexicon, None, has_prices=False, specs=())
    near = {*said.categories, *act.get("exclude", []), *before.categories}
    near |= _siblings(set(before.categories), reader.lexicon)  # "a desktop", "not a gaming one"
    unwanted |= {c for c in near if _negated_own_word(message, c, [*said.categories, *near])}
    named = [c for c in dict.fromkeys([*said.categories, *sorted(plain)]) if c not in unwanted]
    act["exclude"] = list(
        dict.fromkeys([*(c for c in act.get("exclude", []) if c not in named), *sorted(unwanted)])
    )
    dropped = {
        c for m in said.mentions if m.startswith("drop ") for c in reader.lexicon.aliases[m[5:]]
    }
    # "forget horror, something for kids": dropped from the wish, not ruled out
    act["exclude"] = [c for c in act["exclude"] if c not in dropped or c in unwanted]
    wanted = [c for c in act.get("categories", []) if c not in unwanted | (dropped - set(named))]
    wanted = [c for c in wanted if c not in misread or c in named]  # "live action": no Action
    if act["intent"] == "refine" and request:
        # A refinement names what it changes: a category of the request in force that the
        # message does not say again is not the message's ("max 300" adds no TVs).
        before = parse(" ".join(request), reader.lexicon, None, has_prices=False, specs=())
        old = set(before.categories) | set(before.all_categories)
        wanted = [c for c in wanted if c not in old or c in named]
    # A category called by its own name ("horror + thrillers", "crime dramas") is wanted; an
    # alias ("camera", "tv" in "a streaming stick for an old tv") only adds nothing.
    low = message.lower()
    by_name: list[str] = []
    for m in _plain(said.mentions):
        own = [
            c
            for c in reader.lexicon.aliases.get(m, ())
            if c in named and _singular(m).replace("-", " ") in _names(c)
        ]
        if len(own) == 1 and not _context(low, m):
            by_name.append(own[0])
    setting = _setting(low, said.mentions, reader.lexicon)
    kept = [c for c in wanted if c not in setting]
    if act.get("audience") == "kids":
        # The guide labels only the audience: the kids' categories are the recommender's
        # doing, not the message's, unless it names them ("an animated film for my son").
        kept = [c for c in kept if c in named or c not in KIDS_OK]
        wanted = [c for c in wanted if c in named or c not in KIDS_OK]
    act["categories"] = list(dict.fromkeys([*(kept or wanted), *by_name]))
    if not act["categories"] and act["intent"] == "recommend":
        # Nothing wanted although a word names one kind only ("a drone", "mesh wifi pls"):
        # that kind, unless it is the setting ("games for the xbox") or ruled out.
        moods = set(reader.info.moods) if reader.info is not None else set()
        words = [m for m in said.mentions if m not in moods]  # "space": the card's hint
        once = _named_once(low, words, reader.lexicon, unwanted)
        act["categories"] = [c for c in once if not (act.get("audience") and c in KIDS_OK)]


def _named_once(
    low: str, mentions: Sequence[str], lexicon: Lexicon, unwanted: set[str]
) -> list[str]:
    """The one category the message's category words name, if they name exactly one."""
    cats = {
        c
        for m in _plain(mentions)
        if not _context(low, m)
        for c in lexicon.aliases.get(m, ())
        if c not in unwanted
    }
    return sorted(cats) if len(cats) == 1 else []


def mood_exclusions(message: str, reader: DialogueContext) -> tuple[set[str], set[str]]:
    """(ruled out, misread): the categories the card's mood words rule out ("live action":
    no Animation), and those a model may read in their words ("action")."""
    ruled: set[str] = set()
    misread: set[str] = set()
    if reader.info is None:
        return ruled, misread
    low = message.lower()
    for key, hint in reader.info.moods.items():
        if hint.exclude and re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", low):
            ruled.update(hint.exclude)
            for word in re.findall(r"[a-z]+", key):
                misread.update(reader.lexicon.aliases.get(word, ()))
    return ruled, misread


def refused_after(message: str, lexicon: Lexicon) -> set[str]:
    """Categories refused by a word after them: "comedy yes, romance no", "horror? nope"."""
    low = message.lower()
    out: set[str] = set()
    for _start, end, phrase in lexicon.find(low):
        if _REFUSED_AFTER.match(low, end):
            out.update(lexicon.aliases[phrase])
    return out


def _siblings(named: set[str], lexicon: Lexicon) -> set[str]:
    """The categories that hold every word of one named, and more ("Gaming Desktop Computer
    & PCs" and "Mini PC Desktop Computer & PCs" beside "Desktop Computers & PCs")."""
    from chatrec.constraints import _singular

    def parts(c: str) -> set[str]:
        return {_singular(w) for w in re.findall(r"[a-z]+", c.lower())}

    every = {c for cats in lexicon.aliases.values() for c in cats}
    return {c for c in every for n in named if parts(n) < parts(c)}


def setting_only(message: str, lexicon: Lexicon) -> set[str]:
    """The categories a message names only as the setting, never as the wish: "a streaming
    stick for my old tv" -> {"TVs"}."""
    from chatrec.constraints import parse

    said = parse(message, lexicon, None, has_prices=False, specs=())
    return _setting(message.lower(), said.mentions, lexicon)


def _plain(mentions: Sequence[str]) -> list[str]:
    """The category phrases said as wishes (not negated, not dropped)."""
    return [m for m in mentions if not m.startswith(("not ", "drop "))]


def _setting(low: str, mentions: Sequence[str], lexicon: Lexicon) -> set[str]:
    """``setting_only`` from a parse's ``mentions``."""
    setting: set[str] = set()
    wished: set[str] = set()
    for m in _plain(mentions):
        (setting if _context(low, m) else wished).update(lexicon.aliases.get(m, ()))
    return setting - wished


def _context(low: str, phrase: str) -> bool:
    """Whether a category is said as the setting, not the wish: "a streaming stick for my
    old tv", "games for the xbox"."""
    return bool(
        re.search(
            r"\b(?:for|to|with|on|in|from|into)\s+(?:a|an|my|the|our|his|her|their|your)\s+"
            rf"(?:\w+\s+)?{re.escape(phrase)}\b",
            low,
        )
    )


def _names(category: str) -> set[str]:
    """A category's own names, singular: "Laptops & Notebook Computers" -> {"laptops &
    notebook computer", "laptop", "notebook computer"}."""
    from chatrec.constraints import _singular

    pieces = [category, *re.split(r"[&,/]| and ", category)]
    names = {_singular(p.strip().lower()) for p in pieces if p.strip()}
    return names | {n.replace("-", " ") for n in names}  # "Sci-Fi" said "sci fi"


def negated_moods(
    texts: Sequence[str], info: CatalogInfo | None, avoided: bool = False
) -> list[str]:
    """The categories a negated mood word rules out: "nothing too scary" -> the card's hint
    for "scary" (Horror) is excluded, not wanted. ``avoided``: with what the picks leave out
    too ("nothing gory": no Horror among the picks, none in the act)."""
    if info is None:
        return []
    out: list[str] = []
    for text in texts:
        for m in _NEGATED_MOOD.finditer(text.lower()):
            for key, hint in info.moods.items():
                if re.match(rf"{re.escape(key)}\b", m[1]):
                    ruled = [*hint.categories, *(hint.avoid if avoided else [])]
                    out += [c for c in ruled if c not in out]
    return out


_WORDS = wordlists.load()
# Not the whole ``negative`` list: "I already have the HomePod" turns it down as a pick, and
# says nothing against it.
_AGAINST = re.compile(_WORDS.pattern("against_a_title"), re.I)
_PRAISE = re.compile(_WORDS.pattern("positive", "for_a_title"), re.I)
_CHEAPER = re.compile(_WORDS.pattern("cheaper"))
_PRICIER = re.compile(_WORDS.pattern("pricier"))


def _clause(message: str, start: int, end: int) -> str:
    """The clause of the message around [start, end)."""
    cuts = [0, *(m.end() for m in _CLAUSE.finditer(message) if m.end() <= start)]
    after = [m.start() for m in _CLAUSE.finditer(message) if m.start() >= end]
    return message[max(cuts) : min(after, default=len(message))]


def _feeling(clause: str) -> str | None:
    """ "against", "for" or None: what a clause says of the title in it."""
    neg = bool(_AGAINST.search(clause))
    pos = bool(_PRAISE.search(_AGAINST.sub(" ", clause)))  # "not a fan" is no "fan of"
    return "against" if neg and not pos else "for" if pos and not neg else None


def judged(act: dict[str, Any], message: str, shown: Sequence[str] = ()) -> None:
    """Liked titles said against, and disliked ones praised, change sides; in feedback, a
    shown item named ("👎 the samsung", "Home Alone 👍") is liked or disliked as said."""
    if act["intent"] not in (*REQUESTS, "feedback"):
        return
    if act["intent"] == "feedback":
        judged_now = {*act.get("liked", []), *act.get("disliked", [])}
        for ref in act.get("refs", []):
            if ref.isdigit() or ref == "all":
                continue
            meant = [t for t in shown if names_shown(ref, [t])]
            if len(meant) != 1 or meant[0] in judged_now:
                continue
            at = message.lower().find(ref.lower())
            clause = _clause(message, at, at + len(ref)) if at >= 0 else message
            feeling = _feeling(clause) or _feeling(message)
            if feeling is not None:
                key = "liked" if feeling == "for" else "disliked"
                act[key] = [*act.get(key, []), meant[0]]
                judged_now.add(meant[0])
    liked: list[str] = []
    disliked: list[str] = []
    alone = len({*act.get("liked", []), *act.get("disliked", [])}) == 1
    for side, titles in (("liked", act.get("liked", [])), ("disliked", act.get("disliked", []))):
        for title in titles:
            at = find_title(message, title)
            clause = _clause(message, *at) if at else message
            # "boogie nights, absolutely not": the one title judged is what the message judges
            feeling = _feeling(clause) or (_feeling(message) if alone else None)
            if act["intent"] == "feedback" and feeling is None and _SEEN.search(message.lower()):
                continue  # "seen psycho and the birds already": neither liked nor disliked
            if side == "liked" and feeling == "against":
                side_now = "disliked"
            elif side == "disliked" and feeling == "for":
                side_now = "liked"
            else:
                side_now = side
            (liked if side_now == "liked" else disliked).append(title)
    act["liked"], act["disliked"] = liked, disliked


# "anything except the bowers & wilkins px7 s2", "gaming monitor, just not the odyssey g65b"
_REFUSING = re.compile(
    r"\b(?:(?:anything|everything|something|whatever)\s+(?:but|except|other than|besides"
    r"|apart from)|except(?:\s+for)?|other than|apart from|(?:just|but|as long as it'?s)\s+not"
    r"|not(?=\s+(?:the|an?|another)\b)|no more(?:\s+of)?)\s+",
    re.I,
)
_PHRASE_END = re.compile(r"[,.;!?()]|\s(?:but|because|cause|cos|since|as|so|which|it|they)\s", re.I)


def refused_titles(act: dict[str, Any], message: str, reader: DialogueContext) -> None:
    """A request that refuses a named catalog item ("a tablet, anything but the galaxy tab a7
    lite") dislikes it, so it is never among the picks (a model may miss a long product
    name; the words after the refusal are resolved as a question's product names are)."""
    if act["intent"] not in REQUESTS:
        return
    for m in _REFUSING.finditer(message):
        rest = message[m.end() :]
        end = _PHRASE_END.search(rest)
        phrase = rest[: end.start() if end else len(rest)].strip()
        if not phrase:
            continue
        if reader.resolver is not None:
            found = reader.resolver.resolve(phrase)
            ids = found.ids if found is not None and not found.missing else []
        elif reader.matcher is not None:  # "not grease": a one-word title is the whole phrase
            ids = list(reader.matcher.exact(phrase)) or [
                x.item_id for x in reader.matcher.find(phrase)
            ]
        else:
            ids = []
        titles = [reader.catalog.get(i).title for i in ids[:2] if reader.catalog is not None]
        if not titles or len(ids) > 2:
            continue
        act["liked"] = [t for t in act.get("liked", []) if t not in titles]
        act["disliked"] = [
            *act.get("disliked", []),
            *(t for t in titles if t not in act.get("disliked", [])),
        ]


# "security cameras, not Arlo", "a mesh system, not Netgear": a name after "not"/"no".
_REFUSING_NAME = re.compile(r"\b(?:[Nn]ot|[Nn]o|NOT|NO)\s+(?=[A-Z])")
_DETERMINER = re.compile(r"^(?:(?:the|an?|another|any|anything|from|by)\s+)+", re.I)


def refused_names(message: str, reader: DialogueContext, wanted: Sequence[str] = ()) -> list[str]:
    """Names the person refused that several titles carry, a brand or a line ("not Arlo",
    "not an iPad", "NOT an all-in-one"): the most words (at most three) of the refused
    phrase that some title has, when 3 or more titles and at most half the catalog have
    them, and no words of a category other than the ``wanted`` ones ("a laptop, not a
    chromebook" refuses a name; "not a laptop" rules a kind out elsewhere). One product
    refused by its name ("not the Samsung Odyssey G65B") is ``refused_titles``', alone.
    """
    if reader.catalog is None:
        return []
    spans = [*_REFUSING.finditer(message), *_REFUSING_NAME.finditer(message)]
    if not spans:
        return []
    titles = [folded(it.title) for it in reader.catalog]
    out: list[str] = []
    for m in sorted(spans, key=lambda x: x.start()):
        rest = message[m.end() :]
        end = _PHRASE_END.search(rest)
        phrase = _DETERMINER.sub("", rest[: end.start() if end else len(rest)].strip())
        said = phrase.split()[:3]
        for n in range(len(said), 0, -1):
            name = " ".join(said[:n]).strip("'\"")
            low = name.lower()
            kinds = {c for _, _, p in reader.lexicon.find(low) for c in reader.lexicon.aliases[p]}
            if all(w in STOP_WORDS for w in low.split()) or kinds - set(wanted):
                continue
            want = folded(name)
            hits = sum(has_run(want, t) for t in titles)
            if 3 <= hits <= len(titles) // 2:
                out.append(name)
            if hits:  # one or two titles: a product refused by name, not all of its line
                break
    return list(dict.fromkeys(out))


_MORE_LIKE = re.compile(
    r"\b(?:more|others?|something|anything|films?|movies?|ones?|stuff)\s+(?:just\s+)?like"
    r"|\bsimilar to|\balong the lines of|\bin the vein of|\bsame as"
)


def like_shown(act: dict[str, Any], message: str, shown: Sequence[str]) -> None:
    """ "More like fargo" with Fargo on the list shown points at it (``refs``, as the guide
    has "more like the second one"); it says nothing of liking it unless it praises it."""
    if act["intent"] != "refine" or not shown:
        return
    liked: list[str] = []
    refs = list(act.get("refs", []))
    for title in act.get("liked", []):
        at = find_title(message, title)
        pointing = at and title in shown and _MORE_LIKE.search(message[max(0, at[0] - 24) : at[0]])
        if at and pointing and _feeling(_clause(message, *at)) != "for":
            said = message[at[0] : at[1]].strip()
            if said.lower() not in (r.lower() for r in refs):
                refs.append(said)
            continue
        liked.append(title)
    act["liked"], act["refs"] = liked, refs


def pointed(act: dict[str, Any], message: str, shown: Sequence[str]) -> None:
    """A judged title on the list shown is pointed at, as the message says it."""
    if act["intent"] != "feedback" or not shown:
        return
    refs = list(act.get("refs", []))
    for title in [*act.get("liked", []), *act.get("disliked", [])]:  # catalog titles by now
        at = find_title(message, title)
        if at and title in shown:
            said = message[at[0] : at[1]].strip()
            # a shorter name of the same title ("boogie") gives way to the title as said
            refs = [
                r
                for r in refs
                if r.isdigit() or r == "all" or r.lower() not in said.lower() or r == said
            ]
            if said and said.lower() not in (r.lower() for r in refs):
                refs.append(said)
    act["refs"] = refs


def whole_refs(act: dict[str, Any], message: str, shown: Sequence[str]) -> None:
    """A name cut short ("Back to" of "why Back to the Future?", "Bowers" of "the Bowers &
    Wilkins") is the name of the shown item as the message says it."""
    refs: list[str] = []
    for ref in act.get("refs", []):
        if not ref.isdigit() and ref != "all":
            for title in (t for t in shown if ref.lower() in t.lower()):
                at = find_title(message, title)
                said = message[at[0] : at[1]].strip(" ,.!?") if at else ""
                if ref.lower() in said.lower() and len(said) > len(ref):
                    ref = said
                    break
        refs.append(ref)
    act["refs"] = list(dict.fromkeys(refs))


_ASKED = (
    re.compile(
        r"\b(?:does|do|did|will|would|can|could)\b.*?\b(?:have|has|come with|comes with"
        r"|include|includes|support|supports|got)\s+(?:a |an |any |the |some )?"
        r"(?P<a>[a-z][a-z0-9 -]{1,30}?)\s*(?:in it|on it|with it|included|built in)?\s*[?.!]*$"
    ),
    re.compile(
        r"\bhow many (?P<a>[a-z0-9-]+(?: (?!(?:are|is|do|does|did|have|has|can|will|in|on)\b)"
        r"[a-z]+)?)\b"
    ),
    re.compile(r"\bwhat(?:'s|’s| is|s| are)? the (?P<a>[a-z]+(?: [a-z]+)?) (?:of|on|for|in)\b"),
)


def asked(act: dict[str, Any], message: str) -> None:
    """The attribute a question asks about, when the model's is not what the message says
    and the message names one plainly ("does it come with a charger", "how many hdmi
    ports", "what's the plot of the third")."""
    if act["intent"] != "question":
        return
    from chatrec.understand.attributes import aliases, canonical

    low = " ".join(message.lower().split())
    proposed = act.get("attribute")
    known = _said_attribute(low)  # the longest known name said: "age rating", not "rating"
    if proposed:
        name = canonical(proposed)
        said = [v for v, c in aliases().items() if c == name] + [name, proposed.lower()]
        if any(re.search(rf"\b{re.escape(w)}", low) for w in said) and (
            known is None or known == name or not any(w in known for w in said)
        ):
            return
    if known and (not proposed or known not in canonical(proposed)):  # "delivery time" stays
        act["attribute"] = known
        return
    for pattern in _ASKED:
        m = pattern.search(low)
        if m and len(m["a"].split()) <= 3 and not re.match(r"(?:it|one|them|that)\b", m["a"]):
            act["attribute"] = canonical(m["a"].strip())
            return


def _said_attribute(low: str) -> str | None:
    """The canonical name of the longest attribute name or alias the message says."""
    from chatrec.understand.attributes import aliases

    said = [m[1] for m in _attribute_names().finditer(low)]
    return aliases()[max(said, key=len)] if said else None


@cache
def _attribute_names() -> re.Pattern[str]:
    """Every attribute name and alias longer than 3 letters, longest first ("year old" is an
    age, not the year)."""
    from chatrec.understand.attributes import aliases

    names = sorted((n for n in aliases() if len(n) > 3), key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b(?![ -]olds?\b)")


def relative(act: dict[str, Any], message: str) -> None:
    """ "cheaper" / "pricier" words, unless an amount follows them."""
    if act["intent"] not in REQUESTS:
        return
    low = message.lower()
    for pattern, direction in ((_CHEAPER, "cheaper"), (_PRICIER, "pricier")):
        m = pattern.search(low)
        if m and not re.match(r"\s*(?:than\s+)?(?:\$|£|€)?\s*\d", low[m.end() :]):
            price = dict(act.get("price") or {})
            price["relative"] = direction
            act["price"] = price
            return


@cache
def superlatives() -> dict[str, tuple[str, str]]:
    """Superlative word -> (canonical attribute, direction), from the data file, longest
    phrase first ("longest battery" before "longest")."""
    from chatrec.datasets import data_dir

    path = data_dir() / "understanding" / "superlatives.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    words = sorted((w for w in table if not w.startswith("_")), key=len, reverse=True)
    return {w: (table[w][0], table[w][1]) for w in words}


def superlative(act: dict[str, Any], message: str) -> None:
    """A comparison whose superlative names its measure."""
    if act["intent"] != "compare":
        return
    low = message.lower()
    for word, (attribute, direction) in superlatives().items():
        if re.search(rf"\b{re.escape(word)}\b", low):
            act["compare"] = {"attribute": attribute, "direction": direction}
            return
