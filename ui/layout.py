"""The page's components (Gradio Blocks), with no behaviour: ``build`` makes them inside the
caller's ``gr.Blocks`` context and returns them as a ``Layout``; ``ui.app`` wires events.

Three columns: the sidebar (who, sign-in, catalog, slider, profile, chats, onboarding), the
chat, and the picks panel of ``SLOTS`` cards. Hidden components carry the public ``/chat``
endpoint. The ``elem_id``s are what the browser tests find the page by. The ``*_out`` lists
fix the order of the values the handlers return (see ``ui.handlers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.render import CATALOGS, DEFAULT_CATALOG, SLOTS, examples

# Styles the cards ``_picks`` makes (passed to ``launch``: Gradio 6 takes CSS there).
CSS = """
.pick-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 6px; }
.pick-card button { min-width: 0 !important; }
"""


@dataclass
class Sidebar:
    who: gr.Markdown
    name: gr.Textbox
    password: gr.Textbox
    go: gr.Button
    catalog: gr.Dropdown
    lam: gr.Slider
    profile: gr.Markdown
    sessions: gr.Dropdown
    new: gr.Button
    tastes: gr.Textbox
    favs: gr.Dropdown
    start: gr.Button


@dataclass
class Chat:
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button


@dataclass
class Card:
    group: gr.Group
    text: gr.Markdown
    up: gr.Button
    down: gr.Button
    more: gr.Button


@dataclass
class Api:
    """The hidden inputs and outputs of ``/chat``."""

    message: gr.Textbox
    catalog: gr.Textbox
    lam: gr.Number
    ident: gr.JSON
    out: gr.Markdown


@dataclass
class Layout:
    ident: gr.BrowserState  # the signed-in identity, kept by the browser across reloads
    picks: gr.State  # the picks the cards show
    side: Sidebar
    chat: Chat
    cards: list[Card]
    api: Api

    @property
    def slots(self) -> list[Any]:
        """Each card's group and text, as ``render.cards`` fills them."""
        return [c for card in self.cards for c in (card.group, card.text)]

    @property
    def page_out(self) -> list[Any]:
        """What a sign-in, reload or switch of chat or catalog redraws."""
        s = self.side
        chatbot = self.chat.chatbot
        return [
            self.ident,
            s.who,
            s.profile,
            s.sessions,
            s.catalog,
            chatbot,
            self.picks,
            *self.slots,
        ]

    @property
    def turn_out(self) -> list[Any]:
        """What a typed message updates."""
        return [self.chat.box, *self.click_out]

    @property
    def click_out(self) -> list[Any]:
        """What a card's button updates."""
        s = self.side
        return [self.chat.chatbot, self.ident, self.picks, s.profile, s.sessions, *self.slots]


def build(no_identity: dict[str, str]) -> Layout:
    """Make the page's components; call inside ``with gr.Blocks(...)``. ``no_identity``: what
    a browser that has never signed in keeps."""
    ident = gr.BrowserState(dict(no_identity), storage_key="chatrec-identity")
    picks = gr.State([])
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            side = _sidebar()
        with gr.Column(scale=3):
            chat = _chat()
        with gr.Column(scale=2, min_width=300):
            cards = _picks()
    return Layout(ident, picks, side, chat, cards, _api())


def _sidebar() -> Sidebar:
    gr.Markdown("## chatrec")
    who = gr.Markdown("")
    with gr.Row():
        name = gr.Textbox(label="Your name", placeholder="e.g. Ann", scale=3)
        go = gr.Button("Sign in", scale=1, elem_id="sign-in")
    password = gr.Textbox(
        label="Password (only if your name has one)",
        type="password",
        elem_id="password",
        max_length=200,
    )
    catalog = gr.Dropdown(list(CATALOGS), value=DEFAULT_CATALOG, label="Catalog")
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
    return Sidebar(
        who, name, password, go, catalog, lam, profile, sessions, new, tastes, favs, start
    )


def _chat() -> Chat:
    chatbot = gr.Chatbot(height=560, label="Chat", elem_id="chat", feedback_options=None)
    with gr.Row():
        box = gr.Textbox(
            show_label=False,
            scale=5,
            elem_id="message",
            placeholder="Ask for something, or about a product…",
        )
        send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
    gr.Examples(examples(), box, label="Try")
    return Chat(chatbot, box, send)


def _picks() -> list[Card]:
    gr.Markdown("### Picks")
    cards: list[Card] = []
    for n in range(1, SLOTS + 1):
        with gr.Group(visible=False, elem_classes="pick-card", elem_id=f"card-{n}") as group:
            text = gr.Markdown("")
            with gr.Row():
                up = gr.Button("👍 Like", size="sm", elem_id=f"up-{n}")
                down = gr.Button("👎 Not this", size="sm", elem_id=f"down-{n}")
                more = gr.Button("More like this", size="sm", elem_id=f"more-{n}")
        cards.append(Card(group, text, up, down, more))
    return cards


def _api() -> Api:
    return Api(
        message=gr.Textbox(visible=False),
        catalog=gr.Textbox(visible=False),
        lam=gr.Number(visible=False),
        ident=gr.JSON(visible=False),
        out=gr.Markdown(visible=False),
    )
