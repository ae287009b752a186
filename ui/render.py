"""What the page shows of a reply: Markdown for the chat, the pick cards, the sidebar lines.

Pure formatting: nothing here reads or writes a person's data. A pick is the ``items`` entry
of ``Reply.to_dict()`` (or of a stored turn): a dict with ``title``, ``attributes`` and,
once it has streamed, ``explanation``. ``cards`` returns one (visibility, text) pair per
card slot, in slot order, as ``layout.Layout.slots`` lists the components.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from chatrec import CATALOGS as BUILTIN
from chatrec import Reply, catalog_info

# The shop is what most people come for, so it is the default and listed first (a setting of
# the page, not a rule about the catalog: every catalog is served the same way).
DEFAULT_CATALOG = "store"
CATALOGS: tuple[str, ...] = (DEFAULT_CATALOG, *(c for c in BUILTIN if c != DEFAULT_CATALOG))
SLOTS = 10  # cards on screen: the most picks one reply shows


def examples() -> list[str]:
    """Example requests of every catalog, in the UI's order of catalogs."""
    return [text for name in CATALOGS for text in catalog_info(name).examples]


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
    """Markdown of pick number ``n``: bold title, its facts, and its explanation if any."""
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
    """``render`` of a ``Reply``."""
    return render(reply.text, reply.to_dict()["items"], full)


def cards(items: list[dict[str, Any]]) -> list[Any]:
    """The card slots for ``items``: (visibility, Markdown) per slot; unused slots hidden."""
    out: list[Any] = []
    for i in range(SLOTS):
        if i < len(items):
            out += [gr.update(visible=True), card(i + 1, items[i])]
        else:
            out += [gr.update(visible=False), ""]
    return out


def bubbles(turns: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Chat bubbles of stored turns, and the last list of picks among them."""
    msgs: list[dict] = []
    last: list[dict] = []
    for t in turns:
        msgs.append({"role": "user", "content": t["user"]})
        msgs.append({"role": "assistant", "content": render(t["bot"], t["items"], False)})
        if t["items"]:
            last = t["items"]
    return msgs, last


def who_line(user: str) -> str:
    return f"Chatting as **{user}**"


def profile_line(summary: str) -> str:
    return "**Your profile:** " + summary


def session_choices(sessions: list[dict[str, Any]], current: str) -> Any:
    """The "Your chats" dropdown: one entry per chat, ``current`` selected if it is one."""
    choices = [(f"{s['title'] or '(empty)'} · {s['turns']} turns", s["id"]) for s in sessions]
    value = current if any(c[1] == current for c in choices) else None
    return gr.update(choices=choices, value=value)
