"""The bottom floor: the typed values that pass between stages.

Every stage imports these and none of them imports a stage, so a stage (or a face) can speak
of a ``Candidate`` or a ``Reply`` without pulling in retrieval or the dialogue.

One turn, as data: the dialogue reads a message into a ``Turn`` (its ``Intent`` and
``Constraints``) and keeps the session's ``DialogueState``; retrieval yields ``Candidate``s;
the facade answers with a ``Reply`` of ``Recommendation``s; ``TurnRecord`` is what the store
saves of an answered turn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, NamedTuple

from chatrec.catalog import Item

MAX_K = 10  # most picks one reply shows: more is not readable in a chat (and says so)


Intent = Literal[
    "recommend",
    "refine",
    "product_question",
    "why",  # why an item was picked: answered from what made it rank
    "feedback",
    "onboarding",
    "chit_chat",
    "clarify",
    "out_of_scope",
]


@dataclass(frozen=True)
class Pull:
    """A liked item that pulled a pick up: real people who loved it and rated the pick."""

    item_id: str  # the liked item
    title: str
    fans: int  # people who loved the liked item (training ratings >= LOVED)
    also: int  # of them, how many rated the pick too
    mean: float  # their mean rating of the pick
    share: float  # its part of the pick's co-liking score

    def sentence(self) -> str:
        """ "of the 212 people who loved Alien (1979), 61 rated this too, 4.1★ on average"."""
        return (
            f"of the {self.fans:,} people who loved {self.title}, {self.also:,} rated this too, "
            f"{self.mean:.1f}★ on average"
        )


@dataclass(frozen=True)
class Evidence:
    """Why one pick fits: its score in parts, the liked items behind it, the request parts it
    meets (in words), and its facts."""

    item_id: str
    parts: dict[str, float]  # Candidate.parts: each part's contribution; they sum to the score
    pulls: tuple[Pull, ...] = ()
    matches: tuple[str, ...] = ()  # "it is in Comedy", "at $229.99 it is within your budget"
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return float(sum(self.parts.values()))

    def lines(self) -> list[str]:
        """Why it fits as short lines, the way a prompt or a person reads them (its facts
        are written beside them, by ``facts.facts_text``)."""
        out = [f"Matches the request: {m}" for m in self.matches]
        out += [f"People: {p.sentence()}" for p in self.pulls]
        return out


@dataclass
class Recommendation:
    item_id: str
    title: str
    score: float
    explanation: str
    attributes: dict[str, Any] = field(default_factory=dict)
    # Who wrote the explanation, "llm" or "template"; not part of the JSON contract.
    source: str = field(default="template", compare=False)
    # Texts the model wrote for it (2: its first was rejected and written again); not JSON.
    tries: int = field(default=0, compare=False)
    # Why it was picked (``evidence.Evidence``; None for answers); not part of the JSON.
    evidence: Evidence | None = field(default=None, compare=False, repr=False)

    @classmethod
    def pick(cls, c: Candidate, evidence: Evidence | None = None) -> Recommendation:
        """A recommended candidate, its explanation still to come."""
        return cls(
            c.item.id, c.item.title, round(c.score, 4), "", c.item.facts(), evidence=evidence
        )


@dataclass
class Reply:
    """What one turn returns: text for people, items as data (the ``chatrec ask`` JSON).

    While a reply streams, ``done`` is False and explanations may be partial;
    ``streaming_explanation`` turns True with the first generated piece.
    """

    text: str
    intent: str
    items: list[Recommendation] = field(default_factory=list)
    done: bool = field(default=True, compare=False)
    streaming_explanation: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        private = ("source", "evidence", "tries")
        items = [{k: v for k, v in asdict(i).items() if k not in private} for i in self.items]
        return {"text": self.text, "intent": self.intent, "items": items}

    def snapshot(self) -> Reply:
        return replace(self, items=[replace(i) for i in self.items])


class Spec(NamedTuple):
    """One product spec wanted: ``lo <= value <= hi`` (either may be None) for a numeric
    spec, or the presence of a feature word (``lo`` and ``hi`` None) for a keyword spec."""

    name: str  # "screen", "ram", "storage", "refresh", "rating" or a KEYWORDS name
    lo: float | None = None
    hi: float | None = None
    text: str = ""  # how a reply names it: '65" screen', '16GB+ RAM', '4K'


@dataclass(frozen=True)
class Constraints:
    """What a message asks for. ``None`` means "not said"."""

    price_min: float | None = None
    price_max: float | None = None
    year_min: int | None = None
    year_max: int | None = None
    categories: tuple[str, ...] = ()  # any of these
    # Every one of these: an added wish ("something romantic", then "funny too").
    all_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()
    # Names the person refused ("not Arlo", "not an iPad"): no title with one is shown.
    exclude_names: tuple[str, ...] = ()
    allow_addons: bool = False
    specs: tuple[Spec, ...] = ()  # product specs, each a range on one stated attribute
    mentions: tuple[str, ...] = field(default=(), compare=False)  # phrases matched, for replies
    # The message without its negated phrases: "90s sci-fi, no horror" must not be embedded
    # as a query that is close to horror films.
    positive_text: str = field(default="", compare=False)
    # This message only (never carried to the next turn): what contradicts itself ("under $200
    # but over $500") and what the catalog cannot check ("5000 mAh battery"), in short words.
    problems: tuple[str, ...] = field(default=(), compare=False)
    unsupported: tuple[str, ...] = field(default=(), compare=False)
    # Values no search can use ("under $-5", "from year 99999"): left out, and said in a
    # sentence ("I can't search for prices below $0.").
    impossible: tuple[str, ...] = field(default=(), compare=False)

    def is_empty(self) -> bool:
        return self == Constraints()

    def describe(self) -> str:
        """A short human phrase: 'TVs, under $500'."""
        parts: list[str] = []
        if self.all_categories:
            parts.append(" and ".join(self.all_categories))
        if self.categories:
            parts.append(" or ".join(self.categories))
        if self.exclude_categories:
            parts.append("no " + ", ".join(self.exclude_categories))
        if self.exclude_names:
            parts.append("not " + ", ".join(self.exclude_names))
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
        parts.extend(spec.text for spec in self.specs)
        return ", ".join(parts)


@dataclass(frozen=True)
class Candidate:
    item: Item
    score: float  # cosine similarity to the query + category bonus + quality prior
    row: int  # row in the bundle
    # The score in parts, summing to it ("text", "category", "prior", "liked", "collab",
    # "rerank"): where each stage changes the score it says by how much (``evidence``).
    parts: dict[str, float] = field(default_factory=dict, compare=False)

    def moved(self, score: float, part: str) -> Candidate:
        """This candidate with a new score, the change booked to ``part`` of its parts."""
        parts = dict(self.parts)
        parts[part] = parts.get(part, 0.0) + score - self.score
        return replace(self, score=score, parts=parts)


@dataclass
class DialogueState:
    """One session's memory: plain lists and strings, so the store can persist it as JSON."""

    session_id: str
    constraints: Constraints = field(default_factory=Constraints)
    topic: str = ""  # the query of the request in force (refinements add to it)
    shown: list[str] = field(default_factory=list)  # every id shown this session, oldest first
    last_shown: list[str] = field(default_factory=list)  # the last list, in its order
    liked: list[str] = field(default_factory=list)  # oldest first
    rejected: list[str] = field(default_factory=list)  # never shown again this session
    focus: str = ""  # the item last asked about ("is it any good?" means this one)
    request: list[str] = field(default_factory=list)  # the person's words of the request in force
    pending: str = ""  # a question asked back ("which one do you mean?"): what was asked
    onboarding_asks: int = 0  # clarifying questions asked of a new person (at most 2)
    turns: list[tuple[str, str]] = field(default_factory=list)  # (user, bot)

    def remember(self, user: str, bot: str, shown: list[str]) -> None:
        """Record a finished turn: what was said and the list shown (if any)."""
        if shown:
            self.shown.extend(shown)
            self.last_shown = list(shown)
            self.focus = ""
        self.turns.append((user, bot))

    def history(self, limit: int = 20) -> list[str]:
        """Item ids for a reranker prompt: shown-and-not-rejected first, then liked; oldest
        first within each, so the strongest signal (what the person liked) reads last.

        Liked items are kept over shown ones when trimming to ``limit``; an id appears once.
        """
        if limit <= 0:
            return []
        liked = list(dict.fromkeys(self.liked))[-limit:]
        skip = set(self.rejected) | set(liked)
        shown = [i for i in reversed(dict.fromkeys(reversed(self.shown))) if i not in skip]
        room = limit - len(liked)
        return (shown[-room:] if room > 0 else []) + liked

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["constraints"] = {
            k: v
            for k, v in d["constraints"].items()
            if k not in ("mentions", "positive_text", "problems", "unsupported", "impossible")
        }
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DialogueState:
        c = dict(d.get("constraints") or {})
        for key in ("categories", "all_categories", "exclude_categories", "exclude_names"):
            c[key] = tuple(c.get(key) or ())
        c["specs"] = tuple(Spec(*s) for s in c.get("specs") or ())
        fields = {k: v for k, v in d.items() if k != "constraints"}
        fields["turns"] = [tuple(t) for t in fields.get("turns") or []]
        return cls(constraints=Constraints(**c), **fields)


@dataclass(frozen=True, kw_only=True)
class Said:
    """What every turn carries: the message, how it was received, the constraints in force.

    A ``Turn`` is one of the kinds below, told apart by ``intent`` (the tag): each kind holds
    the fields its replies need and no other, so a reply cannot read a field its turn lacks.
    """

    text: str  # the cleaned message (markup stripped)
    constraints: Constraints  # the constraints in force after the turn
    notice: str = ""  # "long" (cut) or "binary"
    flags: tuple[str, ...] = ()  # injection, privacy, off_topic, language, markup, capped, binary
    k: int | None = None  # how many picks were asked for (at most MAX_K)
    unsupported: tuple[str, ...] = ()  # what the catalog can't check: named, then ignored
    impossible: tuple[str, ...] = ()  # values no search can use, as sentences: said, ignored


@dataclass(frozen=True, kw_only=True)
class Request(Said):
    """A wish to retrieve for: a new request, a refinement, or a newcomer's tastes."""

    intent: Literal["recommend", "refine", "onboarding"]
    query: str  # what retrieval embeds
    exclude: tuple[str, ...] = ()  # ids not to show: rejected, liked, the like-items, shown
    refs: tuple[str, ...] = ()  # items the message names (a newcomer's favourites, "more like X")
    like: tuple[str, ...] = ()  # "more like X": the items the query was built from


@dataclass(frozen=True, kw_only=True)
class Judgement(Said):
    """👍 or 👎 on shown items; a 👎 re-runs the request in force without them."""

    intent: Literal["feedback"] = "feedback"
    feedback: Literal["positive", "negative"]
    refs: tuple[str, ...]  # the items judged
    query: str = ""  # 👎: what retrieval embeds for the replacements
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Question(Said):
    """A question about products, the shop's policies, or a comparison among the shown."""

    intent: Literal["product_question"] = "product_question"
    refs: tuple[str, ...] = ()  # the products asked about
    asked: str = ""  # "price", "rating", "feature:hdmi", "policy:returns", "compare:cheapest",
    # "compare:attr:<attribute>:<direction>", "unknowable", ... or "" (all facts)
    options: tuple[str, ...] = ()  # several products fit the question: ask which
    missing: str = ""  # the question names a product we don't carry
    name: str = ""  # the words that named the product(s) asked about ("apple watch series 9")


@dataclass(frozen=True, kw_only=True)
class Why(Said):
    """ "Why did you pick X?": answered from what made X rank."""

    intent: Literal["why"] = "why"
    refs: tuple[str, ...] = ()  # the pick asked about (none: the list as a whole)
    # "why not X?": X (``refs``) is an item that is not among the picks shown; without refs,
    # X named nothing we could find: ``missing`` a product we don't carry, ``options`` several
    # that fit the words.
    absent: bool = False
    missing: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Clarify(Said):
    """We ask instead of recommending: a contradiction, or a newcomer too vague to act on."""

    intent: Literal["clarify"] = "clarify"
    problems: tuple[str, ...] = ()  # contradictions, as sentences
    onboarding: bool = False  # asking a newcomer what they like


@dataclass(frozen=True, kw_only=True)
class Aside(Said):
    """A greeting, or a message we decline (off topic, hostile, another language, not held)."""

    intent: Literal["chit_chat", "out_of_scope"]


Turn = Request | Judgement | Question | Why | Clarify | Aside
"""What one message means, for the recommender to act on (a tagged union on ``intent``)."""

Retrieving = Request | Judgement
"""The turns that retrieve: a request, and a 👍/👎 (a 👎 retrieves replacements)."""


def refs_of(turn: Turn) -> tuple[str, ...]:
    """The items a turn points at (none for a greeting, a refusal or a clarifying question)."""
    return () if isinstance(turn, Aside | Clarify) else turn.refs


@dataclass(frozen=True)
class Feedback:
    """One judgement of an item: +1 liked, -1 disliked, and how it was given."""

    item_id: str
    value: Literal[1, -1]
    source: str  # "words", "button", "more like", "onboarding"


@dataclass(frozen=True)
class TurnRecord:
    """What the store keeps of one answered turn, written in one transaction."""

    user: str
    session_id: str
    catalog: str
    state: dict[str, Any]  # DialogueState.to_dict() after the turn
    message: str
    reply: Reply
    profile: dict[str, Any] | None  # the person's profile after the turn (None: unchanged)
    feedback: tuple[Feedback, ...] = ()
