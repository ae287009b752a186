"""The grounding audit: over 200 varied messages, nothing outside the catalog, no invented
numbers; and the audit itself notices such things when they happen."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chatrec.catalog import Catalog
from chatrec.config import RuntimeConfig
from chatrec.eval.audit import AuditResult, audit, conversations
from chatrec.recommender import ChatRecommender


def test_the_audit_covers_over_200_varied_messages() -> None:
    n = {c: sum(len(s) for s in conversations(c)) for c in ("store", "movies")}
    assert sum(n.values()) >= 200 and min(n.values()) >= 100
    store = [m for s in conversations("store") for m in s]
    assert any("system prompt" in m for m in store) and any("<script>" in m for m in store)
    assert any(len(s) >= 3 for s in conversations("movies"))  # multi-turn conversations too


@dataclass
class _Item:
    item_id: str
    title: str
    explanation: str
    source: str = "llm"
    problems: tuple[str, ...] = ()


@dataclass
class _Reply:
    text: str
    intent: str = "recommend"
    items: list[_Item] = field(default_factory=list)


class _LyingRecommender:
    """Says things the real one must never say, to show the audit counts them."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def chat(self, message: str, session_id: str) -> _Reply:
        tv, other = self.catalog.get("tv1"), self.catalog.get("tv2")
        return _Reply(
            "Here: 1. The Matrix (1999)",
            items=[
                _Item("nope", "Imaginary TV", "x"),
                _Item(tv.id, tv.title, f"Only $5, better than the {other.title}."),
                _Item(tv.id, tv.title, 'A 4K LED TV, as good as "Blade Runner".'),
            ],
        )


def test_the_audit_counts_what_must_never_happen(tiny_catalog: Catalog) -> None:
    res = audit(_LyingRecommender(tiny_catalog), "store", sessions=[["a tv"]])
    assert res.invalid_items == 1
    assert res.invented_numbers >= 1  # $5 is no price of tv1
    assert res.other_items_named == 1  # tv2 named in tv1's explanation
    assert res.unknown_titles == 2  # The Matrix (1999) and "Blade Runner"


def _check(res: AuditResult) -> None:
    assert res.invalid_items == 0, res.failures
    assert res.other_items_named == 0, res.failures
    assert res.unknown_titles == 0, res.failures
    assert res.invented_numbers == 0, res.failures


@pytest.mark.integration
@pytest.mark.parametrize("catalog", ["store", "movies"])
def test_every_audit_message_stays_in_the_catalog(
    catalog: str, real_runtime: RuntimeConfig
) -> None:
    """All audit conversations on the real data (retrieval and fact templates)."""
    rec = ChatRecommender.from_pretrained(catalog, runtime=real_runtime, llm=False)
    res = audit(rec, catalog)
    assert res.messages >= 100 and res.items_shown >= 300
    _check(res)


@pytest.mark.integration
def test_generated_explanations_stay_grounded(real_runtime: RuntimeConfig) -> None:
    """A slice with the real language model reranking and explaining (the full run is
    `chatrec audit`, minutes on this CPU)."""
    rec = ChatRecommender.from_pretrained("movies", runtime=real_runtime)
    # The rerank is off by default (it did not beat its retriever): one model, the
    # explainer's, with its own adapter when one is shipped.
    assert rec.rerank_config.kind == "none" and rec.generator is rec.explain_generator
    assert rec.explainer.generator is rec.explain_generator
    res = audit(rec, "movies", sessions=[["a thriller from the 70s"], ["a western"]])
    assert res.explanations >= 6 and res.llm_explanations + res.template_fallbacks == 6
    _check(res)
    guest = rec.chat("a sci-fi film from the 90s", session_id="a-new-guest")
    for it in guest.items:  # someone with no history is never told what they liked
        assert "you liked" not in it.explanation.lower(), it.explanation
    store = ChatRecommender.from_pretrained(
        "store",
        runtime=real_runtime,
        embedder=rec.retriever.embedder,
        generator=rec.explain_generator,
    )
    assert store.generator is rec.explain_generator  # shared, not loaded again
    _check(audit(store, "store", sessions=[["a TV under $500"], ["cheap wireless headphones"]]))
