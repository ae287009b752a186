"""Rerank: the verbalizer on fake generators (prompt, one pass per order, debiasing, position
bias), fusion and ordering, the cross-encoder on a tiny random BERT, and the real SmolLM2."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import jinja2
import numpy as np
import pytest

from chatrec.catalog import Catalog, Item
from chatrec.config import RerankConfig
from chatrec.models import MissingWeightsError
from chatrec.prompts import render_messages
from chatrec.rerank import (
    LETTERS,
    CrossEncoderReranker,
    RerankQuery,
    VerbalizerReranker,
    build_reranker,
    candidate_lines,
    describe,
    display_orders,
    evidence_text,
    fuse,
    item_text,
    position_bias,
    query_text,
    rerank,
)
from chatrec.types import Candidate, Pull

_LINE = re.compile(r"^([A-Z])\. (.*)$", re.M)


class FakeGenerator:
    """Reads the candidate lines back out of the prompt, like a model that reads the list.

    A letter whose line mentions ``keyword`` gets log-prob -1, every other one -4; ``a_bias``
    is added to letter A, as in a model that favours the first position.
    """

    def __init__(self, keyword: str = "", a_bias: float = 0.0):
        self.keyword = keyword.lower()
        self.a_bias = a_bias
        self.prompts: list[str] = []

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return "".join(f"<{m['role']}>\n{m['content']}\n" for m in messages) + "<assistant>\n"

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray:
        self.prompts.append(prompt)
        lines = dict(_LINE.findall(prompt))
        return np.array(
            [
                (-1.0 if self.keyword and self.keyword in lines[c].lower() else -4.0)
                + (self.a_bias if c == "A" else 0.0)
                for c in choices
            ]
        )


class FixedReranker:
    """Scores items by a fixed table (missing ids score 0)."""

    def __init__(self, table: dict[str, float]):
        self.table = table

    def scores(self, query: RerankQuery, items: Sequence[Item]) -> np.ndarray:
        return np.array([self.table.get(it.id, 0.0) for it in items])


def _candidates(catalog: Catalog) -> list[Candidate]:
    # Retriever order = catalog order, scores strictly decreasing.
    return [Candidate(it, 1.0 - 0.01 * r, r) for r, it in enumerate(catalog.items)]


# --- prompt -------------------------------------------------------------------------------


def test_prompt_lists_every_candidate_the_history_and_the_wishes(tiny_catalog: Catalog) -> None:
    gen = FakeGenerator()
    reranker = VerbalizerReranker(gen, RerankConfig(history_titles=2))
    history = ("Old Favourite", 'Acme 65" 4K OLED TV', "Studio wired headphones")
    prompt = reranker.prompt(RerankQuery("a quiet laptop", history), tiny_catalog.items)

    lines = dict(_LINE.findall(prompt))
    assert list(lines) == list(LETTERS[:20])
    for letter, item in zip(LETTERS, tiny_catalog.items, strict=False):
        assert lines[letter] == describe(item) and item.title in lines[letter]
    assert "a quiet laptop" in prompt
    assert "Studio wired headphones" in prompt and "Old Favourite" not in prompt  # 2 most recent
    assert "| $299\n" in prompt  # whole dollars: cents cost tokens
    # The answer is read right after the assistant turn opens.
    assert prompt.rstrip().endswith("<assistant>")


def test_prompt_without_history_and_template_roles(tiny_catalog: Catalog) -> None:
    items = tiny_catalog.items[:3]
    prompt = VerbalizerReranker(FakeGenerator()).prompt(RerankQuery("a TV"), items)
    assert "liked" not in prompt.lower()
    assert [letter for letter, _ in _LINE.findall(prompt)] == ["A", "B", "C"]

    messages = render_messages(
        "rerank",
        wishes="x",
        history=[],
        disliked=[],
        candidates=[("A", "y")],
        ranked=True,
        evidence=False,
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "best guesses first" in messages[1]["content"]
    unranked = VerbalizerReranker(FakeGenerator(), RerankConfig(ranked=False))
    assert "best guesses first" not in unranked.prompt(RerankQuery("a TV"), items)
    assert all(m["content"] and not m["content"].startswith("\n") for m in messages)
    with pytest.raises(jinja2.UndefinedError):  # a missing variable never renders silently
        render_messages("rerank", wishes="x", candidates=[])


def test_evidence_is_shown_after_each_line_when_the_config_asks(tiny_catalog: Catalog) -> None:
    """The evidence reranker reads each candidate's numbers; the prompt explains them once and
    makes no claim of order."""
    items = tiny_catalog.items[:3]
    alien = Pull("a", "Alien (1979)", 212, 61, 4.1, 0.2)
    ev = {items[0].id: evidence_text([alien], 3.84, 201), items[1].id: evidence_text([], None, 0)}
    assert ev[items[0].id] == "3.8 by 201; 29% of Alien fans"
    assert ev[items[1].id] == "unrated; none of your fans"
    query = RerankQuery("a TV", ("Alien (1979)",), evidence=ev)
    shown = VerbalizerReranker(FakeGenerator(), RerankConfig(ranked=False, evidence=True))
    prompt = shown.prompt(query, items)
    lines = dict(_LINE.findall(prompt))
    assert lines["A"] == describe(items[0]) + " || 3.8 by 201; 29% of Alien fans"
    assert lines["C"].endswith("|| no evidence")  # an item the caller had nothing for
    assert "share of fans" in prompt and "best guesses first" not in prompt
    # Without the flag the same query shows no evidence: the old adapter's prompt, unchanged.
    plain = VerbalizerReranker(FakeGenerator()).prompt(query, items)
    assert "||" not in plain and dict(_LINE.findall(plain))["A"] == describe(items[0])
    assert candidate_lines(items[:1]) == [("A", describe(items[0]))]


def test_describe_is_one_compact_line() -> None:
    long = Item(
        id="x",
        title='Samsung 85" Class - QN85C Series - 4K UHD Neo QLED LCD TV - Allstate 3-Year '
        "Protection Plan Bundle Included For 5 Years Of Total Coverage*",
        categories=("TVs",),
        price=2299.99,
    )
    line = describe(long)
    assert line.startswith('Samsung 85" Class') and line.endswith("| TVs | $2299")
    assert "\n" not in line and len(line) < 90
    film = Item(
        id="1", title="Heat", categories=("Action", "Crime", "Thriller", "Drama"), year=1995
    )
    assert describe(film) == "Heat | 1995 | Action, Crime, Thriller"


def test_too_many_items_for_the_letters_is_an_error(tiny_catalog: Catalog) -> None:
    items = [it.model_copy(update={"id": f"{it.id}-{k}"}) for k in range(2) for it in tiny_catalog]
    with pytest.raises(ValueError, match="at most 26"):
        VerbalizerReranker(FakeGenerator()).prompt(RerankQuery("x"), items[:27])


# --- verbalizer scores and debiasing ------------------------------------------------------


def test_display_orders_identity_reversed_then_distinct_shuffles() -> None:
    orders = display_orders(6, 5, seed=3)
    assert orders[0].tolist() == list(range(6)) and orders[1].tolist() == list(range(6))[::-1]
    assert len({tuple(o) for o in orders}) == 5
    assert all(sorted(o.tolist()) == list(range(6)) for o in orders)
    assert [o.tolist() for o in orders] == [o.tolist() for o in display_orders(6, 5, seed=3)]
    assert len(display_orders(2, 8)) == 2 and len(display_orders(1, 8)) == 1


def test_verbalizer_scores_every_item_in_one_pass_per_order(tiny_catalog: Catalog) -> None:
    items = tiny_catalog.items
    for p in (1, 3):
        gen = FakeGenerator("gaming")
        scores = VerbalizerReranker(gen, RerankConfig(permutations=p)).scores(
            RerankQuery("a gaming laptop"), items
        )
        assert len(gen.prompts) == p  # one forward pass per display order
        assert scores.shape == (20,) and scores.dtype == np.float64
        assert items[int(np.argmax(scores))].id == "lap2"
    # One order: log-probabilities renormalised over the letters shown.
    assert np.exp(VerbalizerReranker(gen).scores(RerankQuery("x"), items)).sum() == pytest.approx(1)


def test_permutations_cancel_a_first_position_bias(tiny_catalog: Catalog) -> None:
    items = tiny_catalog.items  # the gaming laptop is 9th; a TV is shown first
    query = RerankQuery("a gaming laptop")
    biased = FakeGenerator("gaming", a_bias=4.0)  # A beats the right answer by 1 nat
    single = VerbalizerReranker(biased, RerankConfig(permutations=1)).scores(query, items)
    assert items[int(np.argmax(single))].id == "tv1"
    debiased = VerbalizerReranker(biased, RerankConfig(permutations=4)).scores(query, items)
    assert items[int(np.argmax(debiased))].id == "lap2"


def test_position_bias_reports_a_first_position_model(tiny_catalog: Catalog) -> None:
    items = tiny_catalog.items
    queries = [RerankQuery("a gaming laptop")] * 3
    biased = FakeGenerator("gaming", a_bias=4.0)
    single = position_bias(VerbalizerReranker(biased), queries, [items] * 3, n_orders=4, seed=1)
    assert single["top1_at_a"] == 1.0 and single["top1_share_by_position"][0] == 1.0
    assert single["mass_at_a"] > 5 * single["uniform_mass"]
    assert single["uniform_mass"] == pytest.approx(1 / 20)
    assert len(single["position_mass"]) == 20
    assert sum(single["position_mass"]) == pytest.approx(1.0)
    assert single["top1_agreement"] < 0.5  # whichever item happens to be first wins

    reranker = VerbalizerReranker(biased, RerankConfig(permutations=4))
    debiased = position_bias(reranker, queries, [items] * 3, n_orders=4, seed=1)
    assert debiased["top1_at_a"] == 1.0  # each single pass is as biased as before ...
    assert debiased["debiased_top1_at_a"] < 0.5  # ... but the averaged scores are not
    assert debiased["debiased_top1_agreement"] == 1.0

    fair = position_bias(VerbalizerReranker(FakeGenerator("gaming")), queries, [items] * 3, 4)
    assert fair["top1_agreement"] == 1.0 and fair["top1_at_a"] < 0.5


# --- fusion and ordering --------------------------------------------------------------------


def test_fuse_standardises_each_score_list() -> None:
    r, s = np.array([1.0, 2.0, 3.0]), np.array([30.0, 20.0, 10.0])
    assert np.allclose(fuse(r, s, 0.5), 0.0)  # equal weight, opposite orders: a draw
    assert np.allclose(fuse(r, s, 0.0), (r - 2) / r.std())
    assert np.argmax(fuse(r, s, 1.0)) == 0
    assert np.allclose(fuse([5, 5, 5], [1, 1, 1], 0.5), 0.0)  # zero spread: no signal
    fused = fuse([0, 0, 0], [-1.0, -np.inf, 0.0], 1.0)
    assert np.isfinite(fused).all() and np.argmin(fused) == 1
    with pytest.raises(ValueError, match="shapes"):
        fuse([1, 2], [1, 2, 3], 0.5)


def test_rerank_reorders_the_head_and_keeps_the_tail(tiny_catalog: Catalog) -> None:
    cands = _candidates(tiny_catalog)
    config = RerankConfig(max_candidates=5, weight=0.9)
    out = rerank(FixedReranker({"tv5": 10.0}), RerankQuery("x"), cands, config)
    assert [c.item.id for c in out[:5]] == ["tv5", "tv1", "tv2", "tv3", "tv4"]
    assert out[5:] == cands[5:]  # untouched, scores included
    head = [c.score for c in out[:5]]
    assert head == sorted(head, reverse=True) and head[0] == pytest.approx(
        fuse([c.score for c in cands[:5]], [0, 0, 0, 0, 10.0], 0.9)[4]
    )
    assert [c.row for c in out[:5]] == [4, 0, 1, 2, 3]

    assert rerank(None, RerankQuery("x"), cands, config) == cands
    none = RerankConfig(kind="none")
    assert rerank(FixedReranker({"tv5": 10.0}), RerankQuery("x"), cands, none) == cands
    assert rerank(FixedReranker({}), RerankQuery("x"), [], config) == []


def test_rerank_never_leaves_the_candidate_list(tiny_catalog: Catalog) -> None:
    cands = _candidates(tiny_catalog)  # the 4 smart watches are the last 4
    config = RerankConfig(max_candidates=18, permutations=2, weight=0.8)
    out = rerank(
        VerbalizerReranker(FakeGenerator("watch"), config), RerankQuery("watch"), cands, config
    )
    assert len(out) == len(cands) and len({c.item.id for c in out}) == len(out)
    assert {c.item.id for c in out} == {c.item.id for c in cands}
    assert {c.item.id for c in out[:2]} == {"sw1", "sw2"}  # the watches it was shown
    assert out[18:] == cands[18:]  # the ones it was not shown stay behind, untouched


def test_build_reranker_from_config(tmp_path: Path) -> None:
    assert build_reranker(RerankConfig(kind="none")) is None
    gen = FakeGenerator()
    verbalizer = RerankConfig(kind="verbalizer")
    assert isinstance(build_reranker(verbalizer, gen), VerbalizerReranker)
    with pytest.raises(ValueError, match="generator"):
        build_reranker(verbalizer)
    with pytest.raises(MissingWeightsError, match="train"):
        build_reranker(RerankConfig(kind="cross_encoder"))
    missing = RerankConfig(kind="cross_encoder", cross_encoder=str(tmp_path / "nope"))
    with pytest.raises(MissingWeightsError, match="does not exist"):
        build_reranker(missing)


# --- cross-encoder on a tiny random BERT ------------------------------------------------------


@pytest.fixture
def tiny_bert(tmp_path: Path, tiny_catalog: Catalog) -> Path:
    """A 2-layer, 32-wide random BERT with a WordPiece vocabulary of the fixture's words."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    torch.manual_seed(0)  # the random weights, and below the dropout and batch order
    words: dict[str, None] = {}
    texts = ["a tv", "a laptop", "headphones", *map(item_text, tiny_catalog)]
    for text in texts:
        for w in re.findall(r"\w+|[^\w\s]", text.lower()):
            words.setdefault(w, None)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
    )
    folder = tmp_path / "tiny-bert"
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_cross_encoder_learns_and_round_trips(
    tiny_bert: Path, tiny_catalog: Catalog, tmp_path: Path
) -> None:
    reranker = CrossEncoderReranker.from_base(str(tiny_bert), device="cpu", max_length=64)
    wants = {"a tv": "TVs", "a laptop": "Laptops", "headphones": "Headphones"}
    pairs = [
        (q, item_text(it), float(cat in it.categories))
        for q, cat in wants.items()
        for it in tiny_catalog
        if not it.addon
    ]
    losses = reranker.fit(pairs, epochs=30, batch_size=8, lr=3e-3)
    assert losses[-1] < 0.5 * losses[0]

    items = tiny_catalog.items
    for q, cat in wants.items():
        scores = reranker.scores(RerankQuery(q), items)
        assert scores.shape == (20,) and scores.dtype == np.float64
        pos = [s for s, it in zip(scores, items, strict=True) if cat in it.categories]
        neg = [s for s, it in zip(scores, items, strict=True) if cat not in it.categories]
        assert np.mean(pos) > np.mean(neg)
        assert items[int(np.argmax(scores))].categories[0] == cat

    reranker.save(tmp_path / "ce")
    config = RerankConfig(kind="cross_encoder", cross_encoder=str(tmp_path / "ce"))
    loaded = build_reranker(config, device="cpu")
    assert isinstance(loaded, CrossEncoderReranker)
    query = RerankQuery("a tv", history=('Acme 14" laptop, 8GB RAM',))
    assert np.allclose(loaded.scores(query, items), reranker.scores(query, items), atol=1e-6)


def test_cross_encoder_texts() -> None:
    q = RerankQuery("a tv", ("one", "two", "three"))
    assert query_text(q, 2) == "a tv. Liked: two; three"
    assert query_text(q, 0) == "a tv" and query_text(RerankQuery("a tv")) == "a tv"
    item = Item(id="1", title="Zen TV", categories=("TVs",), price=199.0, text="smart apps")
    assert item_text(item) == "Zen TV | TVs | $199. smart apps"


# --- the real packaged SmolLM2 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm():
    from chatrec.config import GeneratorConfig, RuntimeConfig
    from chatrec.generate import TransformersGenerator

    # float32: these tests compare computations that must agree exactly (int8 activations are
    # quantized per batch, so a batch or a cached prefix changes the rounding).
    cfg = GeneratorConfig(quantize="none")
    return TransformersGenerator.from_config(cfg, RuntimeConfig(device="cpu"))


@pytest.mark.integration
def test_real_verbalizer_on_store_items(smollm) -> None:
    """What the zero-shot 135M model does reliably: it answers with a letter (the prompt and
    the bare-letter form work), the prompt-prefix cache changes no score, and rerank keeps the
    list. (Whether TVs outrank batteries for "a TV under $500" it does NOT do reliably: its
    zero-shot ranking is at chance; that is the LoRA adapter's job.)"""
    import torch

    from chatrec.datasets import data_dir
    from chatrec.datasets.store import load as load_store

    catalog = load_store(data_dir())

    def pick(category: str, k: int) -> list[Item]:
        return [it for it in catalog if category in it.categories and not it.addon][:k]

    items = (
        pick("TVs", 6)
        + pick("Headphones & Earbuds", 4)
        + pick("Laptops & Notebook Computers", 4)
        + pick("Batteries", 3)
        + pick("Smart Watches", 3)
    )
    items = [items[i] for i in np.random.default_rng(0).permutation(len(items))]
    config = RerankConfig(permutations=2)
    reranker = VerbalizerReranker(smollm, config)
    query = RerankQuery("a TV under $500")

    prompt = reranker.prompt(query, items)
    assert len(smollm.tokenizer.encode(prompt, add_special_tokens=False)) < 900
    letters = list(LETTERS[:20])
    bare = np.exp(smollm.choice_logprobs(prompt, letters)).sum()
    spaced = np.exp(smollm.choice_logprobs(prompt, [" " + c for c in letters])).sum()
    assert bare > 0.5 and spaced < 0.01  # the answer starts with a bare letter

    scores = reranker.scores(query, items)  # reuses the cached prompt prefix
    assert scores.shape == (20,) and np.isfinite(scores).all()
    with torch.inference_mode():  # the same first-order scores without any cache
        enc = smollm._encode([prompt])
        logits = smollm.model(**enc).logits[0, -1].float()
    fresh = torch.log_softmax(logits, -1)[smollm.choice_token_ids(letters)].numpy()
    cached = reranker.letter_logprobs(query, items)  # prefix cached from the reversed order
    renorm = fresh - np.log(np.exp(fresh).sum())
    assert np.allclose(cached, renorm, atol=1e-3)

    cands = [Candidate(it, 1.0 - 0.01 * r, r) for r, it in enumerate(items)]
    out = rerank(reranker, query, cands, config)
    assert sorted(c.item.id for c in out) == sorted(it.id for it in items)
