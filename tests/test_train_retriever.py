"""Retriever fine-tuning: pairs from training interactions only, the logQ-corrected in-batch
loss, and a LoRA on the real packaged MiniLM that learns pairs it could not match before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chatrec.catalog import Catalog, Item
from chatrec.datasets.split import Split
from chatrec.train.retriever import (
    RetrieverTrainConfig,
    build_pairs,
    in_batch_loss,
    load_tuned_embedder,
    train_retriever,
)


def test_pairs_use_training_items_only() -> None:
    # Items 0-19 are everyone's training items; each user's last two (valid, test) are theirs
    # alone, so any of them in a pair would be a leak.
    cat = Catalog(
        "movies",
        [Item(id=str(i), title=f"Film {i}", year=1990, categories=("Drama",)) for i in range(36)],
    )
    rng = np.random.default_rng(0)
    seqs = [
        np.concatenate([rng.permutation(20)[:10], [20 + 2 * u, 21 + 2 * u]]).astype(np.int32)
        for u in range(8)
    ]
    rats = [np.full(12, 5.0, dtype=np.float32) for _ in range(8)]
    sp = Split(36, np.arange(1, 9), seqs, rats)
    pairs = build_pairs(sp, cat, 200, seed=1)
    assert pairs == build_pairs(sp, cat, 200, seed=1)  # deterministic
    held = [cat.items[i] for i in range(20, 36)]
    for query, doc in pairs:
        assert doc not in {it.document() for it in held}
        assert not any(f"{it.title};" in query or f"{it.title}." in query for it in held)
    assert len({d for _, d in pairs}) > 10  # many different targets


class _Same:
    """A 'model' whose every text has the same embedding: only the correction moves logits."""

    device = "cpu"

    def preprocess(self, texts: list[str]) -> dict:
        import torch

        return {"x": torch.ones(len(texts), 4)}

    def __call__(self, feats: dict) -> dict:
        return {"sentence_embedding": feats["x"]}


def test_logq_makes_a_popular_target_harder_in_batch() -> None:
    """In-batch negatives come in proportion to popularity; the correction charges a popular
    target for that, so training must lift its score, as a full softmax would."""
    cfg = RetrieverTrainConfig(logq=True)
    log_q = [np.log(0.5), np.log(0.01)]  # doc 0 popular, doc 1 rare
    popular = float(in_batch_loss(_Same(), ["q0"], ["d0"], log_q[:1], cfg))
    both = in_batch_loss(_Same(), ["q0", "q1"], ["d0", "d1"], log_q, cfg)
    plain = in_batch_loss(
        _Same(), ["q0", "q1"], ["d0", "d1"], log_q, RetrieverTrainConfig(logq=False)
    )
    assert popular == pytest.approx(0.0, abs=1e-6)  # alone in its batch: nothing to beat
    assert float(plain) == pytest.approx(np.log(2), rel=1e-5)  # uncorrected: a coin toss
    # Row 0 (popular target) loses to the rare doc's boosted logit; row 1 wins easily.
    expected = (np.log(1 + 0.5 / 0.01) + np.log(1 + 0.01 / 0.5)) / 2
    assert float(both) == pytest.approx(expected, rel=1e-4)


@pytest.mark.integration
def test_lora_learns_pairs_the_base_model_gets_wrong(tmp_path: Path) -> None:
    from chatrec.config import EmbedConfig, RuntimeConfig
    from chatrec.embed import SentenceEmbedder

    # Deliberately unrelated in meaning: the base model cannot match these by topic.
    pairs = [
        ("Liked: cooking shows", "A war film about a submarine crew"),
        ("Liked: space operas", "A romantic comedy set in Paris"),
        ("Liked: slasher horror", "A children's cartoon about ponies"),
        ("Liked: courtroom dramas", "A surfing documentary"),
    ]
    queries, docs = [q for q, _ in pairs], [d for _, d in pairs]

    def accuracy(emb: SentenceEmbedder) -> float:
        sims = emb.encode_query(queries) @ emb.encode_document(docs).T
        return float(np.mean(sims.argmax(axis=1) == np.arange(len(pairs))))

    base = SentenceEmbedder.from_config(EmbedConfig(), RuntimeConfig())
    before = accuracy(base)
    cfg = RetrieverTrainConfig(batch_size=4, epochs=12, lr=5e-3, warmup=0.0, logq=True)
    result = train_retriever(base.model, pairs * 2, cfg, tmp_path / "adapter")
    assert result["loss_last_20"] < result["loss_first_20"]
    tuned = load_tuned_embedder(tmp_path / "adapter")
    assert before < 1.0 and accuracy(tuned) == 1.0
