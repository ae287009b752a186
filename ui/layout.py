"""The page's components (Gradio Blocks), with no behaviour: ``build`` makes them inside the
caller's ``gr.Blocks`` context and returns them as a ``Layout``; ``ui.app`` wires events.

A header (name, who is chatting, the catalog), then one grid (``#app``) laid out by ``CSS``
for the screen it is on. On a desktop: the menu on the left (sign-in, chats, slider,
profile, onboarding), the chat and its input in the middle, the picks on the right. On a
phone (under ``WIDE`` px): a closed menu, the chat, the picks right under it, and the input
fixed to the bottom of the screen, so it is always in view. The ``elem_id``s are what the
browser tests find the page by. The ``*_out`` lists fix the order of the values the
handlers return (see ``ui.handlers``). Hidden components carry the public ``/chat``
endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ui.render import (
    DEFAULT_CATALOG,
    EXAMPLES,
    SLOTS,
    catalog_choices,
    examples,
    placeholder,
    welcome,
)

WIDE = 900  # px: at least this wide, the three-column desktop layout

# The layout and the cards' styles (passed to ``launch``: Gradio 6 takes CSS there).
CSS = f"""
#app {{ display: grid !important; gap: 12px; align-items: start;
  grid-template-columns: minmax(0, 1fr); grid-template-areas: "side" "talk" "picks" "compose"; }}
#app > * {{ min-width: 0 !important; width: auto !important; }}
#side {{ grid-area: side; }} #talk {{ grid-area: talk; }} #picks {{ grid-area: picks; }}
#compose {{ grid-area: compose; position: fixed; left: 0; right: 0; bottom: 0; z-index: 20;
  background: var(--background-fill-primary); padding: 6px 10px;
  border-top: 1px solid var(--border-color-primary); }}
#app {{ padding-bottom: 84px; }}
#chat {{ height: 52vh !important; min-height: 260px; }}
#app button, #header button {{ min-height: 44px; }}
#brand h1 {{ font-size: 1.5rem; margin: 0; }}
#who p {{ margin: 0; font-size: 0.85rem; overflow-wrap: anywhere; }}
/* Gradio's orange with white text is 2.8:1; this orange is 5.2:1 (WCAG AA). */
button.primary {{ background: #c2410c !important; border-color: #c2410c !important;
  color: #fff !important; }}
/* Gradio's light greys are under 4.5:1 on white: hints, the slider's ends, the footer. */
.info-text, .subdued, .show-api, footer a, footer button {{ color: #4b5563 !important;
  opacity: 1 !important; }}
#tries {{ gap: 6px; flex-wrap: wrap; }}
#talk:has(.message-row) #tries {{ display: none !important; }} /* examples: an empty chat's */
#tries button {{ flex: 1 1 auto; min-width: 0 !important; font-weight: normal; }}
#app input[type=checkbox] {{ min-width: 24px; min-height: 24px; }}
:focus-visible {{ outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }}
.pick-card {{ border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 6px; }}
.pick-card button {{ min-width: 0 !important; }}
#sessions input, #catalog input {{ text-overflow: ellipsis; padding-right: 28px; }}
@media (min-width: {WIDE}px) {{
  #app {{ grid-template-columns: 280px minmax(0, 1fr) minmax(300px, 380px);
    grid-template-areas: "side talk picks" "side compose picks"; grid-template-rows: auto 1fr; }}
  #compose {{ position: static; padding: 0; border: 0; }}
  #app {{ padding-bottom: 0; }}
  #chat {{ height: 600px !important; }}
}}
html, body {{ overflow-x: hidden; }}
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
    menu: gr.Accordion
    onboard: gr.Accordion


@dataclass
class Chat:
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    sent: gr.Textbox
    tries: list[gr.Button]  # the catalog's example requests


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
    width: gr.Number  # the browser window's width, read on load (``ui.handlers.Handlers.fit``)
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
        """What a turn updates (a message, an example, the onboarding form, a card's button):
        ``ui.handlers.TURN_OUTPUTS`` values."""
        s = self.side
        return [self.chat.chatbot, self.ident, self.picks, s.profile, s.sessions, *self.slots]


def build(no_identity: dict[str, str]) -> Layout:
    """Make the page's components; call inside ``with gr.Blocks(...)``. ``no_identity``: what
    a browser that has never signed in keeps."""
    ident = gr.BrowserState(dict(no_identity), storage_key="chatrec-identity")
    picks = gr.State([])
    with gr.Row(elem_id="header"):
        with gr.Column(scale=3, min_width=120):
            gr.Markdown("# chatrec", elem_id="brand")
            who = gr.Markdown("", elem_id="who")
        with gr.Column(scale=1, min_width=160):
            catalog = gr.Dropdown(
                catalog_choices(), value=DEFAULT_CATALOG, label="Catalog", elem_id="catalog"
            )
    with gr.Row(elem_id="app"):
        with gr.Column(elem_id="side"):
            side = _sidebar(who, catalog)
        with gr.Column(elem_id="talk"):
            chatbot = gr.Chatbot(
                label="Chat",
                elem_id="chat",
                feedback_options=None,
                placeholder=welcome(DEFAULT_CATALOG),
                buttons=["copy", "copy_all"],  # no "share" (to Hugging Face; unlabelled)
            )
            tries = _tries()
        with gr.Column(elem_id="picks"):
            cards = _picks()
        with gr.Column(elem_id="compose"):
            chat = _compose(chatbot, tries)
    width = gr.Number(visible=False)
    return Layout(ident, picks, width, side, chat, cards, _api())


def _sidebar(who: gr.Markdown, catalog: gr.Dropdown) -> Sidebar:
    with gr.Accordion("Menu: sign in, your chats, settings", open=False, elem_id="menu") as menu:
        name = gr.Textbox(label="Your name", placeholder="e.g. Ann", elem_id="name")
        password = gr.Textbox(
            label="Password (only if your name has one)",
            type="password",
            elem_id="password",
            max_length=200,
        )
        go = gr.Button("Sign in", elem_id="sign-in")
        sessions = gr.Dropdown([], label="Your chats", elem_id="sessions")
        new = gr.Button("New chat", elem_id="new-chat")
        lam = gr.Slider(
            0.0,
            1.0,
            value=0.8,
            step=0.05,
            label="Relevance ↔ diversity",
            info="1 = most relevant; lower = more varied picks",
            elem_id="lam",
        )
        profile = gr.Markdown("", elem_id="profile")
    with gr.Accordion("New here? Tell me your tastes", open=False, elem_id="onboard") as onboard:
        tastes = gr.Textbox(
            label="What do you like?",
            lines=2,
            elem_id="tastes",
            placeholder="e.g. I work from home and love music",
        )
        favs = gr.Dropdown(
            [], multiselect=True, label="…or pick a few favourites", elem_id="favourites"
        )
        start = gr.Button("Get my picks", variant="primary", elem_id="get-picks")
    return Sidebar(
        who,
        name,
        password,
        go,
        catalog,
        lam,
        profile,
        sessions,
        new,
        tastes,
        favs,
        start,
        menu,
        onboard,
    )


def _tries() -> list[gr.Button]:
    """The catalog's example requests, one tap to send (``EXAMPLES`` at most)."""
    shown = examples(DEFAULT_CATALOG)
    with gr.Row(elem_id="tries"):
        return [
            gr.Button(
                shown[n] if n < len(shown) else "",
                visible=n < len(shown),
                size="sm",
                elem_classes="try",
                elem_id=f"try-{n + 1}",
            )
            for n in range(EXAMPLES)
        ]


def _compose(chatbot: gr.Chatbot, tries: list[gr.Button]) -> Chat:
    with gr.Row(equal_height=True):
        box = gr.Textbox(
            label="Message",
            show_label=False,
            scale=5,
            elem_id="message",
            placeholder=placeholder(DEFAULT_CATALOG),
            max_length=2000,
        )
        send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="send")
    # What the message box held when it was sent: the box is cleared in the browser at once
    # (text typed after Enter is never lost), and the turn reads the message from here.
    sent = gr.Textbox(visible=False)
    return Chat(chatbot, box, send, sent, tries)


def _picks() -> list[Card]:
    gr.Markdown("### Picks", elem_id="picks-title")
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
