"""``ChatRecommender``: the one facade the UI and the CLI call. It composes the stages and
owns nothing else.

One turn: message -> ``dialogue.update`` (a typed ``Turn``) -> retrieve (FAISS with the one
filter stage inside the search) -> personalize (feedback) -> rerank (the language model reads
the top 20 together, fused with the retriever's score) -> the picks (``picks``: MMR; a 👎
swaps in place; "more like" widens) -> explain (one batch, streamed, checked against the
item's facts) -> ``Reply`` of typed ``Recommendation``s; product questions go to
``qa.answer``; ``Sessions`` keeps the dialogue state and saves the turn; the words around
the picks come from ``replies`` and the catalog's card. Every item comes from the
catalog bundle: the model orders and explains candidates, it never names them. Models are
loaded once (``from_pretrained``) and injected; without a generator the turn uses the
retriever's order and fact templates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from chatrec import bundle as bundles
from chatrec import datasets, picks, qa, replies
from chatrec.catalog import Item
from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.constraints import Lexicon
from chatrec.dialogue import DialogueContext, judge, update
from chatrec.embed import Embedder, SentenceEmbedder
from chatrec.evidence import CoLiked, Evidencer, from_movielens
from chatrec.explain import Explainer, Vocabulary
from chatrec.generate import Generator, language_models
from chatrec.load import Gates, process_gates
from chatrec.models import resolve_adapter
from chatrec.profile import Profile, personalize
from chatrec.rerank import Reranker, RerankQuery, build_reranker, rerank
from chatrec.retrieve import Retriever, one_per_listing
from chatrec.sessions import Sessions
from chatrec.store import Store
from chatrec.types import (
    Candidate,
    Constraints,
    DialogueState,
    Recommendation,
    Reply,
    Retrieving,
    Turn,
)
from chatrec.understand import read


class ChatRecommender:
    """Chat with one catalog. Sessions live in memory (and in the store, when there is one)."""

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
        gates: Gates | None = None,
        coliked: CoLiked | None = None,
    ):
        """``generator`` reranks when ``rerank.kind`` is 'verbalizer' (off by default: it did
        not beat its retriever); ``explain_generator`` writes the explanations (default:
        ``generator``): ``from_pretrained`` gives it the explainer's adapter
        (``models.language_models``; the reranking adapter only learned letters).
        ``gates`` bound the CPU-heavy stages (default: the process's; ``chatrec.load``).
        ``coliked``: who loved what (MovieLens training interactions), for the evidence."""
        self.store = store
        self.config = resolve_adapter(config or ChatRecConfig(), bundle.catalog.name)
        self.bundle, self.catalog, self.lexicon = bundle, bundle.catalog, lexicon
        self.info = datasets.catalog_info(self.catalog.name)
        r = self.config.retrieve
        self.retriever = Retriever(bundle, embedder, r.prior_weight, r.n_candidates)
        self.policies = (
            qa.Policies.load(datasets.data_dir() / self.info.policies)
            if self.info.policies
            else None
        )
        # Everything reading a message needs from the catalog, computed once.
        self.dialogue = DialogueContext.from_catalog(
            self.catalog, lexicon, self.policies, self.retriever.filter.specs
        )
        parser = read.load_parser(
            self.config.understand.parser, self.catalog.name, self.info, self.dialogue
        )
        self.dialogue = replace(self.dialogue, parser=parser, info=self.info)
        self.embedder = embedder
        if self.dialogue.resolver is not None:
            # Several products fit a question: the closest by embedding is listed first.
            self.dialogue.resolver.similarity = self._similarity
        self.generator = generator
        self.explain_generator = explain_generator or generator
        rcfg = self.config.rerank
        if rcfg.kind == "auto":  # off: it did not beat its retriever (``RerankConfig.kind``)
            rcfg = rcfg.model_copy(update={"kind": "none"})
        self.rerank_config = rcfg
        if reranker is None and (generator is not None or rcfg.kind == "cross_encoder"):
            reranker = build_reranker(rcfg, generator)
        self.reranker = reranker
        self.gates = gates or process_gates()
        self.explainer = Explainer(
            self.explain_generator if self.config.explain.use_llm else None,
            self.config.explain,
            self.dialogue.matcher,
            kind=self.info.noun,
            categories=tuple(sorted(self.catalog.categories())),
            vocabulary=Vocabulary.of(self.catalog),
            gate=self.gates.explain,
            wait=self.gates.explain_wait,
        )
        self.sessions = Sessions(self.catalog, store)
        self.evidence = Evidencer(self.catalog, coliked, self.retriever)

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
            generator: a loaded language model to share (e.g. between catalogs), reused
                where its adapter is the one a role needs (``models.language_models``).
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
        if llm:  # a shared model (another catalog's) is reused where its adapter fits
            generator, explainer = language_models(config, runtime, generator)
        else:
            generator = None
        coliked = from_movielens(cat, runtime.cache_dir)
        return cls(
            bundle, embedder, lexicon, config, generator, None, store, explainer, coliked=coliked
        )

    # --- people and their sessions (``Sessions``) -----------------------------------------
    def session(self, session_id: str | None, user: str | None = None) -> DialogueState:
        """The dialogue state of a session (new when unknown; a saved one with a user)."""
        return self.sessions.state(session_id, user)

    def profile(self, user: str | None, session_id: str | None = None) -> Profile:
        """A person's profile (stored), or an anonymous session's (in memory)."""
        return self.sessions.profile(user, session_id)

    def profile_summary(self, user: str | None, session_id: str | None = None) -> str:
        """The one line the UI shows: "You like Smart Watches; budget around $300."."""
        return self.profile(user, session_id).summary(self.catalog)

    def sign_in(
        self,
        name: str,
        token: str | None = None,
        password: str | None = None,
        client: str = "",
        guest: str | None = None,
    ) -> tuple[str, str]:
        """(user, token) for ``name``; raises ValueError with a message the person can read.
        ``guest``: the guest this browser was (already authenticated): their chats (every
        catalog), feedback and profiles become the person's, in one transaction."""
        return self.sessions.sign_in(name, token, password, client, guest)

    def forget(self, user: str) -> None:
        """Drop this recommender's cached dialogue states and profiles of ``user`` (after a
        sign-in moved a guest's chats: the next call reads the store)."""
        self.sessions.forget(user)

    def person(self, name: str) -> str:
        """The stored spelling of a person's name (names compare case-insensitively)."""
        return self.sessions.person(name)

    def guest(self) -> tuple[str, str]:
        """A new guest's (name, token); nothing is stored before their first message."""
        return self.sessions.guest()

    def owns(self, user: str, session_id: str) -> bool:
        """Whether ``session_id`` is free or ``user``'s (never someone else's)."""
        return self.sessions.owns(user, session_id)

    def authenticate(self, user: str, token: str) -> bool:
        """Whether ``token`` proves ``user`` (what every UI call checks)."""
        return self.sessions.authenticate(user, token)

    def prune_guests(self, idle_days: float) -> dict[str, int]:
        """Remove guests idle for ``idle_days`` with their chats; rows removed per table."""
        return self.sessions.prune_guests(idle_days)

    def sessions_of(self, user: str) -> list[dict[str, Any]]:
        """A person's saved sessions in this catalog, most recent first (for "resume")."""
        return self.sessions.saved(user)

    def history_of(self, session_id: str, user: str) -> list[dict[str, Any]]:
        """The answered turns of one of ``user``'s sessions ([] when it isn't theirs)."""
        return self.sessions.turns(session_id, user)

    def popular_titles(self, n: int = 30) -> list[str]:
        """The most reviewed titles (favourites to pick from when onboarding)."""
        return self.catalog.popular_titles(n)

    # --- turns ----------------------------------------------------------------------------
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
                capped at ``types.MAX_K``).
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
        before = state.constraints  # a budget named now becomes the profile's (``record``)
        turn = update(state, message, self.dialogue)
        if turn.intent in ("recommend", "onboarding") or (
            turn.intent == "refine" and not state.request
        ):
            state.request = [turn.text[:200]]
        elif turn.intent in ("refine", "feedback"):
            state.request = [*state.request, turn.text[:200]][-3:]
        answer = replies.answer(
            turn,
            state,
            self.catalog,
            self.info,
            self.bundle.embeddings,
            self.policies,
            self._related,
            self.evidence,
        )
        if isinstance(answer, Reply):
            reply = answer
        else:
            lam = self.config.retrieve.mmr_lambda if mmr_lambda is None else mmr_lambda
            n = turn.k or k or self.config.retrieve.top_k
            reply = Reply("", turn.intent)
            for reply in self._recommend(answer, state, n, lam, user):
                if not reply.done:
                    yield reply.snapshot()
        yield self.sessions.record(state, user, turn, reply, "words", before)

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

        👎: the item is never shown again and its near-duplicates go down; the reply is the list
        shown with the item swapped in place for the best new pick (the others keep their
        place; when nothing else fits, the list is shorter and the reply says so). 👍: the
        item and its categories count as liked from now on; the reply thanks and keeps the list.
        Raises ValueError for an item that is not in the catalog or a value not up/down.
        """
        if value not in ("up", "down"):
            raise ValueError(f"feedback must be 'up' or 'down', not {value!r}")
        if item_id not in self.catalog:
            raise ValueError(f"no item {item_id!r} in the {self.catalog.name} catalog")
        state = self.session(session_id, user)
        turn = judge(state, self.catalog.get(item_id), value == "up")
        if turn.feedback == "positive":
            reply = Reply(replies.thanks(turn, self.catalog), "feedback")
        else:
            lam = self.config.retrieve.mmr_lambda if mmr_lambda is None else mmr_lambda
            n = k or len(state.last_shown) or self.config.retrieve.top_k
            *_, reply = self._recommend(turn, state, n, lam, user)
        return self.sessions.record(state, user, turn, reply, "button")

    def _related(self, name: str) -> list[Item]:
        """What we carry that is closest to a product we don't ("Xbox 360")."""
        return [c.item for c in self.retriever.retrieve(name, Constraints(), (), 3)]

    def _similarity(self, text: str, ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Cosine of the question's embedding with each item's (bundle vectors)."""
        q = self.embedder.encode_query([text])[0]
        rows = [self.catalog.position(i) for i in ids]
        return self.bundle.embeddings[rows] @ q

    def _candidates(
        self, turn: Retrieving, state: DialogueState, k: int, prof: Profile, query: RerankQuery
    ) -> list[Candidate]:
        """Retrieve, personalize and rerank: the pool MMR picks ``k`` from, best first."""
        # A film listed under two ids is one film: leaving one out leaves out both.
        exclude = self.catalog.with_twins(turn.exclude)
        n_pool = max(4 * k, self.rerank_config.max_candidates)
        pool = self.retriever.retrieve(turn.query, turn.constraints, exclude, k=n_pool)
        pool = personalize(pool, prof, state, self.catalog, self.bundle.embeddings)
        liked = [*prof.liked, *state.liked]
        pool = self.evidence.boost(pool, liked)
        pool = one_per_listing(pool, self.catalog)  # before the rerank: its 20 are 20 films
        if self.rerank_config.evidence and self.reranker is not None:
            head = pool[: self.rerank_config.max_candidates]
            query = replace(query, evidence=self.evidence.rerank_lines(head, liked))
        return rerank(self.reranker, query, pool, self.rerank_config)

    def _recommend(
        self, turn: Retrieving, state: DialogueState, k: int, lam: float, user: str | None = None
    ) -> Iterator[Reply]:
        """Snapshots of one recommendation reply: the picks, then explanations as they come."""
        ids = state.history(self.rerank_config.history_titles)
        history = [self.catalog.get(i).title for i in ids if i in self.catalog]
        wishes = replies.wishes(state.request, turn.text, turn.constraints)
        with self.gates.picks.hold():  # never behind anybody's explanations (``load``)
            prof = self.profile(user, state.session_id)
            query = RerankQuery(wishes, tuple(history))

            def pool(t: Retrieving, n: int) -> list[Candidate]:
                return self._candidates(t, state, n, prof, query)

            vectors = self.bundle.embeddings
            turn, cands, note = picks.choose(turn, state, k, lam, vectors, pool, self.retriever)
        lead = " ".join(p for p in (replies.lead(turn, self.catalog), note) if p)
        if not cands:
            all_seen = bool(turn.exclude) and self._all_seen(turn)
            yield Reply(replies.nothing(turn, lead, self.catalog, all_seen), turn.intent)
            return
        liked = [*prof.liked, *state.liked]
        evidence = self.evidence.gather(cands, liked, turn.constraints, state.request)
        items = [Recommendation.pick(c, e) for c, e in zip(cands, evidence, strict=True)]
        reply = Reply(replies.picks(turn, lead, items, self.catalog), turn.intent, items, False)
        yield reply
        picked = [c.item for c in cands]
        for ev in self.explainer.stream(wishes, history, picked, turn.constraints, evidence):
            item = items[ev.index]
            if ev.final:
                item.explanation, item.source, item.tries = ev.text, ev.source, ev.tries
            else:  # a restart drops a rejected text the model writes again
                item.explanation = ev.text if ev.restart else item.explanation + ev.text
                item.source = "llm"
                reply.streaming_explanation = True
            reply.text = replies.picks(turn, lead, items, self.catalog)
            yield reply
        reply.done = True
        yield reply

    def _all_seen(self, turn: Turn) -> bool:
        """Whether items fit the constraints but were all left out (shown or rejected)."""
        mask = self.retriever.filter.mask(turn.constraints)
        return mask is None or bool(mask.any())
