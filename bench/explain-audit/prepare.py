"""How the blind audit's sheets were drawn (run once on 2026-12-01; kept as the record).

Inputs: the first-run outputs (``bench/eval/explanations-first-run/explanations-*.json``) and
``today_texts.json`` (the landed main's texts for the same requests). Outputs: the sheets the
reviewer saw (``claims.jsonl``, ``pairs.jsonl``) and the key it never saw (``key.json``).

Run: ``python bench/explain-audit/prepare.py`` (from the repository root).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RUNS = HERE.parent / "eval" / "explanations-first-run"


def _kind(t: dict[str, Any]) -> str:
    return "film" if t["catalog"] == "movies" else "product"


def main() -> None:
    new = []
    for c in ("movies", "store"):
        d = json.loads((RUNS / f"explanations-{c}.json").read_text())
        new += [{**t, "catalog": c} for t in d["texts"]]
    today = json.loads((HERE / "today_texts.json").read_text())
    old = {(t["id"], t["item_id"]): t["text"] for t in today}
    rng = random.Random(1818)
    claims: list[dict[str, Any]] = []
    for c in ("movies", "store"):
        claims += rng.sample([t for t in new if t["catalog"] == c], 50)
    rng.shuffle(claims)
    with open(HERE / "claims.jsonl", "w") as f:
        for n, t in enumerate(claims, 1):
            row = {"n": n, "kind": _kind(t), "title": t["title"], "facts": t["facts"]}
            row |= {"evidence": t["evidence"], "text": t["text"]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    differ = [
        t
        for t in new
        if (t["id"], t["item_id"]) in old
        and old[(t["id"], t["item_id"])].strip() != t["text"].strip()
    ]
    print("pairs available", len(differ), "of", len(new), file=sys.stderr)
    pairs = rng.sample(differ, min(100, len(differ)))
    key = []
    with open(HERE / "pairs.jsonl", "w") as f:
        for n, t in enumerate(pairs, 1):
            before = old[(t["id"], t["item_id"])]
            new_first = rng.random() < 0.5
            a, b = (t["text"], before) if new_first else (before, t["text"])
            key.append({"n": n, "id": t["id"], "item_id": t["item_id"]})
            key[-1]["new"] = "A" if new_first else "B"
            row = {"n": n, "kind": _kind(t), "request": t["request"], "title": t["title"]}
            row |= {"facts": t["facts"], "evidence": t["evidence"], "A": a, "B": b}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    sources = [
        {"n": n, "id": t["id"], "item_id": t["item_id"], "source": t["source"]}
        for n, t in enumerate(claims, 1)
    ]
    (HERE / "key.json").write_text(json.dumps({"claims": sources, "pairs": key}, indent=1))


if __name__ == "__main__":
    main()
