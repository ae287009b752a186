"""What the page's events do: plain methods of ``Handlers``, callable without a browser.

Talks only to ``chatrec.ChatRecommender``: one per catalog (``Recommenders``), loaded on
first use, sharing one embedder, one language model and one database. Who a person is: the
name they give, proved on every call by a token their browser keeps (the ``ident`` dict);
with Gradio's password login (``request.username``) the login names them instead. Every
handler checks that proof (``Handlers.identity``) before reading or writing anything, so
neither the UI nor the API reaches another person's chats or profile; a call whose proof
fails gets nothing of anyone's. Errors reach the person as one friendly line (``SORRY``);
the details go to the server log.

Handlers return (or stream) their values in the order of the ``layout.Layout`` output lists:
``page_out`` (``page``, ``restore``, ``sign_in``, ``switch`` and its three events),
``turn_out`` (``send``, ``onboard``) and ``click_out`` (``click``'s handlers); ``chat_api``
streams (Markdown, identity) for ``/chat``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from chatrec import ChatRecommender, Reply, StoreWriteError
from ui.edge import ChatCall, check_chat
from ui.render import (
    CATALOGS,
    DEFAULT_CATALOG,
    SLOTS,
    bubbles,
    cards,
    profile_line,
    render_reply,
    session_choices,
    who_line,
)

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again."
NO_IDENTITY: dict[str, str] = {"user": "", "token": "", "session": "", "catalog": DEFAULT_CATALOG}

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
                self._loaded[catalog] = self.factory(catalog, **kwargs)
            return self._loaded[catalog]


class Denied(Exception):
    """The call does not prove who it is for: nothing is read or written."""


def _as_identity(ident: Any) -> dict[str, Any]:
    """``ident`` over the defaults, unchecked (a browser may send anything)."""
    return {**NO_IDENTITY, **(ident if isinstance(ident, dict) else {})}


class Handlers:
    """The event handlers over ``recs``; the method names are the events' (private) names."""

    def __init__(self, recs: Recommenders):
        self.recs = recs

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
                ident.update(user=str(login), token="", session="")
            return ident
        if ident["user"] and rec.authenticate(ident["user"], ident["token"]):
            return ident
        if ident["user"]:
            raise Denied
        # A guest: a signed name, nothing stored until they send a message.
        ident["user"], ident["token"] = rec.guest()
        ident["session"] = ""
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

    def sign_in(self, name: str, password: str, ident: Any, request: gr.Request) -> list[Any]:
        old = _as_identity(ident)
        rec = self.recs.get(old["catalog"] if old["catalog"] in CATALOGS else DEFAULT_CATALOG)
        client = getattr(getattr(request, "client", None), "host", "") or ""
        try:
            # This browser's token: signing in again with one's own name must work.
            user, token = rec.sign_in(name, str(old["token"] or "") or None, password, client)
        except ValueError as err:
            base = self.restore(ident, request)
            base[5] = [*base[5], {"role": "assistant", "content": str(err)}]
            return base
        except Exception:
            log.exception("sign-in failed")
            return self.restore(ident, request)
        fresh = {**NO_IDENTITY, "user": user, "token": token, "catalog": old["catalog"]}
        return self.page(fresh, f"Welcome, {user}! Tell me what you like, or ask me anything.")

    def switch(
        self, ident: Any, session: str | None, catalog: str, request: gr.Request
    ) -> list[Any]:
        """Open one of the person's chats (None: a new one) in ``catalog``."""
        try:
            ident = self.identity(ident, request)
        except Denied:
            return self.restore(None, request)
        if catalog in CATALOGS and catalog != ident["catalog"]:
            ident = {**ident, "catalog": catalog, "session": ""}
        else:
            ids = {s["id"] for s in self.recs.get(ident["catalog"]).sessions_of(ident["user"])}
            ident = {**ident, "session": session if session in ids else ""}
        return self.page(ident)

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
        message: str,
        msgs: list[dict] | None,
        ident: Any,
        lam: float,
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
        if not ident["session"] or not self.recs.get(ident["catalog"]).owns(
            ident["user"], ident["session"]
        ):
            ident = {**ident, "session": uuid.uuid4().hex}
        msgs.append({"role": "user", "content": shown})
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
        lam = call.mmr_lambda
        for msgs, who, _ in self.turn(
            call.message,
            [],
            ident,
            lam,
            request,
            lambda rec, i: rec.chat_stream(
                call.message, i["session"], mmr_lambda=lam, user=i["user"]
            ),
            call.message,
            full=True,
        ):
            yield msgs[-1]["content"], who

    def send(
        self,
        message: str,
        msgs: list[dict],
        ident: Any,
        lam: float,
        picks: list[dict],
        request: gr.Request,
    ) -> Iterator[list[Any]]:
        """A typed message: the reply streams; the picks panel keeps the last list when the
        reply has none (an answer about "the second one" must not hide the cards)."""
        if not str(message or "").strip():
            yield [
                gr.update(),
                msgs,
                ident,
                gr.update(),
                gr.update(),
                gr.update(),
                *[gr.update()] * (2 * SLOTS),
            ]
            return
        out_msgs, who, items = msgs, ident, []
        for out_msgs, who, items in self.turn(
            message,
            msgs,
            ident,
            lam,
            request,
            lambda rec, i: rec.chat_stream(message, i["session"], mmr_lambda=lam, user=i["user"]),
            message,
        ):
            shown = items or picks or []
            yield ["", out_msgs, who, shown, gr.update(), gr.update(), *cards(shown)]
        shown = items or picks or []
        yield ["", out_msgs, who, shown, *self.after(who), *cards(shown)]

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
                yield [msgs, ident, picks, gr.update(), gr.update(), *cards(picks or [])]
                return
            act, shown = _click_act(slot, picks[slot], action, lam)
            out_msgs, who, items = msgs, ident, picks
            for out_msgs, who, items in self.turn("", msgs, ident, lam, request, act, shown):
                shown_picks = items or picks
                yield [out_msgs, who, shown_picks, gr.update(), gr.update(), *cards(shown_picks)]
            yield [out_msgs, who, items or picks, *self.after(who), *cards(items or picks)]

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
        yield from self.send(message.strip(), msgs, ident, lam, picks, request)


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
