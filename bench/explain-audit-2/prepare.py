"""How the second blind audit's sheet was drawn (2026-12-01, after the claim checks).

Input: the re-run with the claims checked (``bench/eval/explanations-claims-rerun/
explanations-*.json``: the app's config, on the frozen held-out requests). Output: the sheet
the reviewer saw (``claims.jsonl``: title, facts, evidence, text; no request, no source, as in
the first audit) and the key it never saw (``key.json``: each text's source, model or template).

Run: ``python bench/explain-audit-2/prepare.py`` (from the repository root).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RUN = HERE.parent / "eval" / "explanations-claims-rerun"


def main() -> None:
    rng = random.Random(2929)
    picked: list[dict[str, Any]] = []
    for catalog in ("movies", "store"):
        texts = json.loads((RUN / f"explanations-{catalog}.json").read_text())["texts"]
        picked += [{**t, "catalog": catalog} for t in rng.sample(texts, 50)]
    rng.shuffle(picked)
    key = []
    with open(HERE / "claims.jsonl", "w") as f:
        for n, t in enumerate(picked, 1):
            kind = "film" if t["catalog"] == "movies" else "product"
            row = {"n": n, "kind": kind, "title": t["title"], "facts": t["facts"]}
            row |= {"evidence": t["evidence"], "text": t["text"]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            key.append({"n": n, "id": t["id"], "item_id": t["item_id"], "source": t["source"]})
    (HERE / "key.json").write_text(json.dumps(key, indent=1) + "\n")


if __name__ == "__main__":
    main()
