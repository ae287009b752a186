"""The browser app (Gradio 6): chat, picks as cards with 👍/👎/"more like this", onboarding,
a profile line, a person's past chats, and a relevance-vs-diversity slider.

Talks only to ``chatrec.ChatRecommender``. One recommender per catalog, loaded on first use,
sharing one embedder, one language model and one database. Who a person is: the name they
give, proved on every call by a token their browser keeps (``gr.BrowserState``, so a reload
finds them and their chat again); with ``--auth`` Gradio's password login names them instead.
Every call checks that proof before reading or writing anything, so neither the UI nor the
API reaches another person's chats or profile. Only ``/chat`` is exposed as an API endpoint;
the UI's own events are private. Errors reach the person as one friendly line; the details
go to the server log.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from chatrec import ChatRecommender, Reply

log = logging.getLogger(__name__)

CATALOGS = ("store", "movies")
SLOTS = 10  # cards on screen: the most picks one reply shows
EXAMPLES = {
    "store": ["a TV under $500", "a laptop for travel under $900", "noise cancelling headphones"],
    "movies": ["an animated movie for kids", "a thriller from the 70s", "90s sci-fi, no horror"],
}
SORRY = "Sorry, something went wrong on my side. Please try again."
NO_IDENTITY: dict[str, str] = {"user": "", "token": "", "session": "", "catalog": "store"}

CSS = """
.pick-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 6px; }
.pick-card button { min-width: 0 !important; }
"""


# --- rendering -----------------------------------------------------------------------------
def facts_line(a: dict[str, Any]) -> str:
    """Key attributes of a pick: price or years, categories, rating."""
    facts = []
    if a.get("price") is not None:
        hi = a.get("price_max")
        facts.append(f"${a['price']:,.2f}" + (f"–${hi:,.2f}" if hi else ""))
    if a.get("year") is not None:
        facts.append(str(a["year"]))
    if a.get("categories"):
        facts.append(", ".join(a["categories"]))
    if a.get("rating") is not None:
        facts.append(f"{a['rating']:g}★ ({a.get('review_count', 0):,})")
    return " · ".join(facts)


def _escape(text: str) -> str:
    return text.replace("_", "\\_").replace("*", "\\*")


def card(n: int, item: dict[str, Any]) -> str:
    text = f"**{n}. {item['title']}**  \n{facts_line(item.get('attributes') or {})}"
    if item.get("explanation"):  # empty until its explanation starts streaming
        text += "  \n_" + _escape(item["explanation"]) + "_"
    return text


def render(text: str, items: list[dict[str, Any]], full: bool = True) -> str:
    """Markdown for a reply: its first line, then one card per pick (``full``: with the
    explanation, as the API returns it; else one line each, as the chat shows it next to the
    cards panel)."""
    if not items:
        return text
    head = text.splitlines()[0] if text else ""
    if full:
        return head + "\n\n" + "\n\n".join(card(n, it) for n, it in enumerate(items, 1))
    lines = [
        f"{n}. **{it['title']}** — {facts_line(it.get('attributes') or {})}"
        for n, it in enumerate(items, 1)
    ]
    return head + "\n\n" + "\n".join(lines)


def render_reply(reply: Reply, full: bool = True) -> str:
    return render(reply.text, reply.to_dict()["items"], full)


# --- models --------------------------------------------------------------------------------
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
                    kwargs["embedder"] = shared.retriever.embedder
                    # The base model (the explainer's); a catalog with a reranking adapter
                    # loads its adapter beside it.
                    kwargs["generator"] = shared.explain_generator
                    kwargs["llm"] = shared.generator is not None
                    kwargs["store"] = shared.store
                self._loaded[catalog] = self.factory(catalog, **kwargs)
            return self._loaded[catalog]


class Denied(Exception):
    """The call does not prove who it is for: nothing is read or written."""


def build_app(recs: Recommenders) -> gr.Blocks:
    def identity(ident: Any, request: gr.Request | None) -> dict[str, str]:
        """The checked identity of a call (a fresh guest when it has none)."""
        ident = {**NO_IDENTITY, **(ident if isinstance(ident, dict) else {})}
        ident = {k: str(v or "") for k, v in ident.items() if k in NO_IDENTITY}
        if ident["catalog"] not in CATALOGS:
            ident["catalog"] = "store"
        rec = recs.get(ident["catalog"])
        login = getattr(request, "username", None) if request is not None else None
        if login:  # Gradio's password login names the person: no token needed
            if ident["user"] != login:
                ident.update(user=str(login), token="", session="")
            return ident
        if ident["user"] and rec.authenticate(ident["user"], ident["token"]):
            return ident
        if ident["user"]:
            raise Denied
        ident["user"], ident["token"] = rec.sign_in(f"guest-{uuid.uuid4().hex[:8]}")
        ident["session"] = ""
        return ident

    def sidebar(rec: ChatRecommender, ident: dict[str, str]) -> tuple[Any, Any, Any]:
        """Who is chatting, their profile line, and their chats in this catalog."""
        who = f"Chatting as **{ident['user']}**"
        sessions = rec.sessions_of(ident["user"])
        choices = [(f"{s['title'] or '(empty)'} · {s['turns']} turns", s["id"]) for s in sessions]
        value = ident["session"] if any(c[1] == ident["session"] for c in choices) else None
        return (
            who,
            "**Your profile:** " + rec.profile_summary(ident["user"]),
            gr.update(choices=choices, value=value),
        )

    def cards(items: list[dict[str, Any]]) -> list[Any]:
        out: list[Any] = []
        for i in range(SLOTS):
            if i < len(items):
                out += [gr.update(visible=True), card(i + 1, items[i])]
            else:
                out += [gr.update(visible=False), ""]
        return out

    def history(rec: ChatRecommender, ident: dict[str, str]) -> tuple[list[dict], list[dict]]:
        """The chat bubbles of the person's current session and its last list of picks."""
        msgs: list[dict] = []
        last: list[dict] = []
        for t in rec.history_of(ident["session"], ident["user"]) if ident["session"] else []:
            msgs.append({"role": "user", "content": t["user"]})
            msgs.append({"role": "assistant", "content": render(t["bot"], t["items"], False)})
            if t["items"]:
                last = t["items"]
        return msgs, last

    def page(ident: dict[str, str], note: str = "") -> list[Any]:
        """Everything the page shows for an identity (sign-in, reload, switching chats)."""
        rec = recs.get(ident["catalog"])
        msgs, last = history(rec, ident)
        if note:
            msgs.append({"role": "assistant", "content": note})
        who, prof, sess = sidebar(rec, ident)
        return [ident, who, prof, sess, gr.update(value=ident["catalog"]), msgs, last, *cards(last)]

    def restore(ident: Any, request: gr.Request) -> list[Any]:
        try:
            return page(identity(ident, request))
        except Denied:
            fresh = identity(None, request)
            return page(fresh, "Your saved sign-in no longer matches; you are chatting as a guest.")
        except Exception:
            log.exception("restoring the page failed")
            return page(identity(None, request), SORRY)

    def sign_in(name: str, ident: Any, request: gr.Request) -> list[Any]:
        old = {**NO_IDENTITY, **(ident if isinstance(ident, dict) else {})}
        rec = recs.get(old["catalog"] if old["catalog"] in CATALOGS else "store")
        try:
            # This browser's token: signing in again with one's own name must work.
            user, token = rec.sign_in(name, old["token"] or None)
        except ValueError as err:
            base = restore(ident, request)
            base[5] = [*base[5], {"role": "assistant", "content": str(err)}]
            return base
        except Exception:
            log.exception("sign-in failed")
            return restore(ident, request)
        fresh = {**NO_IDENTITY, "user": user, "token": token, "catalog": old["catalog"]}
        return page(fresh, f"Welcome, {user}! Tell me what you like, or ask me anything.")

    def switch(ident: Any, session: str | None, catalog: str, request: gr.Request) -> list[Any]:
        """Open one of the person's chats (None: a new one) in ``catalog``."""
        try:
            ident = identity(ident, request)
        except Denied:
            return restore(None, request)
        if catalog in CATALOGS and catalog != ident["catalog"]:
            ident = {**ident, "catalog": catalog, "session": ""}
        else:
            ids = {s["id"] for s in recs.get(ident["catalog"]).sessions_of(ident["user"])}
            ident = {**ident, "session": session if session in ids else ""}
        return page(ident)

    def turn(
        message: str,
        msgs: list[dict] | None,
        ident: Any,
        lam: float,
        request: gr.Request | None,
        act: Callable[[ChatRecommender, dict[str, str]], Iterator[Reply]],
        shown: str,
        full: bool = False,
    ) -> Iterator[tuple[list[dict], dict[str, str], list[dict]]]:
        """Run one turn (a message or a click) and stream (bubbles, identity, picks)."""
        msgs = list(msgs or [])
        try:
            ident = identity(ident, request)
        except Denied:
            yield [*msgs, {"role": "assistant", "content": "Please reload the page."}], {}, []
            return
        if not ident["session"] or not recs.get(ident["catalog"]).owns(
            ident["user"], ident["session"]
        ):
            ident = {**ident, "session": uuid.uuid4().hex}
        msgs.append({"role": "user", "content": shown})
        msgs.append({"role": "assistant", "content": "…"})
        items: list[dict] = []
        try:
            rec = recs.get(ident["catalog"])
            for reply in act(rec, ident):
                items = reply.to_dict()["items"]
                msgs[-1] = {"role": "assistant", "content": render_reply(reply, full)}
                yield msgs, ident, items
        except Exception:  # the person sees a friendly line; the details go to the server log
            log.exception("chat turn failed")
            msgs[-1] = {"role": "assistant", "content": SORRY}
            yield msgs, ident, items

    def chat_api(
        message: str, catalog: str, mmr_lambda: float, ident: Any, request: gr.Request
    ) -> Iterator[tuple[str, dict[str, str]]]:
        """The public endpoint: one message, the reply streamed as Markdown, and the identity
        to send with the next message (a new caller is a fresh guest)."""
        ident = {**NO_IDENTITY, **(ident if isinstance(ident, dict) else {})}
        if catalog in CATALOGS and catalog != ident.get("catalog"):
            ident = {**ident, "catalog": catalog, "session": ""}
        for msgs, who, _ in turn(
            message,
            [],
            ident,
            mmr_lambda,
            request,
            lambda rec, i: rec.chat_stream(
                message, i["session"], mmr_lambda=mmr_lambda, user=i["user"]
            ),
            str(message),
            full=True,
        ):
            yield msgs[-1]["content"], who

    def send(
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
        for out_msgs, who, items in turn(
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
        yield ["", out_msgs, who, shown, *after(who), *cards(shown)]

    def after(ident: dict[str, str]) -> tuple[Any, Any]:
        if not ident:
            return gr.update(), gr.update()
        rec = recs.get(ident["catalog"])
        _, prof, sess = sidebar(rec, ident)
        return prof, sess

    def click(slot: int, action: str) -> Callable[..., Iterator[list[Any]]]:
        def handler(
            msgs: list[dict], ident: Any, picks: list[dict], lam: float, request: gr.Request
        ) -> Iterator[list[Any]]:
            if slot >= len(picks or []):
                yield [msgs, ident, picks, gr.update(), gr.update(), *cards(picks or [])]
                return
            item = picks[slot]
            if action == "more":
                words = f"more like #{slot + 1}"

                def act(rec: ChatRecommender, i: dict[str, str]) -> Iterator[Reply]:
                    return rec.chat_stream(words, i["session"], mmr_lambda=lam, user=i["user"])

                shown = f"More like {item['title']}"
            else:
                value = "up" if action == "up" else "down"

                def act(rec: ChatRecommender, i: dict[str, str]) -> Iterator[Reply]:
                    yield rec.feedback(
                        i["session"], item["item_id"], value, user=i["user"], mmr_lambda=lam
                    )

                shown = f"{'👍' if value == 'up' else '👎'} {item['title']}"
            out_msgs, who, items = msgs, ident, picks
            for out_msgs, who, items in turn("", msgs, ident, lam, request, act, shown):
                yield [
                    out_msgs,
                    who,
                    items or picks,
                    gr.update(),
                    gr.update(),
                    *cards(items or picks),
                ]
            yield [out_msgs, who, items or picks, *after(who), *cards(items or picks)]

        return handler

    def onboard(
        tastes: str,
        favourites: list[str],
        msgs: list[dict],
        ident: Any,
        lam: float,
        picks: list[dict],
        request: gr.Request,
    ) -> Iterator[list[Any]]:
        words = " ".join(str(tastes or "").split())
        favs = [f for f in favourites or [] if isinstance(f, str)][:5]
        message = "I'm new here. " + words + (f" I love {', '.join(favs)}." if favs else "")
        yield from send(message.strip(), msgs, ident, lam, picks, request)

    def favourites(catalog: str) -> Any:
        rec = recs.get(catalog if catalog in CATALOGS else "store")
        return gr.update(choices=rec.popular_titles(30), value=[])

    with gr.Blocks(title="chatrec") as demo:
        ident = gr.BrowserState(dict(NO_IDENTITY), storage_key="chatrec-identity")
        picks = gr.State([])
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                gr.Markdown("## chatrec")
                who = gr.Markdown("")
                with gr.Row():
                    name = gr.Textbox(label="Your name", placeholder="e.g. Ann", scale=3)
                    go = gr.Button("Sign in", scale=1, elem_id="sign-in")
                catalog = gr.Dropdown(list(CATALOGS), value="store", label="Catalog")
                lam = gr.Slider(
                    0.0,
                    1.0,
                    value=0.8,
                    step=0.05,
                    label="Relevance ↔ diversity",
                    info="1 = most relevant; lower = more varied picks",
                )
                profile = gr.Markdown("", elem_id="profile")
                sessions = gr.Dropdown([], label="Your chats", elem_id="sessions")
                new = gr.Button("New chat", elem_id="new-chat")
                with gr.Accordion("New here? Tell me your tastes", open=True, elem_id="onboard"):
                    tastes = gr.Textbox(
                        label="What do you like?",
                        lines=2,
                        elem_id="tastes",
                        placeholder="e.g. I work from home and love music",
                    )
                    favs = gr.Dropdown([], multiselect=True, label="…or pick a few favourites")
                    start = gr.Button("Get my picks", variant="primary", elem_id="get-picks")
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    height=560, label="Chat", elem_id="chat", feedback_options=None
                )
                with gr.Row():
                    box = gr.Textbox(
                        show_label=False,
                        scale=5,
                        elem_id="message",
                        placeholder="Ask for something, or about a product…",
                    )
                    send_btn = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                gr.Examples(EXAMPLES["store"] + EXAMPLES["movies"], box, label="Try")
            with gr.Column(scale=2, min_width=300):
                gr.Markdown("### Picks")
                slots: list[Any] = []
                buttons: list[tuple[Any, Any, Any]] = []
                for i in range(SLOTS):
                    with gr.Group(
                        visible=False, elem_classes="pick-card", elem_id=f"card-{i + 1}"
                    ) as group:
                        text = gr.Markdown("")
                        with gr.Row():
                            up = gr.Button("👍 Like", size="sm", elem_id=f"up-{i + 1}")
                            down = gr.Button("👎 Not this", size="sm", elem_id=f"down-{i + 1}")
                            more = gr.Button("More like this", size="sm", elem_id=f"more-{i + 1}")
                    slots += [group, text]
                    buttons.append((up, down, more))

        page_out = [ident, who, profile, sessions, catalog, chatbot, picks, *slots]
        turn_out = [box, chatbot, ident, picks, profile, sessions, *slots]
        click_out = [chatbot, ident, picks, profile, sessions, *slots]
        private: dict[str, Any] = {"api_visibility": "private"}

        demo.load(restore, [ident], page_out, **private)
        demo.load(favourites, [catalog], [favs], **private)
        go.click(sign_in, [name, ident], page_out, **private)
        name.submit(sign_in, [name, ident], page_out, **private)

        def open_chat(i: Any, s: str | None, request: gr.Request) -> list[Any]:
            return switch(i, s, "", request)

        def new_chat(i: Any, request: gr.Request) -> list[Any]:
            return switch(i, None, "", request)

        def change_catalog(i: Any, c: str, request: gr.Request) -> list[Any]:
            return switch(i, None, c, request)

        sessions.input(open_chat, [ident, sessions], page_out, **private)
        new.click(new_chat, [ident], page_out, **private)
        catalog.input(change_catalog, [ident, catalog], page_out, **private)
        catalog.input(favourites, [catalog], [favs], **private)
        box.submit(send, [box, chatbot, ident, lam, picks], turn_out, **private)
        send_btn.click(send, [box, chatbot, ident, lam, picks], turn_out, **private)
        start.click(onboard, [tastes, favs, chatbot, ident, lam, picks], turn_out, **private)
        for i, (up, down, more) in enumerate(buttons):
            for button, action in ((up, "up"), (down, "down"), (more, "more")):
                button.click(click(i, action), [chatbot, ident, picks, lam], click_out, **private)
        # The one public endpoint: what `gradio_client` and other programs use.
        api_msg = gr.Textbox(visible=False)
        api_catalog = gr.Textbox(visible=False)
        api_lam = gr.Number(visible=False)
        api_ident = gr.JSON(visible=False)
        api_out = gr.Markdown(visible=False)
        api_msg.submit(
            chat_api,
            [api_msg, api_catalog, api_lam, api_ident],
            [api_out, api_ident],
            api_name="chat",
        )
    return demo


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    auth: list[tuple[str, str]] | None = None,
    **kwargs: Any,
) -> gr.Blocks:
    """Start the app; the store recommender is loaded before the first request.

    ``kwargs`` go to ``ChatRecommender.from_pretrained`` (runtime, llm); the database is the
    runtime's (``persist``).
    """
    recs = Recommenders(persist=True, **kwargs)
    recs.get("store")
    demo = build_app(recs)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        footer_links=["api"],
        quiet=not block,
        auth=auth,
        css=CSS,
    )
    return demo


if __name__ == "__main__":
    launch()
