"""What the page shows of a reply: Markdown for the chat, the pick cards, the sidebar lines.

Pure formatting: nothing here reads or writes a person's data. A pick is the ``items`` entry
of ``Reply.to_dict()`` (or of a stored turn): a dict with ``title``, ``attributes`` and,
once it has streamed, ``explanation``. ``cards`` returns one (visibility, text) pair per
card slot, in slot order, as ``layout.Layout.slots`` lists the components.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr

from chatrec import CATALOGS as BUILTIN
from chatrec import GUEST_PREFIX, Reply, catalog_info

# The shop is what most people come for, so it is the default and listed first (a setting of
# the page, not a rule about the catalog: every catalog is served the same way).
DEFAULT_CATALOG = "store"
CATALOGS: tuple[str, ...] = (DEFAULT_CATALOG, *(c for c in BUILTIN if c != DEFAULT_CATALOG))
SLOTS = 10  # cards on screen: the most picks one reply shows


EXAMPLES = 3  # example requests shown under the chat


def examples(catalog: str) -> list[str]:
    """The example requests of ``catalog`` shown under the chat (``EXAMPLES`` at most)."""
    return catalog_info(catalog).examples[:EXAMPLES]


def label(catalog: str) -> str:
    """The catalog's name in the menu ("Electronics", "Movies")."""
    return catalog_info(catalog).label or catalog.capitalize()


def catalog_choices() -> list[tuple[str, str]]:
    """The catalog menu: (name shown, value) per catalog."""
    return [(label(c), c) for c in CATALOGS]


def welcome(catalog: str) -> str:
    """What an empty chat shows: what the app can do in this catalog."""
    info = catalog_info(catalog)
    return info.welcome or f"Tell me what {info.nouns} you are looking for."


def placeholder(catalog: str) -> str:
    """The message box's hint in ``catalog``."""
    info = catalog_info(catalog)
    return f"Ask for {info.nouns}, or about one…"


def switch_hint(message: str, catalog: str) -> str:
    """A line pointing to the catalog a request belongs to ("a movie" in the store), or ""."""
    words = set(re.findall(r"[a-z]+", message.lower()))
    if words & set(catalog_info(catalog).words):
        return ""
    for other in CATALOGS:
        if other != catalog and words & set(catalog_info(other).words):
            return (
                f"_Looking for {catalog_info(other).nouns}? Choose **{escape(label(other))}** "
                "under Catalog at the top: this catalog doesn't hold them._"
            )
    return ""


def plural(n: int, word: str) -> str:
    """ "1 turn", "2 turns"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# What makes markup inside a line (emphasis, code, links, strike-through, tables, HTML): a
# title is shown as written, never as markup. Catalog text never starts a line, so the
# line-start marks (#, >, 1.) need no escape.
_MARKDOWN = re.compile(r"([\\`*_\[\]~|])")


def escape(text: str) -> str:
    """``text`` as literal Markdown: "Coverage***" stays "Coverage***", "<b>" stays "<b>"."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN.sub(r"\\\1", text)


def facts_line(a: dict[str, Any], title: str = "") -> str:
    """Key attributes of a pick: price or year (unless the ``title`` says it), categories,
    rating."""
    facts = []
    if a.get("price") is not None:
        hi = a.get("price_max")
        facts.append(f"${a['price']:,.2f}" + (f"–${hi:,.2f}" if hi else ""))
    if a.get("year") is not None and not title.endswith(f"({a['year']})"):
        facts.append(str(a["year"]))
    if a.get("categories"):
        facts.append(", ".join(a["categories"]))
    if a.get("rating") is not None:
        facts.append(f"{a['rating']:g}★ ({a.get('review_count', 0):,})")
    return " · ".join(facts)


def card(n: int, item: dict[str, Any]) -> str:
    """Markdown of pick number ``n``: bold title, its facts, and its explanation if any."""
    facts = escape(facts_line(item.get("attributes") or {}, item["title"]))
    text = f"**{n}. {escape(item['title'])}**  \n{facts}"
    if item.get("explanation"):  # empty until its explanation starts streaming
        text += "  \n_" + escape(item["explanation"]) + "_"
    return text


def render(text: str, items: list[dict[str, Any]], full: bool = True) -> str:
    """Markdown for a reply: its first line, then one card per pick (``full``: with the
    explanation, as the API returns it; else one line each, as the chat shows it next to the
    cards panel)."""
    if not items:
        return escape(text)
    head = escape(text.splitlines()[0]) if text else ""
    if full:
        return head + "\n\n" + "\n\n".join(card(n, it) for n, it in enumerate(items, 1))
    lines = [
        f"{n}. **{escape(it['title'])}** — "
        + escape(facts_line(it.get("attributes") or {}, it["title"]))
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
        msgs.append({"role": "user", "content": escape(t["user"])})
        msgs.append({"role": "assistant", "content": render(t["bot"], t["items"], False)})
        if t["items"]:
            last = t["items"]
    return msgs, last


def _short(title: str, n: int = 32) -> str:
    """A chat's name cut to fit the menu ("A laptop for travel unde…")."""
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def who_line(user: str) -> str:
    """Who is chatting: a person's name, or a guest (whose made-up name means nothing)."""
    if user.startswith(GUEST_PREFIX):
        return "Chatting as a guest"
    return f"Chatting as **{escape(user)}**"


def profile_line(summary: str) -> str:
    return "**Your profile:** " + summary


def session_choices(sessions: list[dict[str, Any]], current: str) -> Any:
    """The "Your chats" dropdown: one entry per chat, ``current`` selected if it is one."""
    choices = [
        (f"{_short(s['title'] or '(empty)')} · {plural(s['turns'], 'turn')}", s["id"])
        for s in sessions
    ]
    value = current if any(c[1] == current for c in choices) else None
    return gr.update(choices=choices, value=value)
