"""The benchmarks: the synthetic retrieval one on a small set (structure and recall), and the
load benchmark's checks and a tiny run of it against a served app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatrec.eval.bench import bench_synthetic

from .conftest import REPO


def test_bench_synthetic_small_set() -> None:
    n_queries = 40
    res = bench_synthetic(20_000, n_queries=n_queries, nprobes=(2, 8, 64), hnsw=False)

    assert res["n"] == 20_000 and res["train_rows"] == 20_000
    assert "HNSW" in res["skipped"]
    # Queries are fresh draws, not indexed points (an indexed point would score 1.0).
    assert res["similarity"]["nn1_cos"] < 0.95
    rows = res["rows"]
    assert [r["factory"] for r in rows] == ["Flat"] + ["IVF512,Flat"] * 3
    assert [r.get("nprobe") for r in rows] == [None, 2, 8, 64]
    for r in rows:
        assert r["single"]["n"] == n_queries and r["single"]["threads"] == 1
        assert 0 < r["single"]["p50_ms"] <= r["single"]["p99_ms"]
        for b in (32, 256):
            assert r[f"batch{b}"]["n"] == 10 and r[f"batch{b}"]["per_query_ms"] > 0
    # Exact search agrees with numpy brute force; IVF recall grows with nprobe and gets high.
    recalls = [r["recall@10"] for r in rows]
    assert recalls[0] == 1.0
    assert recalls[1] <= recalls[2] <= recalls[3]
    assert recalls[3] >= 0.9


def test_load_checks_catch_cross_talk_and_count_the_logged_explanations() -> None:
    from chatrec.eval.bench_load import (
        Conversation,
        Person,
        TurnResult,
        check_cross_talk,
        explanations,
        summarize,
    )
    from chatrec.load import LOG_BUSY, LOG_MODEL

    titles = {"Zen 55 TV": {"TVs"}, "Acme 27 Monitor": {"Monitors"}, "Box": {"Batteries"}}
    people = [Person(frozenset({"TVs"}), ()), Person(frozenset({"Monitors"}), ())]
    ann, bob = Conversation(0, user="guest-a", session="s1"), Conversation(1, user="guest-b")
    ann.turns = [
        TurnResult(0, 0, "a TV", 0.2, 3.0, "Here are 2 picks\n\n**1. Zen 55 TV**\n\n**2. Box**"),
        TurnResult(0, 1, "cheaper", 0.3, 0.5, "Here is 1 pick\n\n**1. Acme 27 Monitor**"),
    ]
    bob.turns = [
        TurnResult(
            1, 0, "a monitor", 0.4, 0.6, "Here is 1 pick\n\n**1. Acme 27 Monitor**", session="s1"
        ),
        TurnResult(1, 1, "its price?", 0.1, 0.1, "Zen 55 TV costs $499.99."),
        TurnResult(1, 2, "hello", errors=["TimeoutError: no reply within 300 s"]),
    ]
    bob.session = "s1"  # Ann's session came back to Bob with his first reply
    check_cross_talk([ann, bob], people, titles)
    assert [len(r.cross_talk) for r in ann.turns] == [0, 1]  # another's product; "Box" is no one's
    assert [len(r.cross_talk) for r in bob.turns] == [1, 1, 0]  # the identity, the answer
    assert "person 0's identity" in bob.turns[0].cross_talk[0]
    log = "\n".join(
        [f"INFO chatrec.explain: {LOG_MODEL % 3}", f"WARNING chatrec.explain: {LOG_BUSY % 3}"] * 2
        + [f"WARNING chatrec.explain: {LOG_BUSY % 2}"]
    )
    expl = explanations(log)
    assert expl == {"model": 6, "template_busy": 8}
    out = summarize([ann, bob], expl)
    assert (out["turns"], out["errors"], out["cross_talk"]) == (5, 1, 3)
    assert out["template_share"] == round(8 / 14, 3)
    assert out["first_text_p50"] == 0.25 and out["full_p95"] <= 3.0  # the failed turn is left out


def test_bench_load_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chatrec.cli import app

    runner = CliRunner()
    for args, says in (
        (["--people", "13"], "1 to 12 people and 1 to 5 turns"),
        (["--turns", "6"], "1 to 12 people and 1 to 5 turns"),
        (["--catalog", "movies"], "bench load has conversations for: store"),
    ):
        out = tmp_path / "load.json"
        res = runner.invoke(app, ["bench", "load", "--no-llm", "--out", str(out), *args])
        assert res.exit_code == 2 and says in res.output, res.output
        assert not out.exists() and not (tmp_path / "load.serve.log").exists()


@pytest.mark.integration
def test_bench_load_two_people_against_a_served_app(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    cmd = [sys.executable, "-m", "chatrec.cli", "bench", "load", "--people", "2", "--turns", "2"]
    run = subprocess.run(
        [*cmd, "--no-llm", "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=90
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert (result["people"], result["turns"], result["cores"]) == (
        2,
        2,
        len(os.sched_getaffinity(0)),
    )
    assert result["single"]["turns"] == 2 and result["load"]["turns"] == 4
    for phase in ("single", "load"):
        r = result[phase]
        assert r["errors"] == 0 and r["cross_talk"] == 0, r["problems"]
        assert 0 < r["first_text_p50"] <= r["first_text_p95"] <= r["full_p95"]
        assert r["template_share"] is None  # no language model: nothing to degrade
    assert result["tracebacks"] == 0
    assert (tmp_path / "load.serve.log").read_text().count("Running on local URL") == 1
    assert "load (2)" in run.stdout and f"wrote {out}" in run.stdout
