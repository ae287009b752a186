"""Offline evaluation: metric values on hand-made lists, the report, and the CLI contract.

Covers ``chatrec.eval.metrics`` and ``chatrec.eval.movies`` (the MovieLens comparison).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from chatrec.eval.metrics import beyond_accuracy, ndcg_at, paired, ranking_metrics
from chatrec.eval.movies import display_order, markdown, top_k, write_report

from .conftest import FIXTURES
from .test_cli import run


def test_ranking_metrics_match_the_formulas() -> None:
    ids = [str(i) for i in range(30)]
    lists = [[5, 1, 2], [1, 2, 5, *range(6, 20)], [7, 8, 9]]
    m = ranking_metrics(lists, [5, 5, 5], ids)  # ranks: 1st, 3rd, missing
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["recall@5"] == pytest.approx(2 / 3)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / 3)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3) / 3)


def test_top_k_never_returns_a_seen_item() -> None:
    s = np.arange(30, dtype=float)
    assert top_k(s, np.array([29, 27]), 3) == [28, 26, 25]


def test_ndcg_at_is_ranx_ndcg10_for_one_relevant_item() -> None:
    """The hand-written NDCG (per item in training loops) is ranx's, rank by rank."""
    ids = [str(i) for i in range(30)]
    for rank in (0, 1, 2, 4, 9, 10, 15):
        lst = [*range(rank), 25, *range(20, 25)]
        assert lst.index(25) == rank
        ranx = ranking_metrics([lst[:20]], [25], ids)["ndcg@10"]
        assert ndcg_at(rank) == pytest.approx(ranx, abs=1e-12), rank
    assert ndcg_at(-1) == 0.0 and ranking_metrics([[1, 2]], [25], ids)["ndcg@10"] == 0.0


def test_paired_differences_are_user_by_user() -> None:
    targets = [1, 2, 3, 4]
    a = [[1, 9], [2, 9], [9, 3], [9, 8]]  # hits at ranks 0, 0, 1 and a miss
    b = [[9, 1], [2, 9], [9, 3], [4, 8]]  # ranks 1, 0, 1, 0
    d = paired(a, b, targets)
    per_user = np.array([1 - 1 / math.log2(3), 0.0, 0.0, -1.0])
    assert d["diff"] == pytest.approx(per_user.mean())
    assert d["se"] == pytest.approx(per_user.std(ddof=1) / 2)
    assert d["ci95"][0] < d["diff"] < d["ci95"][1]
    assert d["users_changed"] == 0.5
    same = paired(a, a, targets)
    assert same["diff"] == 0 and same["se"] == 0 and same["users_changed"] == 0


def test_beyond_accuracy() -> None:
    vecs = np.eye(4, dtype=np.float32)
    share = np.array([0.5, 0.25, 0.125, 0.125])
    out = beyond_accuracy([[0, 1], [0, 1]], vecs, share, 4)
    assert out["ild@10"] == pytest.approx(1.0)  # orthogonal items
    assert out["coverage@10"] == pytest.approx(0.5)
    assert out["novelty@10"] == pytest.approx(1.5)  # mean of -log2(.5) and -log2(.25)


def _result() -> dict:
    row = {"system": "popularity", "kind": "baseline", "backbone": "-", "ndcg@10": 0.05,
           "recall@10": 0.1, "latency_ms_p50": 0.1, "invalid_item_rate": 0.0}  # fmt: skip
    return {
        "protocol": {
            "split": "loo",
            "ranking": "full",
            "users": 3,
            "users_total": 943,
            "validation_users": 2,
            "rerank_candidates": 20,
            "best_retriever": "x",
            "rerank_display": "shuffle",
            "rerank_wish": "w",
            "seconds": 6.0,
        },
        "rows": [row],
        "retriever_recall": {"x": {"recall@20": 0.3, "recall@50": 0.5}},
        "mmr_curve": [{"lambda": 1.0, "ndcg@10": 0.1, "ild@10": 0.5}],
        "conversational": None,
    }


def test_report_files(tmp_path: Path) -> None:
    write_report(_result(), tmp_path)
    assert json.loads((tmp_path / "eval.json").read_text())["rows"][0]["system"] == "popularity"
    assert "| popularity |" in (tmp_path / "eval.md").read_text()
    for png in ("ndcg10.png", "mmr.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert "0.0500" in markdown(_result())


def test_eval_on_a_catalog_file_is_a_clear_error() -> None:
    p = run("eval", "--catalog", str(FIXTURES / "tiny_catalog.jsonl"), "--json")
    assert p.returncode == 2 and "--catalog movies" in p.stderr and p.stdout == ""


def test_eval_json_contract_every_row_on_a_slice(tmp_path: Path) -> None:
    """The CONTRACT: one JSON object, one row per system, with the shipped adapters."""
    p = run("eval", "--catalog", "movies", "--users", "6", "--val-users", "6", "--json",
            "--out", str(tmp_path))  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    assert out["protocol"]["users"] == 6
    systems = [r["system"] for r in out["rows"]]
    for name in ("popularity", "itemknn", "text: base MiniLM", "text: MiniLM + LoRA",
                 "transitions"):  # fmt: skip
        assert name in systems
    for backbone in ("cross-encoder", "GPT zero-shot", "GPT LoRA (", "GPT evidence LoRA"):
        assert sum(backbone in s for s in systems) == 2, systems  # pure and fused
    # The GPT rows ran on one shared pass through the blocks the LoRA leaves as the base's.
    assert any("20 bottom blocks" in line for line in out["log"]), out["log"]
    compared = {(d["system"], d["vs"]) for d in out["paired_ndcg@10"]}
    best = out["protocol"]["best_retriever"]
    assert ("+ GPT LoRA (SmolLM2-135M)", best) in compared
    assert ("+ GPT evidence LoRA (SmolLM2-135M)", best) in compared
    assert ("+ GPT LoRA (SmolLM2-135M)", "+ GPT zero-shot (SmolLM2-135M)") in compared
    assert "Paired NDCG@10 differences" in (tmp_path / "eval.md").read_text()
    for r in out["rows"]:
        assert 0 <= r["ndcg@10"] <= r["recall@10"] <= r["recall@20"] <= 1
        assert r["invalid_item_rate"] == 0.0
    assert out["conversational"]["cases"] >= 50
    assert (tmp_path / "eval.md").exists() and (tmp_path / "ndcg10.png").exists()


def test_an_unknown_reranker_is_a_clear_error(tmp_path: Path) -> None:
    p = run("eval", "--catalog", "movies", "--rerankers", "gpt-lora,nope", "--out", str(tmp_path))
    assert p.returncode != 0 and "unknown rerankers ['nope']" in p.stderr
    assert "gpt-evidence" in p.stderr and "Traceback" not in p.stderr
    assert not list(tmp_path.iterdir())  # no report written


def test_shuffled_display_is_one_seeded_order_per_user_and_stage() -> None:
    assert display_order(20, "ranked", 0, 7, "test").tolist() == list(range(20))
    a = display_order(20, "shuffled", 0, 7, "test")
    assert sorted(a.tolist()) == list(range(20)) and a.tolist() != list(range(20))
    assert display_order(20, "shuffled", 0, 7, "test").tolist() == a.tolist()  # every row
    assert display_order(20, "shuffled", 0, 8, "test").tolist() != a.tolist()
    assert display_order(20, "shuffled", 0, 7, "valid").tolist() != a.tolist()
