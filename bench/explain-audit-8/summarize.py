"""The eighth audit's counts from the reviewers' sheets and the key (run from the
repository root): python bench/explain-audit-8/summarize.py"""

import json
from pathlib import Path

HERE = Path(__file__).parent


def lines(name: str) -> list[dict]:
    return [json.loads(x) for x in (HERE / name).read_text().splitlines() if x.strip()]


def claims() -> dict:
    key = {k["n"]: k for k in json.loads((HERE / "key.json").read_text())["claims"]}
    marks = {r["n"]: r for r in lines("claims_review.jsonl")}
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


def pairs(sheet: str) -> dict:
    key = {k["n"]: k for k in json.loads((HERE / f"key{sheet}.json").read_text())["pairs"]}
    picks = {r["n"]: r["prefer"] for r in lines(f"pairs{sheet}_review.jsonl")}
    new = [n for n, p in picks.items() if p == key[n]["new"]]
    return {
        "pairs": len(key),
        "reviewed": len(picks),
        "new_preferred": len(new),
        "share": round(len(new) / max(1, len(picks)), 2),
    }


if __name__ == "__main__":
    out = {"claims": claims(), "pairs_vs_main": pairs(""), "pairs_vs_issue_day": pairs("_today")}
    (HERE / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
