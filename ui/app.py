"""The browser chat (Gradio 6): type a message, see the picks with their facts and reasons.

Imports only ``chatrec.ChatRecommender`` (and its reply types). One recommender per catalog,
loaded on first use and sharing one embedder; each browser session keeps its own dialogue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from chatrec import ChatRecommender, Reply
from chatrec.config import RuntimeConfig

log = logging.getLogger(__name__)

CATALOGS = ("store", "movies")
EXAMPLES = {
    "store": ["a TV under $500", "a laptop for travel under $900", "noise cancelling headphones"],
    "movies": ["an animated movie for kids", "a thriller from the 70s", "90s sci-fi, no horror"],
}


def render(reply: Reply) -> str:
    """Markdown for the chat: the reply's first line, then one card per pick."""
    if not reply.items:
        return reply.text
    head = reply.text.splitlines()[0]
    cards = []
    for n, r in enumerate(reply.items, 1):
        a = r.attributes
        facts = []
        if "price" in a:
            hi = a.get("price_max")
            facts.append(f"${a['price']:,.2f}" + (f"–${hi:,.2f}" if hi else ""))
        if "year" in a:
            facts.append(str(a["year"]))
        if a.get("categories"):
            facts.append(", ".join(a["categories"]))
        if "rating" in a:
            facts.append(f"{a['rating']:g}★ ({a.get('review_count', 0):,})")
        card = f"**{n}. {r.title}**  \n{' · '.join(facts)}"
        if r.explanation:  # empty until its explanation starts streaming
            card += "  \n_" + r.explanation.replace("_", "\\_").replace("*", "\\*") + "_"
        cards.append(card)
    return head + "\n\n" + "\n\n".join(cards)


class Recommenders:
    """Loads each catalog's recommender once, on first use, sharing the embedder."""

    def __init__(
        self, runtime: RuntimeConfig, factory: Callable[..., ChatRecommender] | None = None
    ):
        self.runtime = runtime
        self.factory = factory or ChatRecommender.from_pretrained
        self._loaded: dict[str, ChatRecommender] = {}
        self._lock = threading.Lock()

    def get(self, catalog: str) -> ChatRecommender:
        with self._lock:
            if catalog not in self._loaded:
                shared = next(iter(self._loaded.values()), None)
                kwargs: dict[str, Any] = {"runtime": self.runtime}
                if shared is not None:  # one embedder and one language model for all catalogs
                    kwargs["embedder"] = shared.retriever.embedder
                    kwargs["generator"] = shared.generator
                    kwargs["llm"] = shared.generator is not None
                self._loaded[catalog] = self.factory(catalog, **kwargs)
            return self._loaded[catalog]


def build_app(recommenders: Recommenders) -> gr.Blocks:
    def respond(
        message: str, history: list[dict], catalog: str, request: gr.Request
    ) -> Iterator[str]:
        """Streams: the picks as soon as they are ranked, then their explanations."""
        if catalog not in CATALOGS:
            yield f"Please pick a catalog: {', '.join(CATALOGS)}."
            return
        try:
            rec = recommenders.get(catalog)
            session = f"{getattr(request, 'session_hash', None) or 'anon'}:{catalog}"
            for reply in rec.chat_stream(message, session):
                yield render(reply)
        except Exception:  # the person sees a friendly line; the details go to the server log
            log.exception("chat turn failed")
            yield "Sorry, something went wrong on my side. Please try again."

    with gr.Blocks(title="chatrec") as demo:
        gr.Markdown("## chatrec — tell me what you're looking for")
        catalog = gr.Dropdown(list(CATALOGS), value="store", label="Catalog")
        gr.ChatInterface(
            respond,
            additional_inputs=[catalog],
            examples=[[m, "store"] for m in EXAMPLES["store"]]
            + [[m, "movies"] for m in EXAMPLES["movies"]],
            api_name="chat",
            fill_height=True,
        )
    return demo


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    runtime: RuntimeConfig | None = None,
    block: bool = True,
) -> gr.Blocks:
    """Start the app; the store recommender is loaded before the first request."""
    recs = Recommenders(runtime or RuntimeConfig())
    recs.get("store")
    demo = build_app(recs)
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        footer_links=["api"],
        quiet=not block,
    )
    return demo


if __name__ == "__main__":
    launch()
