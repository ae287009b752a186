"""The browser app (Gradio 6): chat, picks as cards with 👍/👎/"more like this", onboarding,
a profile line, a person's past chats, and a relevance-vs-diversity slider.

This module wires the pieces: ``ui.layout`` (the components), ``ui.handlers`` (what events
do, with the identity checks) and ``ui.render`` (what a reply looks like). Only ``/chat`` is
exposed as an API endpoint; the UI's own events are private. Gradio numbers events in the
order they are wired here, so new events go after the existing ones.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ui import layout
from ui.handlers import NO_IDENTITY, Handlers, Recommenders
from ui.layout import CSS, Layout
from ui.render import DEFAULT_CATALOG

__all__ = ["CSS", "Recommenders", "build_app", "launch"]


def build_app(recs: Recommenders) -> gr.Blocks:
    """The app over ``recs``: the layout, its events wired to ``Handlers(recs)``."""
    with gr.Blocks(title="chatrec") as demo:
        view = layout.build(NO_IDENTITY)
        _wire(demo, view, Handlers(recs))
    return demo


def _wire(demo: gr.Blocks, view: Layout, h: Handlers) -> None:
    side, chat, api = view.side, view.chat, view.api
    private: dict[str, Any] = {"api_visibility": "private"}

    demo.load(h.restore, [view.ident], view.page_out, **private)
    demo.load(h.favourites, [side.catalog], [side.favs], **private)
    side.go.click(h.sign_in, [side.name, view.ident], view.page_out, **private)
    side.name.submit(h.sign_in, [side.name, view.ident], view.page_out, **private)
    side.sessions.input(h.open_chat, [view.ident, side.sessions], view.page_out, **private)
    side.new.click(h.new_chat, [view.ident], view.page_out, **private)
    side.catalog.input(h.change_catalog, [view.ident, side.catalog], view.page_out, **private)
    side.catalog.input(h.favourites, [side.catalog], [side.favs], **private)
    message = [chat.box, chat.chatbot, view.ident, side.lam, view.picks]
    chat.box.submit(h.send, message, view.turn_out, **private)
    chat.send.click(h.send, message, view.turn_out, **private)
    onboarding = [side.tastes, side.favs, chat.chatbot, view.ident, side.lam, view.picks]
    side.start.click(h.onboard, onboarding, view.turn_out, **private)
    for i, card in enumerate(view.cards):
        for button, action in ((card.up, "up"), (card.down, "down"), (card.more, "more")):
            inputs = [chat.chatbot, view.ident, view.picks, side.lam]
            button.click(h.click(i, action), inputs, view.click_out, **private)
    # The one public endpoint: what `gradio_client` and other programs use.
    api.message.submit(
        h.chat_api,
        [api.message, api.catalog, api.lam, api.ident],
        [api.out, api.ident],
        api_name="chat",
    )


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
    recs.get(DEFAULT_CATALOG)
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
