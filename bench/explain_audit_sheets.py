"""The sheets of a blind audit of the explanations (issue 18): 100 texts of a FIRST run on a
frozen request set, and up to 100 pairs, for the same pick, of the landed main's text before
the work (``before/`` in the audit's folder, same command and requests) and the new one, in
random order. The reviewer reads ``claims.jsonl`` and ``pairs.jsonl``; ``key.json`` says which
text is which. Run from the repository root:

    python bench/explain_audit_sheets.py AUDIT_FOLDER FIRST_RUN_FOLDER SEED
"""

import json
import random
import sys
from pathlib import Path


def texts(folder: Path, catalog: str) -> list[dict]:
    data = json.loads((folder / f"explanations-{catalog}.json").read_text())
    return [{**t, "catalog": catalog} for t in data["texts"] if t["text"].strip()]


def kind(t: dict) -> str:
    return "film" if t["catalog"] == "movies" else "product"


def prepare(
    here: Path,
    first: Path,
    seed: int,
    before: str = "before",
    sheet: str = "",
    request: bool = False,
) -> str:
    """The sheets in ``here``; the pairs against the texts in ``here / before``, written as
    ``pairs{sheet}.jsonl`` and ``key{sheet}.json`` (a second comparison beside the first).
    ``request``: the claims sheet shows what the person asked too (from the seventh audit
    on: a text may say back what the person said, "a speaker for the beach")."""
    rng = random.Random(seed)
    new = {c: texts(first, c) for c in ("movies", "store")}
    claims = [t for c in ("movies", "store") for t in rng.sample(new[c], 50)]
    rng.shuffle(claims)
    with (here / "claims.jsonl").open("w") as f:
        for n, t in enumerate(claims, 1):
            row = {"n": n, "kind": kind(t)}
            row |= {"request": t["request"]} if request else {}
            row |= {"title": t["title"], "facts": t["facts"]}
            row |= {"evidence": t["evidence"], "text": t["text"]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    pool = []
    for c in ("movies", "store"):
        old = {(t["id"], t["item_id"]): t for t in texts(here / before, c)}
        for t in new[c]:
            o = old.get((t["id"], t["item_id"]))
            if o is not None and o["text"].strip() != t["text"].strip():
                pool.append((t, o))
    pairs = rng.sample(pool, min(100, len(pool)))
    key = []
    with (here / f"pairs{sheet}.jsonl").open("w") as f:
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
    (here / f"key{sheet}.json").write_text(
        json.dumps({"claims": claim_key, "pairs": key}, indent=1)
    )
    differ = f"{len(pool)} picks both explained differently"
    return f"{len(claims)} texts, {len(pairs)} pairs of {differ}"


if __name__ == "__main__":
    print(prepare(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])))
