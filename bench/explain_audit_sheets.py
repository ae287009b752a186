"""The sheets of a blind audit of the explanations (issue 18): 100 texts of a FIRST run on a
frozen request set, and up to 100 pairs, for the same pick, of the landed main's text before
the work (``before/`` in the audit's folder, same command and requests) and the new one, in
random order. The reviewer reads ``claims.jsonl`` and ``pairs.jsonl``; ``key.json`` says which
text is which. Run from the repository root:

    python bench/explain_audit_sheets.py AUDIT_FOLDER FIRST_RUN_FOLDER SEED
    python bench/explain_audit_sheets.py summarize AUDIT_FOLDER   # summary.json
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


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def summarize_claims(here: Path) -> dict:
    """The claims sheet's counts: texts flagged, clear and borderline (a note that starts
    with "borderline"), model-written."""
    key = {k["n"]: k for k in json.loads((here / "key.json").read_text())["claims"]}
    marks = {r["n"]: r for r in _lines(here / "claims_review.jsonl")}
    flagged = [n for n, r in marks.items() if r["unsupported"]]
    borderline = [n for n in flagged if marks[n]["note"].lower().startswith("borderline")]
    return {
        "texts": len(key),
        "reviewed": len(marks),
        "model_written": sum(k["source"] == "llm" for k in key.values()),
        "flagged": len(flagged),
        "flagged_model": sum(key[n]["source"] == "llm" for n in flagged),
        "clear": len(flagged) - len(borderline),
        "borderline_only": len(borderline),
        "flagged_n": sorted(flagged),
    }


def summarize_pairs(here: Path, sheet: str = "") -> dict:
    """A pair sheet's counts: how often the reviewer preferred the new text."""
    key = {k["n"]: k for k in json.loads((here / f"key{sheet}.json").read_text())["pairs"]}
    picks = {r["n"]: r["prefer"] for r in _lines(here / f"pairs{sheet}_review.jsonl")}
    new = [n for n, p in picks.items() if p == key[n]["new"]]
    return {
        "pairs": len(key),
        "reviewed": len(picks),
        "new_preferred": len(new),
        "share": round(len(new) / max(1, len(picks)), 2),
    }


def summarize(here: Path) -> dict:
    """``summary.json`` of an audit with a claims sheet and two pair sheets (the landed main's
    texts, ``pairs``; the issue day's, ``pairs_today``), written and returned."""
    out = {
        "claims": summarize_claims(here),
        "pairs_vs_main": summarize_pairs(here),
        "pairs_vs_issue_day": summarize_pairs(here, "_today"),
    }
    (here / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    if sys.argv[1:2] == ["summarize"]:
        print(json.dumps(summarize(Path(sys.argv[2])), indent=1))
    else:
        print(prepare(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])))
