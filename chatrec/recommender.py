"""``ChatRecommender``: the one facade the UI and the CLI call.

One turn: message -> dialogue.update -> retrieve (FAISS + constraint filters) -> rerank (the
language model reads the top 20 together, fused with the retriever's score) -> MMR ->
explain (generated as one batch, streamed, checked against the item's facts) -> Reply with
typed ``Recommendation`` items. Every item comes from the catalog bundle: the model orders
and explains candidates, it never names them. Models are loaded once (``from_pretrained``)
and injected; without a generator the turn uses the retriever's order and fact templates.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from chatrec import bundle as bundles
from chatrec import datasets, qa
from chatrec.catalog import Item
from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.constraints import Lexicon
from chatrec.dialogue import DialogueContext, update
from chatrec.diversify import mmr
from chatrec.embed import Embedder, SentenceEmbedder
from chatrec.explain import Explainer
from chatrec.facts import invented, price_text
from chatrec.generate import Generator
from chatrec.profile import Profile
from chatrec.rerank import Reranker, RerankQuery, build_reranker, rerank
from chatrec.retrieve import Retriever
from chatrec.store import Store, StoreError
from chatrec.types import MAX_K, Candidate, Constraints, DialogueState, Recommendation, Reply, Turn


def _join(titles: list[str]) -> str:
    if len(titles) <= 2:
        return " and ".join(titles)
    return ", ".join(titles[:-1]) + " and " + titles[-1]


log = logging.getLogger(__name__)

# LoRA adapters trained by `chatrec train reranker`, shipped under data/adapters/.
SHIPPED_RERANKERS = {"movies": "smollm2-135m-rerank-movies"}


def resolve_adapter(config: ChatRecConfig, catalog: str) -> ChatRecConfig:
    """``generator.adapter='auto'`` -> the shipped adapter folder for ``catalog``, or None."""
    if config.generator.adapter != "auto":
        return config
    adapter = None
    name = SHIPPED_RERANKERS.get(catalog)
    if name and (datasets.data_dir() / "adapters" / name / "adapter_config.json").exists():
        adapter = str(datasets.data_dir() / "adapters" / name)
    gen = config.generator.model_copy(update={"adapter": adapter})
    return config.model_copy(update={"generator": gen})


class ChatRecommender:
    """Chat with one catalog. Sessions live in memory, keyed by session id."""

    def __init__(
        self,
        bundle: bundles.Bundle,
        embedder: Embedder,
        lexicon: Lexicon,
        config: ChatRecConfig | None = None,
        generator: Generator | None = None,
        reranker: Reranker | None = None,
        store: Store | None = None,
        explain_generator: Generator | None = None,
    ):
        """``generator`` reranks (with the catalog's LoRA adapter merged, when it has one);
        ``explain_generator`` writes the explanations (default: ``generator``). The reranking
        adapter is trained to answer with a letter, not to explain: with it, explanations
        claimed a history the person did not have and repeated the year ("a 1969 film from
        1969, a film from 1969"), so ``from_pretrained`` gives the explainer the base model."""
        self.store = store
        self.config = resolve_adapter(config or ChatRecConfig(), bundle.catalog.name)
        self.bundle = bundle
        self.catalog = bundle.catalog
        self.lexicon = lexicon
        r = self.config.retrieve
        self.retriever = Retriever(bundle, embedder, r.prior_weight, r.n_candidates)
        # Everything reading a message needs from the catalog, computed once.
        self.policies = qa.default_policies() if self.catalog.name == "store" else None
        self.dialogue = DialogueContext.from_catalog(self.catalog, lexicon, self.policies)
        self.embedder = embedder
        if self.dialogue.resolver is not None:
            # Several products fit a question: the closest by embedding is listed first.
            self.dialogue.resolver.similarity = self._similarity
        self.generator = generator
        self.explain_generator = explain_generator or generator
        rcfg = self.config.rerank
        if rcfg.kind == "auto":
            kind = "verbalizer" if self.config.generator.adapter else "none"
            rcfg = rcfg.model_copy(update={"kind": kind})
        self.rerank_config = rcfg
        if reranker is None and (generator is not None or rcfg.kind == "cross_encoder"):
            reranker = build_reranker(rcfg, generator)
        self.reranker = reranker
        self.explainer = Explainer(
            self.explain_generator if self.config.explain.use_llm else None,
            self.config.explain,
            self.dialogue.matcher,
            kind="film" if self.catalog.name == "movies" else "product",
            categories=tuple(sorted(self.catalog.categories())),
        )
        # Sessions in memory, least recently used dropped first; with a store and a user
        # they are also saved after every turn and reloaded from there.
        self.sessions: OrderedDict[tuple[str, str], DialogueState] = OrderedDict()
        self.profiles: OrderedDict[tuple[str, str], Profile] = OrderedDict()  # anonymous ones
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
        generator: Generator | None = None,
        llm: bool = True,
        store: Store | None = None,
        persist: bool = False,
    ) -> ChatRecommender:
        """Load (or build, when missing or stale) the catalog's bundle and the models.

        Args:
            generator: a loaded language model to share (e.g. between catalogs). When the
                catalog has a reranking adapter and ``generator`` is the base model, the base
                writes the explanations and the adapter is loaded beside it.
            llm: load the generator (config.generator) when none is given; False gives the
                fast path: retriever order and fact templates.
            store: where users' sessions, feedback and profiles persist (None: memory only).
            persist: without a ``store``, open the runtime's database (``database_url()``).
        """
        if store is None and persist:
            store = Store((runtime or RuntimeConfig()).database_url())
        config = (config or ChatRecConfig()).model_copy(update={"catalog": catalog})
        config = resolve_adapter(config, catalog)
        runtime = runtime or RuntimeConfig()
        cat, lexicon = datasets.load(catalog, runtime.cache_dir)
        embedder = embedder or SentenceEmbedder.from_config(config.embed, runtime)
        bundle = bundles.load_or_build(
            runtime.artifacts_dir, cat, embedder, config.embed, config.index, rebuild, progress
        )
        explainer: Generator | None = None
        if not llm:
            generator = None
        else:
            from chatrec.generate import TransformersGenerator

            if generator is None or getattr(generator, "adapter", None) != config.generator.adapter:
                # A shared model with another adapter (or none) would rank with the wrong weights.
                if generator is not None and getattr(generator, "adapter", None) is None:
                    explainer = generator  # the shared base model explains
                generator = TransformersGenerator.from_config(config.generator, runtime)
            if explainer is None and getattr(generator, "adapter", None):
                base = config.generator.model_copy(update={"adapter": None})
                explainer = TransformersGenerator.from_config(base, runtime)
        return cls(
            bundle, embedder, lexicon, config, generator, store=store, explain_generator=explainer
        )

    def session(self, session_id: str | None, user: str | None = None) -> DialogueState:
        """The dialogue state of a session (new when unknown). With a user and a store, a
        session saved earlier is loaded; a new one starts from the person's profile (their
        disliked items are not shown again). Another person's session id is never loaded."""
        sid = session_id or uuid.uuid4().hex
        key = (user or "", sid)
        if key in self.sessions:
            self.sessions.move_to_end(key)
            return self.sessions[key]
        state: DialogueState | None = None
        if user and self.store is not None:
            saved = self.store.session_state(sid, user)
            if saved is not None:
                state = DialogueState.from_dict(saved)
            else:
                prof = self.profile(user)
                state = DialogueState(sid, liked=list(prof.liked), rejected=list(prof.disliked))
        self.sessions[key] = state or DialogueState(sid)
        while len(self.sessions) > self.max_sessions:
            self.sessions.popitem(last=False)
        return self.sessions[key]

    def profile(self, user: str | None, session_id: str | None = None) -> Profile:
        """A person's profile (stored), or an anonymous session's (in memory)."""
        if user and self.store is not None:
            return Profile.from_dict(self.store.profile(user, self.catalog.name))
        key = ("", session_id or "")
        if key not in self.profiles:
            self.profiles[key] = Profile()
            while len(self.profiles) > self.max_sessions:
                self.profiles.popitem(last=False)
        return self.profiles[key]

    def profile_summary(self, user: str | None, session_id: str | None = None) -> str:
        """The one line the UI shows: "You like Smart Watches; budget around $300."."""
        return self.profile(user, session_id).summary(self.catalog)

    def feedback(
        self,
        session_id: str,
        item_id: str,
        value: Literal["up", "down"],
        user: str | None = None,
        k: int | None = None,
        mmr_lambda: float | None = None,
    ) -> Reply:
        """A 👍 or 👎 on an item (what the UI's buttons call).

        👎: the item is never shown again, its near-duplicates go down, and the reply is the
        request in force re-run without them (the list visibly changes). 👍: the item and its
        categories count as liked from now on; the reply thanks and keeps the list.
        Raises ValueError for an item that is not in the catalog or a value not up/down.
        """
        if value not in ("up", "down"):
            raise ValueError(f"feedback must be 'up' or 'down', not {value!r}")
        if item_id not in self.catalog:
            raise ValueError(f"no item {item_id!r} in the {self.catalog.name} catalog")
        state = self.session(session_id, user)
        title = self.catalog.get(item_id).title
        c = state.constraints
        if value == "up":
            if item_id not in state.liked:
                state.liked.append(item_id)
            turn = Turn(f"👍 {title}", "feedback", c, "", (), refs=(item_id,), feedback="positive")
            reply = Reply(self._thanks(turn), "feedback")
        else:
            if item_id not in state.rejected:
                state.rejected.append(item_id)
            exclude = tuple(dict.fromkeys([*state.rejected, *state.liked]))
            query = state.topic or self.catalog.get(item_id).document()
            turn = Turn(
                f"👎 {title}", "feedback", c, query, exclude, refs=(item_id,), feedback="negative"
            )
            lam = self.config.retrieve.mmr_lambda if mmr_lambda is None else mmr_lambda
            n = k or len(state.last_shown) or self.config.retrieve.top_k
            *_, reply = self._recommend(turn, state, n, lam, user)
        return self._finish(state, user, turn, reply, source="button")

    def sign_in(self, name: str, token: str | None = None) -> tuple[str, str]:
        """(user, token) for a person who calls themselves ``name``: a new name is theirs
        from now on (a fresh token proves it next time); a name already taken needs its
        token. Raises ValueError with a message the person can read.
        """
        user = " ".join(str(name or "").split())[:40]
        if not user or not re.fullmatch(r"[\w .'-]+", user):
            raise ValueError("Please choose a name of letters, digits, spaces, . ' or -.")
        if self.store is None:
            raise ValueError("Sign-in needs a database; this server runs without one.")
        token = token or secrets.token_urlsafe(24)
        if not self.store.claim(user, token):
            raise ValueError(
                f"The name “{user}” is already taken on this server. Please pick another one."
            )
        return user, token

    def owns(self, user: str, session_id: str) -> bool:
        """Whether ``session_id`` is free or ``user``'s (never someone else's)."""
        if self.store is None or not session_id:
            return True
        return self.store.session_owner(session_id) in (None, user)

    def authenticate(self, user: str, token: str) -> bool:
        """Whether ``token`` proves ``user`` (what every UI call checks)."""
        return self.store is not None and bool(user) and self.store.check_token(user, token)

    def popular_titles(self, n: int = 30) -> list[str]:
        """The most reviewed titles (favourites to pick from when onboarding)."""
        items = [it for it in self.catalog if not it.addon and it.review_count]
        items.sort(key=lambda it: -(it.review_count or 0))
        return list(dict.fromkeys(it.title for it in items))[:n]  # a twin's title once

    def sessions_of(self, user: str) -> list[dict[str, Any]]:
        """A person's saved sessions in this catalog, most recent first (for "resume")."""
        if self.store is None:
            return []
        return [
            {"id": x.id, "title": x.title, "updated": x.updated, "turns": x.turns}
            for x in self.store.sessions(user, self.catalog.name)
        ]

    def history_of(self, session_id: str, user: str) -> list[dict[str, Any]]:
        """The answered turns of one of ``user``'s sessions ([] when it isn't theirs)."""
        if self.store is None:
            return []
        return self.store.turns(session_id, user)

    def chat(
        self,
        message: object,
        session_id: str | None = None,
        k: int | None = None,
        mmr_lambda: float | None = None,
        user: str | None = None,
    ) -> Reply:
        """Answer one message in a session (a new one when ``session_id`` is None).

        Args:
            message: what the person typed (any input; odd input gets a sane reply).
            session_id: keeps dialogue state across calls; None starts a fresh session.
            k: items to show (default ``config.retrieve.top_k``; a number in the message wins,
                capped at ``dialogue.MAX_K``).
            mmr_lambda: relevance vs diversity for this request, 1 = pure relevance.
            user: who is chatting; with a store, the session, its turns, the feedback and the
                person's profile are saved after the turn (and survive restarts).
        """
        *_, last = self.chat_stream(message, session_id, k, mmr_lambda, user)
        return last

    def chat_stream(
        self,
        message: object,
        session_id: str | None = None,
        k: int | None = None,
        mmr_lambda: float | None = None,
        user: str | None = None,
    ) -> Iterator[Reply]:
        """Like ``chat``, as growing snapshots: the picks first, then their explanations as
        they are generated; the last snapshot (``done``) is the reply ``chat`` returns.

        The session is updated once, when the turn completes; a stream abandoned halfway
        leaves the dialogue as if the message had not been sent.
        """
        state = self.session(session_id, user)
        turn = update(state, message, self.dialogue)
        if turn.intent in ("recommend", "onboarding") or (
            turn.intent == "refine" and not state.request
        ):
            state.request = [turn.text[:200]]
        elif turn.intent in ("refine", "feedback"):
            state.request = [*state.request, turn.text[:200]][-3:]
        reply: Reply
        if turn.intent == "out_of_scope":
            reply = Reply(self._refusal(turn), turn.intent)
        elif turn.intent == "chit_chat":
            reply = Reply(self._hello(), turn.intent)
        elif turn.intent == "clarify":
            reply = Reply(self._clarify(turn, state), turn.intent)
        elif turn.intent == "product_question":
            reply = self._answer(turn, state)
        elif turn.feedback == "positive":
            reply = Reply(self._thanks(turn), turn.intent)
        else:
            lam = self.config.retrieve.mmr_lambda if mmr_lambda is None else mmr_lambda
            n = turn.k or k or self.config.retrieve.top_k
            reply = Reply("", turn.intent)
            for reply in self._recommend(turn, state, n, lam, user):
                if not reply.done:
                    yield reply.snapshot()
        yield self._finish(state, user, turn, reply)

    def _finish(
        self,
        state: DialogueState,
        user: str | None,
        turn: Turn,
        reply: Reply,
        source: str = "words",
    ) -> Reply:
        """Record a completed turn: the session, the feedback it carried and the profile.

        A hostile or off-topic turn is saved as said, but changes no profile or feedback.
        With a user and a store everything is written in one transaction; if that fails the
        person still gets the answer, and the error is logged.
        """
        state.remember(turn.text, reply.text, [r.item_id for r in reply.items])
        reply.done = True
        prof = self.profile(user, state.session_id)
        rows: list[tuple[str, int, str]] = []
        if turn.intent != "out_of_scope":
            if turn.feedback:
                value = 1 if turn.feedback == "positive" else -1
                rows = [(i, value, source) for i in turn.refs if i in self.catalog]
            for i in turn.like:
                rows.append((i, 1, "more like"))
            if turn.intent == "onboarding":
                prof.stated(turn.text, turn.constraints)
                rows += [(i, 1, "onboarding") for i in turn.refs if i in self.catalog]
            for item_id, value, _ in rows:
                (prof.like if value > 0 else prof.dislike)(item_id)
        if user and self.store is not None:
            try:
                self.store.save_turn(
                    user,
                    state.session_id,
                    self.catalog.name,
                    state.to_dict(),
                    turn.text,
                    reply.text,
                    reply.intent,
                    reply.to_dict()["items"],
                    prof.to_dict(),
                    rows,
                )
            except (StoreError, sqlite3.Error, OSError) as err:
                log.error("could not save the turn of session %s: %s", state.session_id, err)
        return reply

    def _all_seen(self, turn: Turn) -> bool:
        """Whether items fit the constraints but were all left out (shown or rejected)."""
        blocked = self.dialogue.blocked(turn.constraints)
        mask = self.retriever.mask(turn.constraints, blocked)
        return mask is None or bool(mask.any())

    def _what(self) -> str:
        return "films" if self.catalog.name == "movies" else "products"

    def _hello(self) -> str:
        examples = (
            "“an animated movie for kids” or “a thriller from the 70s”"
            if self.catalog.name == "movies"
            else "“a TV under $500” or “a laptop for travel”"
        )
        return (
            f"Hi! What are you looking for? Tell me and I'll pick {self._what()} for you, "
            f"e.g. {examples}."
        )

    def _refusal(self, turn: Turn) -> str:
        """Short, fixed replies to hostile or odd input: nothing of the message is echoed."""
        what = self._what()
        if "binary" in turn.flags:
            return "I can only read text messages. What are you looking for?"
        if "injection" in turn.flags:
            return (
                f"I can't do that. I'm here to help you find {what} in this catalog. "
                "What are you looking for?"
            )
        if "abuse" in turn.flags:
            return (
                f"Sorry this hasn't been helpful. I'm here to help you find {what} and answer "
                "questions about them; tell me what you're looking for and I'll do my best."
            )
        if "privacy" in turn.flags:
            return (
                "I can't share anything about other people's accounts, orders or history. "
                f"I'm happy to help you find {what} for yourself."
            )
        if "language" in turn.flags:
            return (
                "Sorry, I can only help in English for now. "
                f"Please tell me in English what {what} you're looking for."
            )
        return (
            f"I can't help with that: I only recommend {what} from this catalog and answer "
            "questions about them. What are you looking for?"
        )

    def _clarify(self, turn: Turn, state: DialogueState) -> str:
        """Contradictions are asked about, not guessed: nothing is recommended this turn."""
        if turn.asked == "onboarding":
            return self._onboarding_question(state.onboarding_asks)
        issues = "; ".join(turn.problems)
        kept = " (I kept your earlier request as it was.)" if state.topic else ""
        return f"I'm not sure what you want: {issues}. Could you tell me which you meant?{kept}"

    def _onboarding_question(self, n: int) -> str:
        """The first or second question to a new person whose words don't say enough yet."""
        if self.catalog.name == "movies":
            if n <= 1:
                return (
                    "Welcome! To pick films you'll like: what do you enjoy watching? A genre, "
                    "a decade, or a film you loved is plenty."
                )
            return (
                "What are you in the mood for: something funny, exciting, scary or moving? "
                "Or say “surprise me” for crowd favourites."
            )
        if n <= 1:
            return (
                "Welcome! To pick well for you: what are you shopping for (a TV, a laptop, "
                "headphones…), and roughly what budget?"
            )
        return (
            "What will you mostly use it for (gaming, work, music, movies, travel…), and is "
            "there a brand you like? Or say “surprise me” for our most popular picks."
        )

    def _lead(self, turn: Turn) -> str:
        """What to say before the picks: what was done with the message and what we ignored."""
        parts = []
        if "language" in turn.flags:
            parts.append("I work best in English; here is what I understood.")
        if "capped" in turn.flags:
            parts.append(f"I can show at most {MAX_K} picks at a time.")
        if turn.unsupported:
            parts.append(
                f"I can't check {' or '.join(turn.unsupported)} in this catalog, "
                "so I left that out."
            )
        titles = [self.catalog.get(i).title for i in turn.refs if i in self.catalog]
        if turn.feedback == "negative" and titles:
            parts.append(f"Got it, I won't suggest {_join(titles)} again.")
        elif turn.like and titles:
            parts.append(f"More like {_join(titles)}:")
        elif turn.intent == "onboarding":
            parts.append(
                "Welcome! "
                + (f"I'll keep {_join(titles)} in mind. " if titles else "")
                + "Here's a start; tell me what you think of these."
            )
        return " ".join(parts)

    def _thanks(self, turn: Turn) -> str:
        titles = [self.catalog.get(i).title for i in turn.refs if i in self.catalog]
        return (
            f"Glad you like {_join(titles)}! I'll keep it in mind. "
            "Say “more like it” for similar picks."
        )

    def _answer(self, turn: Turn, state: DialogueState) -> Reply:
        """Customer-service answers from catalog facts and store policies only (``qa.py``).

        Every number of the answer is checked against the facts it was built from; an answer
        that fails the check is never shown (the fact line of the items is, instead).
        """
        asked = turn.asked
        state.pending = ""
        items = [self.catalog.get(i) for i in turn.refs if i in self.catalog][:MAX_K]
        extra = ""
        cards: list[Item] = []
        if asked.startswith("policy:") and self.policies is not None:
            extra = self.policies.answers.get(asked.split(":", 1)[1], "")
            text = extra or "I don't have that policy written down; please ask our support team."
        elif asked == "unknowable":
            text = qa.UNKNOWABLE_ANSWER
            if len(items) == 1:
                text += " What I know about it: " + qa.fact_answer(items[0], "")
        elif turn.missing:
            extra = turn.text  # the name asked about may hold numbers ("Xbox 360")
            if not items:
                items = [
                    c.item for c in self.retriever.retrieve(turn.missing, Constraints(), (), 3)
                ]
            text = qa.not_carried(turn.missing, items)
        elif turn.options:
            options = [self.catalog.get(i) for i in turn.options if i in self.catalog]
            items = options
            listed = " ".join(map(str, range(1, len(options) + 1)))  # "1. …; 2. …"
            extra = f"{turn.text} {listed} {len(options)} {len(options) - qa.Resolver.MAX_OPTIONS}"
            text = qa.options_question(options, turn.name, asked)
            cards = options[: qa.Resolver.MAX_OPTIONS]
            state.pending = asked or "all"
        elif asked.startswith("compare:"):
            op = asked.split(":", 1)[1]
            if not items:
                # "what's the cheapest laptop you have?": over the catalog, in the categories
                cats = set(turn.constraints.categories)
                items = [it for it in self.catalog if cats & set(it.categories) and not it.addon]
            text = qa.compare_answer(op, items) or "Which products do you mean?"
        elif not items:
            if state.last_shown:
                listed = "; ".join(
                    f"{n}. {self.catalog.get(i).title}"
                    for n, i in enumerate(state.last_shown, 1)
                    if i in self.catalog
                )
                return Reply(f"Which one do you mean? {listed}", turn.intent)
            return Reply(f"Which of our {self._what()} do you mean? Tell me its name.", turn.intent)
        else:
            text = "\n".join(qa.fact_answer(it, "" if asked == "all" else asked) for it in items)
        bad = invented(text, items, extra)
        if bad:  # a bug in a template: never show a number the facts don't have
            log.error("answer with numbers not in the facts %s: %r", bad, text)
            text = "\n".join(f"{it.title}." for it in items) or "Sorry, I can't answer that."
        recs = [Recommendation(it.id, it.title, 0.0, "", it.facts()) for it in cards]
        return Reply(text, turn.intent, recs)

    def _similarity(self, text: str, ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Cosine of the question's embedding with each item's (bundle vectors)."""
        q = self.embedder.encode_query([text])[0]
        rows = [self.catalog.position(i) for i in ids]
        return self.bundle.embeddings[rows] @ q

    def wishes(self, turn: Turn, state: DialogueState) -> str:
        """What the person asked for, in their words plus the constraints in force."""
        said = "; ".join(state.request) or turn.text
        wanted = turn.constraints.describe()
        return f"{said} ({wanted})" if wanted and wanted.lower() not in said.lower() else said

    def _recommend(
        self, turn: Turn, state: DialogueState, k: int, lam: float, user: str | None = None
    ) -> Iterator[Reply]:
        """Snapshots of one recommendation reply: the picks, then explanations as they come."""
        # A film listed under two ids is one film: leaving one out leaves out both.
        exclude = self.catalog.with_twins((*turn.exclude, *self.dialogue.blocked(turn.constraints)))
        n_pool = max(4 * k, self.rerank_config.max_candidates)
        pool: list[Candidate] = self.retriever.retrieve(
            turn.query, turn.constraints, exclude, k=n_pool
        )
        pool = self._personalize(pool, self.profile(user, state.session_id), state)
        pool = self._one_per_listing(pool)  # before the rerank, so its 20 are 20 films
        wishes = self.wishes(turn, state)
        history = [
            self.catalog.get(i).title
            for i in state.history(self.rerank_config.history_titles)
            if i in self.catalog
        ]
        query = RerankQuery(wishes, tuple(history))
        pool = rerank(self.reranker, query, pool, self.rerank_config)
        vectors = self.bundle.embeddings[[c.row for c in pool]]  # (m, d)
        # Rank-based relevance for MMR: the reranked head carries fused z-scores and the tail
        # cosine scores, so only their order is comparable.
        relevance = np.linspace(1.0, 0.0, len(pool)) if pool else np.zeros(0)
        picked = mmr(relevance, vectors, k, lam) if pool else []
        cands = [pool[i] for i in picked]
        lead = self._lead(turn)
        if turn.notice == "long":
            lead = ("Your message was very long, so I read only its first part. " + lead).strip()
        if not cands:
            yield Reply(self._nothing(turn, lead), turn.intent)
            return
        items = [
            Recommendation(
                item_id=c.item.id,
                title=c.item.title,
                score=round(c.score, 4),
                explanation="",
                attributes=c.item.facts(),
            )
            for c in cands
        ]
        reply = Reply("", turn.intent, items, done=False)
        reply.text = self._text(turn, lead, items)
        yield reply
        picks = [c.item for c in cands]
        for ev in self.explainer.stream(wishes, history, picks, turn.constraints):
            item = items[ev.index]
            if ev.final:
                item.explanation, item.source = ev.text, ev.source
            else:
                item.explanation += ev.text
                item.source = "llm"
                reply.streaming_explanation = True
            reply.text = self._text(turn, lead, items)
            yield reply
        reply.done = True
        yield reply

    def _one_per_listing(self, pool: list[Candidate]) -> list[Candidate]:
        """The best-ranked candidate of each listing: the same film never shows twice."""
        seen: set[tuple[Any, ...]] = set()
        out = []
        for c in pool:
            key = self.catalog.listing(c.item.id)
            if key not in seen:
                seen.add(key)
                out.append(c)
        return out

    def _personalize(
        self, pool: list[Candidate], prof: Profile, state: DialogueState
    ) -> list[Candidate]:
        """Feedback changes the order: near-duplicates of disliked items go to the bottom,
        items in liked categories move up (``Profile.adjust``)."""
        disliked = [
            i for i in dict.fromkeys([*prof.disliked, *state.rejected]) if i in self.catalog
        ]
        liked = list(dict.fromkeys([*prof.liked, *state.liked]))
        if not pool or not (disliked or liked):
            return pool
        view = Profile(liked=liked, disliked=disliked)
        emb = self.bundle.embeddings
        rows = [self.catalog.position(i) for i in disliked]
        scores = view.adjust(
            self.catalog,
            [c.item.id for c in pool],
            np.array([c.score for c in pool]),
            emb[[c.row for c in pool]],
            emb[rows] if rows else np.zeros((0, emb.shape[1]), emb.dtype),
        )
        order = np.argsort(-scores, kind="stable")
        return [replace(pool[i], score=float(scores[i])) for i in order]

    def _nothing(self, turn: Turn, lead: str) -> str:
        wanted = turn.constraints.describe()
        if turn.exclude and self._all_seen(turn):
            text = (
                "You've already seen everything I have that fits"
                + (f" ({wanted})" if wanted else "")
                + ". Want to loosen a constraint or try something else?"
            )
        else:
            text = (
                f"I found nothing in the {self.catalog.name} catalog that fits"
                + (f" {wanted}" if wanted else " that")
                + ". Could you loosen a constraint, such as the price or the years?"
            )
        return f"{lead} {text}".strip()

    def _text(self, turn: Turn, lead: str, items: list[Recommendation]) -> str:
        wanted = turn.constraints.describe()
        noun = "pick" if len(items) == 1 else "picks"
        head = f"Here {'is' if len(items) == 1 else 'are'} {len(items)} {noun}"
        head += f" ({wanted}):" if wanted else ":"
        lines = [f"{lead} {head}".strip()]
        for n, r in enumerate(items, 1):
            it = self.catalog.get(r.item_id)
            facts = [price_text(it)] if it.price is not None else []
            if it.rating is not None:
                facts.append(f"{it.rating:g}★")
            lines.append(f"{n}. {r.title}" + (f" — {', '.join(facts)}" if facts else ""))
            if r.explanation:
                lines.append(f"   {r.explanation}")
        return "\n".join(lines)
