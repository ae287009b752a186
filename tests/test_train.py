"""Training data (training split only, prompts identical to inference) and the LoRA trainer
on a tiny random Llama with the real SmolLM2 tokenizer."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from chatrec.catalog import Catalog, Item
from chatrec.config import RerankConfig
from chatrec.datasets.split import Split
from chatrec.facts import fact_numbers, numbers_in
from chatrec.rerank import RerankQuery, VerbalizerReranker
from chatrec.train.data import (
    LETTERS,
    RerankEvidence,
    build_product_examples,
    build_rerank_examples,
    card,
    rerank_messages,
)
from chatrec.train.lora import (
    LoraTrainConfig,
    ValItem,
    add_lora,
    answer_loss,
    collate,
    encode,
    train_lora,
    validate,
)

from .conftest import tiny_llama

GENRES = ("Comedy", "Drama", "Horror", "Sci-Fi", "Western")
_LETTERED = re.compile(r"^([A-Z])\. (.*)$", re.M)


def _movies(n: int = 40) -> Catalog:
    return Catalog(
        "movies",
        [
            Item(
                id=str(i),
                title=f"Film {i} ({1950 + i})",
                year=1950 + i,
                categories=(GENRES[i % 5], GENRES[(i + 2) % 5]),
            )
            for i in range(n)
        ],
    )


def _split(n_items: int = 40, users: int = 12, length: int = 14, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    seqs = [rng.permutation(n_items)[:length].astype(np.int32) for _ in range(users)]
    rats = [rng.integers(1, 6, size=length).astype(np.float32) for _ in range(users)]
    return Split(n_items, np.arange(1, users + 1), seqs, rats)


def _scores(n: int) -> object:
    return lambda hist, wish: np.linspace(1, 0, n)  # a fixed order: item 0 best


class Echo:
    """A generator whose chat template is visible text."""

    def chat_prompt(self, messages: list[dict[str, str]]) -> str:
        return "\n".join(f"<{m['role']}>{m['content']}" for m in messages)


def test_training_prompt_is_the_inference_prompt() -> None:
    items = _movies(20).items
    liked, disliked = ["Film 3 (1953)", "Film 5 (1955)"], ["Film 9 (1959)"]
    trained = Echo().chat_prompt(rerank_messages("a western", liked, disliked, items))
    served = VerbalizerReranker(Echo(), RerankConfig(history_titles=10)).prompt(
        RerankQuery("a western", tuple(liked), tuple(disliked)), items
    )
    assert trained == served
    assert "They disliked: Film 9 (1959)" in served and "T. Film 19" in served


def test_examples_use_training_items_only_and_point_at_the_target() -> None:
    cat, sp = _movies(), _split()
    ex = build_rerank_examples(sp, cat, _scores(40), 60, seed=3)
    assert ex == build_rerank_examples(sp, cat, _scores(40), 60, seed=3)  # deterministic
    held_out = {
        (int(sp.users[u]), cat.items[i].id) for u in range(12) for i in sp.sequences[u][-2:]
    }
    for e in ex:
        m = e.meta
        assert (m["user"], m["target"]) not in held_out
        u = int(m["user"]) - 1
        train_ids = {cat.items[i].id for i in sp.train(u)}
        assert m["target"] in train_ids
        assert m["candidates"][LETTERS.index(e.answer)] == m["target"]
        assert len(m["candidates"]) == 20 == e.n_choices
        assert e.explanation.startswith(cat.get(m["target"]).title)
        assert not set(m["liked"]) & {cat.items[i].title for i in sp.sequences[u][-2:]}
    c = card(ex, 3, "test")
    assert c["examples"] == 60 and len(c["answer_letters"]) > 5  # the answer is not always "A"
    assert {"rerank", "cold_start", "refine"} <= set(c["by_kind"])
    cold = [e for e in ex if e.kind == "cold_start"]
    assert cold and all("They liked" not in e.messages[-1]["content"] for e in cold)


def test_candidates_come_in_the_retrievers_order_and_misses_land_where_hits_do() -> None:
    cat, sp = _movies(), _split()
    ex = build_rerank_examples(sp, cat, _scores(40), 200, seed=5, misses=True)
    rank = {it.id: i for i, it in enumerate(cat.items)}  # _scores: item 0 scores best
    hits, misses = [], []
    for e in ex:
        m = e.meta
        others = [rank[c] for c in m["candidates"] if c != m["target"]]
        assert others == sorted(others), m["candidates"]  # the retriever's order, best first
        assert "our best guesses first" in e.messages[-1]["content"]
        (hits if m["hit"] else misses).append(LETTERS.index(e.answer))
    assert hits and misses
    # A missed target sits only where some earlier hit sat: its letter says no more than rank.
    assert set(misses) <= set(hits)
    shuffled = build_rerank_examples(sp, cat, _scores(40), 40, seed=5, ranked=False)
    assert any(
        [rank[c] for c in e.meta["candidates"]] != sorted(rank[c] for c in e.meta["candidates"])
        for e in shuffled
    )
    assert all("best guesses" not in e.messages[-1]["content"] for e in shuffled)


def test_evidence_examples_are_shuffled_and_never_count_their_own_person() -> None:
    """The evidence reranker's lists carry no order, each line ends with its evidence, and
    that evidence is what everybody else's ratings say: the person is left out of it."""
    cat, sp = _movies(), _split()
    ev = RerankEvidence.fit(sp)
    ex = build_rerank_examples(sp, cat, _scores(40), 40, seed=5, ranked=False, evidence=ev)
    rank = {it.id: i for i, it in enumerate(cat.items)}
    assert any(
        [rank[c] for c in e.meta["candidates"]] != sorted(rank[c] for c in e.meta["candidates"])
        for e in ex
    )
    pos = {it.id: i for i, it in enumerate(cat.items)}
    for e in ex:
        text = e.messages[-1]["content"]
        assert "best guesses" not in text and "share of fans" in text
        lines = dict(_LETTERED.findall(text))
        assert len(lines) == 20 and all(" || " in line for line in lines.values())
        u = int(e.meta["user"]) - 1
        others = replace(
            sp, sequences=[s if v != u else s[-2:] for v, s in enumerate(sp.sequences)]
        )
        seq, rat = sp.train(u), sp.ratings[u]
        t = list(seq).index(pos[e.meta["target"]])
        hist, hist_r = (seq[:0], rat[:0]) if e.kind == "cold_start" else (seq[:t], rat[:t])
        cands = [pos[c] for c in e.meta["candidates"]]
        want = RerankEvidence.fit(others).lines(cat, cands, hist, hist_r, 10)
        for letter, cid in zip(LETTERS, e.meta["candidates"], strict=False):
            assert lines[letter].split(" || ")[1] == want[cid]


def test_evidence_training_prompt_is_the_inference_prompt() -> None:
    items = _movies(20).items
    ev = {items[0].id: "3.8 by 201; 29% of Film 3 fans", items[1].id: "unrated"}
    trained = Echo().chat_prompt(
        rerank_messages("a western", ["Film 3 (1953)"], [], items, False, ev)
    )
    cfg = RerankConfig(history_titles=10, ranked=False, evidence=True)
    served = VerbalizerReranker(Echo(), cfg).prompt(
        RerankQuery("a western", ("Film 3 (1953)",), evidence=ev), items
    )
    assert trained == served and "A. Film 0 (1950) | Comedy, Horror || 3.8 by 201" in served


def test_by_default_only_lists_the_retriever_really_produced_are_kept() -> None:
    cat, sp = _movies(), _split()
    ex = build_rerank_examples(sp, cat, _scores(40), 120, seed=5)
    rank = {it.id: i for i, it in enumerate(cat.items)}
    for e in ex:  # the target is among the top 20 by the retriever, listed in its order
        ranks = [rank[c] for c in e.meta["candidates"]]
        assert e.meta["hit"] and ranks == sorted(ranks)
        assert ranks[LETTERS.index(e.answer)] == rank[e.meta["target"]]
    skipped = sum(e.meta["skipped_misses"] for e in ex)
    assert skipped > 0  # _scores' fixed top 20 misses many targets: those draws were dropped
    c = card(ex, 5, "test")
    assert c["misses_kept"] == 0
    assert c["retriever_hit_rate"] == round(len(ex) / (len(ex) + skipped), 3) < 1.0


def test_product_answers_quote_only_the_items_facts() -> None:
    store = Catalog(
        "store",
        [
            Item(
                id="a",
                title="Zen 55 inch TV",
                price=449.99,
                rating=4.4,
                review_count=1234,
                categories=("TVs",),
                attributes={"discount_amount": 50.0},
            ),
            Item(id="b", title="Tiny earbuds", price=19.0, categories=("Headphones",)),
        ],
    )
    ex = build_product_examples(store, 30, seed=1)
    for e in ex:
        item = store.get(e.meta["item"])
        assert set(numbers_in(e.answer)) <= fact_numbers(item), e.answer
        assert e.n_choices == 0 and "Question:" in e.messages[-1]["content"]


# --- the trainer, on a tiny random Llama ----------------------------------------------------


@pytest.fixture(scope="module")
def tiny_lm() -> tuple[object, object]:
    return tiny_llama(2)


def _small_examples(n: int = 8) -> list:
    cat, sp = _movies(), _split()
    ex = build_rerank_examples(sp, cat, _scores(40), n, seed=0, kinds={"rerank": 1.0})
    return ex


def test_left_padding_does_not_change_the_loss(tiny_lm: tuple) -> None:
    import torch

    model, tok = tiny_lm
    rows = [encode(tok, e, 0.2) for e in _small_examples(3)]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    with torch.no_grad():
        together = answer_loss(model, collate(rows, pad), 0.2)
        alone = [answer_loss(model, collate([r], pad), 0.2) for r in rows]
    assert float(together) == pytest.approx(float(torch.stack(alone).mean()), rel=1e-4)


def test_lora_training_learns_the_letters_and_round_trips(tiny_lm: tuple, tmp_path: Path) -> None:
    import copy

    import torch
    from peft import PeftModel

    base, tok = tiny_lm
    ex = _small_examples(8)
    val = [
        ValItem(
            tok.apply_chat_template(e.messages, tokenize=False, add_generation_prompt=True),
            e.n_choices,
            LETTERS.index(e.answer),
        )
        for e in ex
    ]
    cfg = LoraTrainConfig(
        examples=8,
        epochs=12,
        batch_size=4,
        grad_accum=1,
        lr=5e-3,
        layers=2,
        eval_steps=8,
        eval_users=8,
        patience=5,
        warmup=0.0,
        targets=("q_proj", "v_proj", "o_proj", "up_proj", "down_proj"),
    )
    model = add_lora(copy.deepcopy(base), cfg)
    before = validate(model, tok, val)["ndcg@10"]
    result = train_lora(model, tok, ex, val, tmp_path, cfg)
    assert result["val_after"]["eval_ndcg@10"] > before + 0.2  # it memorised the 8 answers
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in log) and any("eval_ndcg@10" in r for r in log)
    assert (tmp_path / "adapter" / "adapter_model.safetensors").exists()
    assert list((tmp_path / "checkpoints").glob("checkpoint-*"))  # resumable
    reloaded = PeftModel.from_pretrained(copy.deepcopy(base), str(tmp_path / "adapter")).eval()
    assert validate(reloaded, tok, val)["ndcg@10"] == pytest.approx(
        result["val_after"]["eval_ndcg@10"], abs=1e-6
    )
    assert torch.is_tensor(next(reloaded.parameters()))

    # A run told to stop after 10 of its 24 steps retraces the full run's first 10 (the
    # learning rate at step 10 is the full schedule's, not one squeezed into 10 steps): how a
    # short rerun checks a shipped adapter.
    short = train_lora(
        add_lora(copy.deepcopy(base), cfg),
        tok,
        ex,
        val,
        tmp_path / "short",
        replace(cfg, stop_after_steps=10),
    )
    assert short["steps"] == 10

    def steps(path: Path) -> list[tuple]:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return [
            (r["step"], round(r["loss"], 4), round(r["learning_rate"], 6))
            for r in rows
            if "loss" in r and r["step"] <= 10
        ]

    retraced = steps(tmp_path / "short" / "log.jsonl")
    assert [s for s, _, _ in retraced] == [1, 10]
    assert retraced == steps(tmp_path / "log.jsonl") and retraced[-1][2] > 0.001
