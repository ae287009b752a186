"""``ChatRecommender``: the one facade the UI and the CLI call.

One turn: message -> dialogue.update -> retrieve (FAISS + constraint filters) -> Reply with
typed ``Recommendation`` items. Every item comes from the catalog bundle; explanations are
built from the item's own facts. Models are loaded once (``from_pretrained``) and injected.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chatrec import bundle as bundles
from chatrec import datasets
from chatrec.catalog import Item
from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.constraints import Constraints, Lexicon
from chatrec.dialogue import DialogueState, Turn, update
from chatrec.diversify import mmr
from chatrec.embed import Embedder, SentenceEmbedder
from chatrec.retrieve import Candidate, Retriever


@dataclass
class Recommendation:
    item_id: str
    title: str
    score: float
    explanation: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    """What one turn returns: text for people, items as data (the ``chatrec ask`` JSON)."""

    text: str
    intent: str
    items: list[Recommendation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "items": [asdict(i) for i in self.items]}


def _money(v: float) -> str:
    return f"${v:,.0f}" if float(v).is_integer() else f"${v:,.2f}"


def price_text(item: Item) -> str:
    if item.price is None:
        return ""
    if item.price_max and item.price_max != item.price:
        return f"{_money(item.price)}–{_money(item.price_max)}"
    return _money(item.price)


def explain(item: Item, c: Constraints) -> str:
    """A faithful, fact-only reason: what matched the request, then the item's key facts."""
    matched = [cat for cat in item.categories if cat in c.categories]
    reasons = []
    if matched:
        reasons.append(f"It is in {', '.join(matched)}, as you asked")
    if item.price is not None:
        p = price_text(item)
        if c.price_max is not None and item.price <= c.price_max:
            reasons.append(f"costs {p}, within your {_money(c.price_max)} limit")
        else:
            reasons.append(f"costs {p}")
    if item.year is not None and (c.year_min is not None or c.year_max is not None):
        reasons.append(f"came out in {item.year}, in the years you asked for")
    if item.rating is not None and item.review_count:
        reasons.append(f"is rated {item.rating:g}/5 from {item.review_count:,} ratings")
    discount = item.attributes.get("discount_amount")
    if discount:
        until = item.attributes.get("discount_valid_until")
        reasons.append(f"has {_money(discount)} off" + (f" until {until}" if until else ""))
    if not reasons:
        genres = ", ".join(item.categories)
        return f"{item.title} is close to what you described" + (f" ({genres})." if genres else ".")
    first = reasons[0]
    if not first.startswith("It "):
        first = "It " + first
    return "; ".join([first, *reasons[1:]]) + "."


class ChatRecommender:
    """Chat with one catalog. Sessions live in memory, keyed by session id."""

    def __init__(
        self,
        bundle: bundles.Bundle,
        embedder: Embedder,
        lexicon: Lexicon,
        config: ChatRecConfig | None = None,
    ):
        self.config = config or ChatRecConfig()
        self.bundle = bundle
        self.catalog = bundle.catalog
        self.lexicon = lexicon
        r = self.config.retrieve
        self.retriever = Retriever(bundle, embedder, r.prior_weight, r.n_candidates)
        years = [it.year for it in self.catalog if it.year is not None]
        self.newest_year = max(years) if years else None
        self.has_prices = any(it.price is not None for it in self.catalog)
        # In-memory sessions, least recently used dropped first (SQLite keeps them later).
        self.sessions: OrderedDict[str, DialogueState] = OrderedDict()
        self.max_sessions = 10_000

    @classmethod
    def from_pretrained(
        cls,
        catalog: str = "store",
        config: ChatRecConfig | None = None,
        runtime: RuntimeConfig | None = None,
        embedder: Embedder | None = None,
        rebuild: bool = False,
        progress: bool = False,
    ) -> ChatRecommender:
        """Load (or build, when missing or stale) the catalog's bundle and the models."""
        config = (config or ChatRecConfig()).model_copy(update={"catalog": catalog})
        runtime = runtime or RuntimeConfig()
        cat, lexicon = datasets.load(catalog, runtime.cache_dir)
        embedder = embedder or SentenceEmbedder.from_config(config.embed, runtime)
        bundle = bundles.load_or_build(
            runtime.artifacts_dir, cat, embedder, config.embed, config.index, rebuild, progress
        )
        return cls(bundle, embedder, lexicon, config)

    def session(self, session_id: str | None) -> DialogueState:
        sid = session_id or uuid.uuid4().hex
        if sid in self.sessions:
            self.sessions.move_to_end(sid)
        else:
            self.sessions[sid] = DialogueState(sid)
            while len(self.sessions) > self.max_sessions:
                self.sessions.popitem(last=False)
        return self.sessions[sid]

    def chat(
        self,
        message: object,
        session_id: str | None = None,
        k: int | None = None,
        mmr_lambda: float | None = None,
    ) -> Reply:
        """Answer one message in a session (a new one when ``session_id`` is None).

        Args:
            message: what the person typed (any input; odd input gets a sane reply).
            session_id: keeps dialogue state across calls; None starts a fresh session.
            k: items to show (default ``config.retrieve.top_k``).
            mmr_lambda: relevance vs diversity for this request, 1 = pure relevance.
        """
        state = self.session(session_id)
        turn = update(state, message, self.lexicon, self.newest_year, self.has_prices)
        if turn.intent == "out_of_scope":
            reply = Reply("I can only read text messages. What are you looking for?", turn.intent)
        elif turn.intent == "chit_chat":
            reply = Reply(self._hello(), turn.intent)
        else:
            lam = self.config.retrieve.mmr_lambda if mmr_lambda is None else mmr_lambda
            reply = self._recommend(turn, k or self.config.retrieve.top_k, lam)
        state.shown.extend(r.item_id for r in reply.items)
        state.turns.append((turn.text, reply.text))
        return reply

    def _hello(self) -> str:
        what = "films" if self.catalog.name == "movies" else "products"
        examples = (
            "“an animated movie for kids” or “a thriller from the 70s”"
            if self.catalog.name == "movies"
            else "“a TV under $500” or “a laptop for travel”"
        )
        return f"Hi! Tell me what you're looking for and I'll pick {what} for you, e.g. {examples}."

    def _recommend(self, turn: Turn, k: int, lam: float) -> Reply:
        pool: list[Candidate] = self.retriever.retrieve(
            turn.query, turn.constraints, turn.exclude, k=4 * k
        )
        vectors = self.bundle.embeddings[[c.row for c in pool]]  # (m, d)
        picked = mmr(np.array([c.score for c in pool]), vectors, k, lam) if pool else []
        cands = [pool[i] for i in picked]
        wanted = turn.constraints.describe()
        items = [
            Recommendation(
                item_id=c.item.id,
                title=c.item.title,
                score=round(c.score, 4),
                explanation=explain(c.item, turn.constraints),
                attributes=c.item.facts(),
            )
            for c in cands
        ]
        lead = ""
        if turn.notice == "long":
            lead = "Your message was very long, so I read only its first part. "
        if not items:
            return Reply(
                lead
                + f"I found nothing in the {self.catalog.name} catalog that fits"
                + (f" {wanted}" if wanted else " that")
                + ". Could you loosen a constraint, such as the price or the years?",
                turn.intent,
            )
        head = f"Here are {len(items)} picks" + (f" ({wanted})" if wanted else "") + ":"
        lines = []
        for n, r in enumerate(items, 1):
            it = self.catalog.get(r.item_id)
            facts = [price_text(it)] if it.price is not None else []
            if it.rating is not None:
                facts.append(f"{it.rating:g}★")
            lines.append(f"{n}. {r.title}" + (f" — {', '.join(facts)}" if facts else ""))
        return Reply(lead + head + "\n" + "\n".join(lines), turn.intent, items)
