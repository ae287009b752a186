"""Fifth blind audit (issue 18): 100 texts of the FIRST run on the fourth frozen request set
(``bench/eval/explanations-holdout4-first-run/``), and 100 pairs: for the same pick, the text of
the landed main before this work (bcc1566, same command and requests, ``before/``) and the
new one, in random order. Run from the repository root:

    python bench/explain-audit-5/prepare.py
"""

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
FIRST = HERE.parent / "eval" / "explanations-holdout4-first-run"
rng = random.Random(5151)


def texts(folder: Path, catalog: str) -> list[dict]:
    data = json.loads((folder / f"explanations-{catalog}.json").read_text())
    return [{**t, "catalog": catalog} for t in data["texts"] if t["text"].strip()]


def kind(t: dict) -> str:
    return "film" if t["catalog"] == "movies" else "product"


new = {c: texts(FIRST, c) for c in ("movies", "store")}
claims = [t for c in ("movies", "store") for t in rng.sample(new[c], 50)]
rng.shuffle(claims)
with (HERE / "claims.jsonl").open("w") as f:
    for n, t in enumerate(claims, 1):
        row = {"n": n, "kind": kind(t), "title": t["title"], "facts": t["facts"]}
        row |= {"evidence": t["evidence"], "text": t["text"]}
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
pool = []
for c in ("movies", "store"):
    old = {(t["id"], t["item_id"]): t for t in texts(HERE / "before", c)}
    for t in new[c]:
        o = old.get((t["id"], t["item_id"]))
        if o is not None and o["text"].strip() != t["text"].strip():
            pool.append((t, o))
pairs = rng.sample(pool, min(100, len(pool)))
key = []
with (HERE / "pairs.jsonl").open("w") as f:
    for n, (t, o) in enumerate(pairs, 1):
        new_first = rng.random() < 0.5
        a, b = (t["text"], o["text"]) if new_first else (o["text"], t["text"])
        key.append(
            {
                "n": n,
                "id": t["id"],
                "item_id": t["item_id"],
                "new": "A" if new_first else "B",
                "new_source": t["source"],
                "old_source": o["source"],
            }
        )
        row = {"n": n, "kind": kind(t), "request": t["request"], "title": t["title"]}
        row |= {"facts": t["facts"], "evidence": t["evidence"], "A": a, "B": b}
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
claim_key = [
    {"n": n, "id": t["id"], "item_id": t["item_id"], "source": t["source"]}
    for n, t in enumerate(claims, 1)
]
(HERE / "key.json").write_text(json.dumps({"claims": claim_key, "pairs": key}, indent=1))
print(len(claims), "texts,", len(pairs), "pairs of", len(pool), "picks both explained differently")
