"""The browser app (Gradio 6): chat, picks as cards with 👍/👎/"more like this", onboarding,
a profile line, a person's past chats, and a relevance-vs-diversity slider.

This module wires the pieces: ``ui.layout`` (the components), ``ui.handlers`` (what events
do, with the identity checks) and ``ui.render`` (what a reply looks like). Only ``/chat`` is
exposed as an API endpoint; the UI's own events are private, and ``ui.edge.Gate`` refuses
Gradio's raw routes to them. Gradio numbers events in the order they are wired here; the
tests find them by name (``tests/serving.page_ids``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from chatrec import ChatRecommender, turn_concurrency
from chatrec.config import RuntimeConfig
from ui import layout
from ui.edge import PUBLIC, Gate
from ui.handlers import NO_IDENTITY, Handlers, Recommenders
from ui.layout import CSS, Layout
from ui.render import DEFAULT_CATALOG

__all__ = ["CSS", "Recommenders", "build_app", "launch"]

log = logging.getLogger(__name__)


def build_app(recs: Recommenders) -> gr.Blocks:
    """The app over ``recs``: the layout, its events wired to ``Handlers(recs)``."""
    with gr.Blocks(title="chatrec") as demo:
        view = layout.build(NO_IDENTITY)
        _wire(demo, view, Handlers(recs))
    return demo


# Browser-side steps: the window's width for ``Handlers.fit``; a sent message moved from the
# box to the hidden ``sent`` field (the box is empty again before the server hears of it).
_WIDTH = "(w) => [window.innerWidth]"
_TAKE = "(m) => ['', m]"


def _wire(demo: gr.Blocks, view: Layout, h: Handlers) -> None:
    side, chat, api = view.side, view.chat, view.api
    private: dict[str, Any] = {"api_visibility": "private"}
    # Turns share one larger pool: the picks must not wait in the queue behind other people's
    # explanations (the CPU-heavy stages inside are gated: ``chatrec.load``).
    turns: dict[str, Any] = {"concurrency_limit": turn_concurrency(), "concurrency_id": "turn"}

    # The page as this browser left it; then the catalog's welcome, examples and hint.
    dress = {
        "fn": h.dress,
        "inputs": [side.catalog],
        "outputs": [chat.chatbot, chat.box, *chat.tries],
    }
    favourites = {"fn": h.favourites, "inputs": [side.catalog], "outputs": [side.favs]}
    restored = demo.load(h.restore, [view.ident], view.page_out, **private)
    restored.then(**dress, **private).then(**favourites, **private)
    demo.load(h.fit, [view.width], [side.menu, side.onboard], js=_WIDTH, **private)
    signing = [side.name, side.password, view.ident]
    side.go.click(h.sign_in, signing, view.page_out, **private)
    side.name.submit(h.sign_in, signing, view.page_out, **private)
    side.sessions.input(h.open_chat, [view.ident, side.sessions], view.page_out, **private)
    side.new.click(h.new_chat, [view.ident], view.page_out, **private)
    chat.chatbot.clear(h.new_chat, [view.ident], view.page_out, **private)  # its 🗑: a new chat
    switched = side.catalog.input(
        h.change_catalog, [view.ident, side.catalog], view.page_out, **private
    )
    switched.then(**dress, **private).then(**favourites, **private)
    # A message is taken out of the box in the browser, at once (text typed after Enter is
    # never wiped by a reply), then runs as a turn. Turns are "multiple": one sent while a
    # reply streams is queued by ``Handlers.run``, not dropped by Gradio.
    queued: dict[str, Any] = {**private, **turns, "trigger_mode": "multiple"}
    state = [chat.chatbot, view.ident, side.lam, view.picks]
    for sent in (chat.box.submit, chat.send.click):
        sent(None, [chat.box], [chat.box, chat.sent], js=_TAKE, **private).then(
            h.say, [chat.sent, *state], view.turn_out, **queued
        )
    onboarding = [side.tastes, side.favs, *state]
    side.start.click(h.onboard, onboarding, view.turn_out, **queued)
    for example in chat.tries:  # an example request is sent as the person's own message
        example.click(h.say, [example, *state], view.turn_out, **queued)
    for i, card in enumerate(view.cards):
        for button, action in ((card.up, "up"), (card.down, "down"), (card.more, "more")):
            inputs = [chat.chatbot, view.ident, view.picks, side.lam]
            button.click(h.click(i, action), inputs, view.turn_out, **queued)
    # The one public endpoint: what `gradio_client` and other programs use. Its values reach
    # the handler as sent (no preprocess), for ui.edge to check: Gradio's own conversion would
    # str() a list into a message, turn "NaN" into a number and "abc" into a traceback.
    api.message.submit(
        h.chat_api,
        [api.message, api.catalog, api.lam, api.ident],
        [api.out, api.ident],
        api_name="chat",
        preprocess=False,
        **turns,
    )
    side.password.submit(h.sign_in, signing, view.page_out, **private)


def gate_settings(demo: gr.Blocks) -> dict[str, Any]:
    """What ``ui.edge.Gate`` needs to know of ``demo``'s events: each one's number of inputs,
    and the public ``/chat``'s event number and parameter names."""
    inputs = {fn._id: len(fn.inputs) for fn in demo.fns.values()}
    public = next(fn._id for fn in demo.fns.values() if fn.api_name == PUBLIC)
    info = demo.get_api_info()["named_endpoints"][f"/{PUBLIC}"]
    params = tuple(p["parameter_name"] for p in info["parameters"])
    return {"inputs": inputs, "public": public, "params": params}


def keep_pruning(rec: ChatRecommender, idle_days: float, every_s: float = 86400.0) -> None:
    """Remove idle guests now and then daily, in a daemon thread (a failure is logged)."""

    def prune() -> None:
        while True:
            try:
                removed = rec.prune_guests(idle_days)
                log.info("pruned guests idle for %s days: %s", idle_days, removed)
            except Exception:
                log.exception("pruning idle guests failed")
            time.sleep(every_s)

    threading.Thread(target=prune, name="prune-guests", daemon=True).start()


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
    runtime = kwargs.get("runtime") or RuntimeConfig()
    keep_pruning(recs.get(DEFAULT_CATALOG), runtime.guest_days)
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
        app_kwargs={"middleware": [Middleware(Gate, **gate_settings(demo))]},
    )
    return demo


if __name__ == "__main__":
    launch()
