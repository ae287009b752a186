"""What the page's events do: plain methods of ``Handlers``, callable without a browser.

Talks only to ``chatrec.ChatRecommender``: one per catalog (``Recommenders``), loaded on
first use, sharing one embedder, one language model and one database. Who a person is: the
name they give, proved on every call by a token their browser keeps (the ``ident`` dict);
with Gradio's password login (``request.username``) the login names them instead. Every
handler checks that proof (``Handlers.identity``) before reading or writing anything, so
neither the UI nor the API reaches another person's chats or profile; a call whose proof
fails gets nothing of anyone's. Errors reach the person as one friendly line (``SORRY``);
the details go to the server log.

One turn at a time per browser tab, in order: a message sent, a card's button pressed or an
example chosen while a reply is still streaming waits in ``Waiting`` (shown as a queued
bubble) and runs right after it; nothing the person sent or typed is dropped.

Handlers return (or stream) their values in the order of the ``layout.Layout`` output lists:
``page_out`` (``page``, ``restore``, ``sign_in``, ``switch`` and its three events) and
``turn_out`` (``say``, ``onboard``, ``click``'s handlers); ``chat_api`` streams
(Markdown, identity) for ``/chat``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from chatrec import GUEST_PREFIX, ChatRecommender, Reply, StoreWriteError, in_passing_thread
from ui.edge import ChatCall, check_chat
from ui.layout import WIDE
from ui.render import (
    CATALOGS,
    DEFAULT_CATALOG,
    EXAMPLES,
    SLOTS,
    bubbles,
    cards,
    escape,
    examples,
    placeholder,
    profile_line,
    render_reply,
    session_choices,
    switch_hint,
    welcome,
    who_line,
)

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again."
# ``chats``: each catalog's current chat in this browser ("store=<id>;movies=<id>"), so that
# switching catalog and back finds the chat that was open there.
NO_IDENTITY: dict[str, str] = {
    "user": "",
    "token": "",
    "session": "",
    "catalog": DEFAULT_CATALOG,
    "chats": "",
}
TURN_OUTPUTS = 5 + 2 * SLOTS  # chatbot, identity, picks, profile, chats, the card slots

# One turn's work on the person's recommender and checked identity: a stream of replies.
Act = Callable[[ChatRecommender, dict[str, str]], Iterator[Reply]]


class Recommenders:
    """Loads each catalog's recommender once, on first use, sharing embedder, LM and database."""

    def __init__(
        self,
        factory: Callable[..., ChatRecommender] | None = None,
        **kwargs: Any,
    ):
        self.factory = factory or ChatRecommender.from_pretrained
        self.kwargs = kwargs  # runtime, llm, persist, ...
        self._loaded: dict[str, ChatRecommender] = {}
        self._lock = threading.Lock()

    def loaded(self) -> list[ChatRecommender]:
        """The recommenders loaded so far."""
        with self._lock:
            return list(self._loaded.values())

    def get(self, catalog: str) -> ChatRecommender:
        if catalog not in CATALOGS:
            raise ValueError(f"unknown catalog {catalog!r}")
        with self._lock:
            if catalog not in self._loaded:
                shared = next(iter(self._loaded.values()), None)
                kwargs = dict(self.kwargs)
                if shared is not None:  # one embedder, language model and database for all
                    kwargs["embedder"] = shared.embedder
                    # The explainer's model; a catalog that ranks with its own adapter loads
                    # that beside it (``models.language_models``).
                    kwargs["generator"] = shared.explain_generator
                    kwargs["llm"] = shared.explain_generator is not None
                    kwargs["store"] = shared.store
                # In a passing thread: no thread that lives on keeps an OpenMP pool from the
                # load, which would slow every turn's decoding (``load.in_passing_thread``).
                self._loaded[catalog] = in_passing_thread(lambda: self.factory(catalog, **kwargs))
            return self._loaded[catalog]


class Denied(Exception):
    """The call does not prove who it is for: nothing is read or written."""


def _as_identity(ident: Any) -> dict[str, Any]:
    """``ident`` over the defaults, unchecked (a browser may send anything)."""
    return {**NO_IDENTITY, **(ident if isinstance(ident, dict) else {})}


def _chats(ident: dict[str, str]) -> dict[str, str]:
    """Each catalog's current chat in this browser (``NO_IDENTITY``'s ``chats``)."""
    pairs = (p.split("=", 1) for p in str(ident.get("chats") or "").split(";") if "=" in p)
    return {c: s for c, s in pairs if c in CATALOGS and s}


def _at(ident: dict[str, str], session: str) -> dict[str, str]:
    """``ident`` in ``session`` of its catalog, remembered as that catalog's current chat."""
    chats = {**_chats(ident), ident["catalog"]: session}
    kept = ";".join(f"{c}={s}" for c, s in chats.items() if s)
    return {**ident, "session": session, "chats": kept}


@dataclass(frozen=True)
class Step:
    """One turn a person asked for: what the chat shows for it and what it runs. A typed one
    (not a card's ``button``) may call for a hint to switch catalog."""

    shown: str
    act: Act
    rejected: str = ""  # a 👎's item: off the cards even when no replacement comes
    button: bool = False  # a card's button (pressed twice in a row: once)

    def same(self, other: Step) -> bool:
        return (self.shown, self.rejected) == (other.shown, other.rejected)


class Waiting:
    """The turns each browser tab has asked for and not yet started, and the one it is
    running: a tab's turns run one at a time, in the order they were asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Step]] = {}
        self._running: dict[str, Step] = {}

    def add(self, tab: str, step: Step) -> bool:
        """Queue ``step``; True when the caller is to run the tab's turns (none running).
        A card's button pressed again while its turn waits or runs is pressed once."""
        with self._lock:
            queue = self._queues.setdefault(tab, deque())
            last = queue[-1] if queue else self._running.get(tab)
            if step.button and last is not None and last.same(step):
                return False
            queue.append(step)
            if tab in self._running:
                return False
            self._running[tab] = step
            return True

    def next(self, tab: str) -> Step | None:
        """The tab's next turn, or None: nothing waits and the tab is free again."""
        with self._lock:
            queue = self._queues.get(tab)
            if queue:
                self._running[tab] = queue.popleft()
                return self._running[tab]
            self._queues.pop(tab, None)
            self._running.pop(tab, None)
            return None

    def shown(self, tab: str) -> list[str]:
        with self._lock:
            return [s.shown for s in self._queues.get(tab, ())]

    def drop(self, tab: str) -> None:
        """The tab went away mid-turn: forget what it queued."""
        with self._lock:
            self._queues.pop(tab, None)
            self._running.pop(tab, None)


def _tab(request: gr.Request | None, ident: Any) -> str:
    """The browser tab a call comes from (Gradio's session), else the person's name."""
    tab = getattr(request, "session_hash", None) if request is not None else None
    return str(tab or _as_identity(ident)["user"] or "local")


def _queued(msgs: list[dict], waiting: list[str]) -> list[dict]:
    """``msgs`` and, after them, the messages waiting for this reply, marked as queued."""
    return msgs + [
        {"role": "user", "content": f"{escape(text)}  \n_(queued: sent after this reply)_"}
        for text in waiting
    ]


def _say(message: str, lam: float) -> Act:
    def act(rec: ChatRecommender, i: dict[str, str]) -> Iterator[Reply]:
        return rec.chat_stream(message, i["session"], mmr_lambda=lam, user=i["user"])

    return act


class Handlers:
    """The event handlers over ``recs``; the method names are the events' (private) names."""

    def __init__(self, recs: Recommenders):
        self.recs = recs
        self.waiting = Waiting()

    # --- who is calling, and the page they see ------------------------------------------
    def identity(self, ident: Any, request: gr.Request | None) -> dict[str, str]:
        """The checked identity of a call (a fresh guest when it has none).

        Raises:
            Denied: it names someone but does not prove it.
        """
        ident = {k: str(v or "") for k, v in _as_identity(ident).items() if k in NO_IDENTITY}
        if ident["catalog"] not in CATALOGS:
            ident["catalog"] = DEFAULT_CATALOG
        rec = self.recs.get(ident["catalog"])
        login = getattr(request, "username", None) if request is not None else None
        if login:  # Gradio's password login names the person: no token needed
            if ident["user"] != login:
                ident.update(user=str(login), token="", session="", chats="")
            return ident
        if ident["user"] and rec.authenticate(ident["user"], ident["token"]):
            return ident
        if ident["user"]:
            raise Denied
        # A guest: a signed name, nothing stored until they send a message.
        ident["user"], ident["token"] = rec.guest()
        ident["session"], ident["chats"] = "", ""
        return ident

    def sidebar(self, rec: ChatRecommender, ident: dict[str, str]) -> tuple[Any, Any, Any]:
        """Who is chatting, their profile line, and their chats in this catalog."""
        sessions = session_choices(rec.sessions_of(ident["user"]), ident["session"])
        return who_line(ident["user"]), profile_line(rec.profile_summary(ident["user"])), sessions

    def history(self, rec: ChatRecommender, ident: dict[str, str]) -> tuple[list[dict], list[dict]]:
        """The chat bubbles of the person's current session and its last list of picks."""
        return bubbles(rec.history_of(ident["session"], ident["user"]) if ident["session"] else [])

    def page(self, ident: dict[str, str], note: str = "") -> list[Any]:
        """Everything the page shows for a checked identity (sign-in, reload, switching chats)."""
        rec = self.recs.get(ident["catalog"])
        msgs, last = self.history(rec, ident)
        if note:
            msgs.append({"role": "assistant", "content": note})
        who, prof, sess = self.sidebar(rec, ident)
        return [ident, who, prof, sess, gr.update(value=ident["catalog"]), msgs, last, *cards(last)]

    def dress(self, catalog: str) -> list[Any]:
        """What ``catalog`` shows around the chat: the welcome of an empty chat, the message
        box's hint, and its example requests (one per button, ``layout.Chat.tries``)."""
        catalog = catalog if catalog in CATALOGS else DEFAULT_CATALOG
        shown = examples(catalog)
        tries = [
            gr.update(value=shown[n], visible=True) if n < len(shown) else gr.update(visible=False)
            for n in range(EXAMPLES)
        ]
        chat = gr.update(placeholder=welcome(catalog))
        return [chat, gr.update(placeholder=placeholder(catalog)), *tries]

    def restore(self, ident: Any, request: gr.Request) -> list[Any]:
        try:
            return self.page(self.identity(ident, request))
        except Denied:
            fresh = self.identity(None, request)
            note = "Your saved sign-in no longer matches; you are chatting as a guest."
            return self.page(fresh, note)
        except Exception:
            log.exception("restoring the page failed")
            return self.page(self.identity(None, request), SORRY)

    def fit(self, width: Any) -> tuple[Any, Any]:
        """The menu and the onboarding form: open beside the chat on a wide screen, closed
        above it on a phone (the chat comes first there)."""
        try:
            wide = float(width) >= WIDE
        except (TypeError, ValueError):
            wide = True
        return gr.update(open=wide), gr.update(open=wide)

    def sign_in(self, name: str, password: str, ident: Any, request: gr.Request) -> list[Any]:
        """Sign in as ``name``; a guest's chats, profile and feedback become the person's."""
        try:
            old = self.identity(ident, request)
        except Denied:
            old = self.identity(None, request)
        rec = self.recs.get(old["catalog"])
        client = getattr(getattr(request, "client", None), "host", "") or ""
        guest = old["user"] if old["user"].startswith(GUEST_PREFIX) else None
        try:
            # This browser's token: signing in again with one's own name must work.
            token = None if guest else old["token"] or None
            user, token = rec.sign_in(name, token, password, client, guest=guest)
        except ValueError as err:
            base = self.page(old)
            base[5] = [*base[5], {"role": "assistant", "content": str(err)}]
            return base
        except Exception:
            log.exception("sign-in failed")
            return self.page(old, SORRY)
        for loaded in self.recs.loaded():
            for who in {user, *([guest] if guest else [])}:
                loaded.forget(who)
        fresh = {**old, "user": user, "token": token}
        if not guest:  # someone else's browser chats are not this person's
            fresh = {**fresh, "session": "", "chats": ""}
        session = fresh["session"] if fresh["session"] and rec.owns(user, fresh["session"]) else ""
        if not session:  # their latest chat here, selected in "Your chats"
            session = next((s["id"] for s in rec.sessions_of(user)), "")
        note = f"Welcome, {escape(user)}! Tell me what you like, or ask me anything."
        return self.page(_at(fresh, session), note)

    def switch(
        self, ident: Any, session: str | None, catalog: str, request: gr.Request
    ) -> list[Any]:
        """Open one of the person's chats (None: a new one) in ``catalog``; a catalog switched
        to opens the chat that was open there in this browser (else the latest one)."""
        try:
            ident = self.identity(ident, request)
        except Denied:
            return self.restore(None, request)
        if catalog in CATALOGS and catalog != ident["catalog"]:
            ident = {**ident, "catalog": catalog}
            rec = self.recs.get(catalog)
            kept = _chats(ident).get(catalog, "")
            ids = [s["id"] for s in rec.sessions_of(ident["user"])]
            return self.page(_at(ident, kept if kept in ids else next(iter(ids), "")))
        ids = {s["id"] for s in self.recs.get(ident["catalog"]).sessions_of(ident["user"])}
        return self.page(_at(ident, session if session in ids else ""))

    def open_chat(self, i: Any, s: str | None, request: gr.Request) -> list[Any]:
        return self.switch(i, s, "", request)

    def new_chat(self, i: Any, request: gr.Request) -> list[Any]:
        return self.switch(i, None, "", request)

    def change_catalog(self, i: Any, c: str, request: gr.Request) -> list[Any]:
        return self.switch(i, None, c, request)

    def favourites(self, catalog: str) -> Any:
        """The onboarding's favourites to pick from: the catalog's most popular titles."""
        rec = self.recs.get(catalog if catalog in CATALOGS else DEFAULT_CATALOG)
        return gr.update(choices=rec.popular_titles(30), value=[])

    # --- turns: a message, a click, the API ---------------------------------------------
    def turn(
        self,
        msgs: list[dict] | None,
        ident: Any,
        request: gr.Request | None,
        act: Act,
        shown: str,
        full: bool = False,
    ) -> Iterator[tuple[list[dict], dict[str, str], list[dict]]]:
        """Run one turn (a message or a click) and stream (bubbles, identity, picks)."""
        msgs = list(msgs or [])
        try:
            ident = self.identity(ident, request)
        except Denied:
            yield [*msgs, {"role": "assistant", "content": "Please reload the page."}], {}, []
            return
        owned = ident["session"] and self.recs.get(ident["catalog"]).owns(
            ident["user"], ident["session"]
        )
        ident = _at(ident, ident["session"] if owned else uuid.uuid4().hex)
        msgs.append({"role": "user", "content": escape(shown)})
        msgs.append({"role": "assistant", "content": "…"})
        items: list[dict] = []
        try:
            rec = self.recs.get(ident["catalog"])
            for reply in act(rec, ident):
                items = reply.to_dict()["items"]
                msgs[-1] = {"role": "assistant", "content": render_reply(reply, full)}
                yield msgs, ident, items
        except StoreWriteError as err:  # answered but not saved: the person must know
            msgs[-1] = {"role": "assistant", "content": str(err)}
            yield msgs, ident, []
        except Exception:  # the person sees a friendly line; the details go to the server log
            log.exception("chat turn failed")
            msgs[-1] = {"role": "assistant", "content": SORRY}
            yield msgs, ident, items

    def chat_api(
        self, message: Any, catalog: Any, mmr_lambda: Any, ident: Any, request: gr.Request
    ) -> Iterator[tuple[str, dict[str, str]]]:
        """The public endpoint: one message, the reply streamed as Markdown, and the identity
        to send with the next message (a new caller is a fresh guest). Arguments that fail
        ``ui.edge.ChatCall`` get one sentence saying why, and nothing is run or stored."""
        call = check_chat(message, catalog, mmr_lambda, ident, CATALOGS)
        if isinstance(call, str):
            yield call, ident if isinstance(ident, dict) else {}
            return
        yield from self._chat_call(call, request)

    def _chat_call(
        self, call: ChatCall, request: gr.Request | None
    ) -> Iterator[tuple[str, dict[str, str]]]:
        ident = {**NO_IDENTITY, **(call.identity.model_dump() if call.identity else {})}
        if call.identity is None or call.catalog != ident["catalog"]:
            ident = {**ident, "catalog": call.catalog, "session": ""}
        act = _say(call.message, call.mmr_lambda)
        for msgs, who, _ in self.turn([], ident, request, act, call.message, full=True):
            yield msgs[-1]["content"], who

    def run(
        self,
        step: Step,
        msgs: list[dict],
        ident: Any,
        picks: list[dict],
        request: gr.Request | None,
    ) -> Iterator[list[Any]]:
        """Queue ``step`` for this tab and, unless a turn of the tab is running (which then
        runs it next), run the tab's turns in order, streaming ``turn_out``'s values. The
        picks panel keeps the last list when a reply has none (an answer about "the second
        one" must not hide the cards)."""
        tab = _tab(request, ident)
        if not self.waiting.add(tab, step):
            yield [gr.update()] * TURN_OUTPUTS  # the running turn shows it as queued
            return
        out_msgs, who, shown = list(msgs or []), ident, list(picks or [])
        try:
            while (now := self.waiting.next(tab)) is not None:
                start, before, caller = len(out_msgs), out_msgs, who
                for out_msgs, who, items in self.turn(before, caller, request, now.act, now.shown):
                    shown = items or [p for p in shown if p.get("item_id") != now.rejected]
                    queued = _queued(out_msgs, self.waiting.shown(tab))
                    yield [queued, who, shown, gr.update(), gr.update(), *cards(shown)]
                hint = switch_hint(now.shown, who["catalog"]) if who and not now.button else ""
                if hint and len(out_msgs) > start:
                    last = out_msgs[-1]
                    out_msgs[-1] = {**last, "content": f"{last['content']}\n\n{hint}"}
                queued = _queued(out_msgs, self.waiting.shown(tab))
                yield [queued, who, shown, *self.after(who), *cards(shown)]
                if not who:  # the identity failed: nothing more runs for this tab
                    self.waiting.drop(tab)
                    return
        except BaseException:  # the tab went away, or a turn failed: the tab is free again
            self.waiting.drop(tab)
            raise

    def say(
        self,
        message: str,
        msgs: list[dict],
        ident: Any,
        lam: float,
        picks: list[dict],
        request: gr.Request,
    ) -> Iterator[list[Any]]:
        """A typed message (cleared from the box in the browser as it was sent)."""
        text = str(message or "").strip()
        if not text:
            yield [gr.update()] * TURN_OUTPUTS
            return
        yield from self.run(Step(text, _say(text, lam)), msgs, ident, picks, request)

    def after(self, ident: dict[str, str]) -> tuple[Any, Any]:
        """The profile line and chats once a turn is done (a turn can change both)."""
        if not ident:
            return gr.update(), gr.update()
        rec = self.recs.get(ident["catalog"])
        _, prof, sess = self.sidebar(rec, ident)
        return prof, sess

    def click(self, slot: int, action: str) -> Callable[..., Iterator[list[Any]]]:
        """The handler of a card's button: ``action`` is "up", "down" or "more"."""

        def handler(
            msgs: list[dict], ident: Any, picks: list[dict], lam: float, request: gr.Request
        ) -> Iterator[list[Any]]:
            if slot >= len(picks or []):
                yield [gr.update()] * TURN_OUTPUTS
                return
            act, shown = _click_act(slot, picks[slot], action, lam)
            rejected = picks[slot].get("item_id", "") if action == "down" else ""
            step = Step(shown, act, rejected=rejected, button=True)
            yield from self.run(step, msgs, ident, picks, request)

        return handler

    def onboard(
        self,
        tastes: str,
        favourites: list[str],
        msgs: list[dict],
        ident: Any,
        lam: float,
        picks: list[dict],
        request: gr.Request,
    ) -> Iterator[list[Any]]:
        """The onboarding form, sent as one message in the person's words."""
        words = " ".join(str(tastes or "").split())
        favs = [f for f in favourites or [] if isinstance(f, str)][:5]
        message = "I'm new here. " + words + (f" I love {', '.join(favs)}." if favs else "")
        yield from self.say(message.strip(), msgs, ident, lam, picks, request)


def _click_act(slot: int, item: dict[str, Any], action: str, lam: float) -> tuple[Act, str]:
    """What a card's button does, and the line the chat shows for it."""
    if action == "more":
        words = f"more like #{slot + 1}"

        def more(rec: ChatRecommender, i: dict[str, str]) -> Iterator[Reply]:
            return rec.chat_stream(words, i["session"], mmr_lambda=lam, user=i["user"])

        return more, f"More like {item['title']}"
    value = "up" if action == "up" else "down"

    def rate(rec: ChatRecommender, i: dict[str, str]) -> Iterator[Reply]:
        yield rec.feedback(i["session"], item["item_id"], value, user=i["user"], mmr_lambda=lam)

    return rate, f"{'👍' if value == 'up' else '👎'} {item['title']}"
