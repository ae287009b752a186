"""The claim checker of today against the blind audit (the development set of issue 18).

Inputs: the 100 audited texts (``claims.jsonl``, ``key.json``), what the reviewer marked
(``claims_review.jsonl``: 20 texts with an unsupported claim), and, for each text, what the
explainer read when it wrote it (the first run's request, evidence and liked titles:
``bench/eval/explanations-first-run/``, ``data/eval/explain_holdout.jsonl``). Each text is
checked again with ``explain.check`` as the app calls it (the catalog's titles, categories
and feature vocabulary); the person's constraints are read from their request's words.

Output (``recheck.json``): how many of the 20 flagged texts the checker rejects now, how many
of the 80 others it rejects (false alarms, unless the text is garbled: the reviewer noted
"4.ooh" without counting it), each text's problems; and, as a wider look at false alarms,
the share of the explainer's training corpus (``data/explanations/``, 1,524 texts written to
pass the checker of their time) and of all the first run's texts that it rejects now.

Run: ``python bench/explain-audit/recheck.py`` (from the repository root; ~1 minute).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from chatrec.claims import Vocabulary
from chatrec.config import RuntimeConfig
from chatrec.datasets import data_dir, load
from chatrec.explain import check
from chatrec.mentions import TitleMatcher
from chatrec.train.explain_data import evidence_of
from chatrec.types import Evidence, Pull

HERE = Path(__file__).resolve().parent
RUNS = HERE.parent / "eval" / "explanations-first-run"
_PULL = re.compile(
    r"^People: of the (?P<fans>[\d,]+) people who loved (?P<title>.+), (?P<also>[\d,]+) rated "
    r"this too, (?P<mean>[\d.]+)★ on average$"
)


class Checker:
    """``explain.check`` for one catalog, with what the app gives it."""

    def __init__(self, catalog: str):
        self.catalog, lexicon = load(catalog, RuntimeConfig().cache_dir)
        self.mentions = TitleMatcher(self.catalog, reserved=lexicon.aliases)
        self.categories = tuple(sorted(self.catalog.categories()))
        self.vocabulary = Vocabulary.of(self.catalog)
        self.by_title = {it.title: it.id for it in self.catalog}

    def evidence(self, item_id: str, lines: list[str]) -> Evidence:
        """The evidence a text was written from, read back from its lines."""
        pulls, matches = [], []
        for line in lines:
            m = _PULL.match(line)
            if m:
                n = {k: int(m[k].replace(",", "")) for k in ("fans", "also")}
                pid = self.by_title.get(m["title"], m["title"])
                pulls.append(Pull(pid, m["title"], n["fans"], n["also"], float(m["mean"]), 0.0))
            elif line.startswith("Matches the request: "):
                matches.append(line.removeprefix("Matches the request: "))
        return Evidence(item_id, {}, tuple(pulls), tuple(matches))

    def problems(
        self, text: str, item_id: str, request: str, history: list[str], ev: Evidence | None
    ) -> list[str]:
        return check(
            text,
            self.catalog.get(item_id),
            self.mentions,
            history=history[-5:],
            request=request,
            categories=self.categories,
            evidence=ev,
            vocabulary=self.vocabulary,
        )


def _first_run() -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for c in ("movies", "store"):
        for t in json.loads((RUNS / f"explanations-{c}.json").read_text())["texts"]:
            out[(t["id"], t["item_id"])] = {**t, "catalog": c}
    return out


def dev_set(checkers: dict[str, Checker]) -> dict[str, Any]:
    """The 100 audited texts: flagged and unflagged texts the checker rejects now."""
    rows = [json.loads(x) for x in (HERE / "claims.jsonl").read_text().splitlines()]
    review = {r["n"]: r for r in map(json.loads, (HERE / "claims_review.jsonl").open())}
    key = {k["n"]: k for k in json.loads((HERE / "key.json").read_text())["claims"]}
    liked = {
        r["id"]: r["liked"]
        for r in map(json.loads, (data_dir() / "eval" / "explain_holdout.jsonl").open())
    }
    run = _first_run()
    texts = []
    for row in rows:
        k = key[row["n"]]
        t = run[(k["id"], k["item_id"])]
        ch = checkers[t["catalog"]]
        history = list(liked.get(k["id"], []))
        ev = ch.evidence(k["item_id"], t["evidence"])
        problems = ch.problems(row["text"], k["item_id"], t["request"], history, ev)
        flagged = bool(review[row["n"]]["unsupported"])
        texts.append(
            {
                "n": row["n"],
                "flagged": flagged,
                "source": k["source"],
                "rejected": bool(problems),
                "text": row["text"],
                "reviewer": review[row["n"]]["unsupported"] or review[row["n"]]["note"],
                "problems": problems,
            }
        )
    flagged = [t for t in texts if t["flagged"]]
    other = [t for t in texts if not t["flagged"]]
    garbled = [t for t in other if t["rejected"] and "garbled" in t["reviewer"]]
    return {
        "flagged": len(flagged),
        "flagged_rejected": sum(t["rejected"] for t in flagged),
        "unflagged": len(other),
        "unflagged_rejected": sum(t["rejected"] for t in other),
        "unflagged_rejected_garbled": len(garbled),
        "texts": texts,
    }


def corpus(checkers: dict[str, Checker]) -> dict[str, Any]:
    """The explainer's training texts (written to pass the checker of their time)."""
    root = data_dir() / "explanations"
    inputs = {r["id"]: r for r in map(json.loads, (root / "inputs.jsonl").open())}
    rejected: dict[str, list[str]] = {}
    n = 0
    for d in map(json.loads, (root / "texts.jsonl").open()):
        row = inputs[d["id"]]
        ch = checkers[row["catalog"]]
        p = ch.problems(d["text"], row["item_id"], row["request"], row["history"], evidence_of(row))
        n += 1
        if p:
            rejected[d["id"]] = [d["text"], *p]
    return {
        "n": n,
        "rejected": len(rejected),
        "share": round(len(rejected) / n, 4),
        "texts": rejected,
    }


def first_run(checkers: dict[str, Checker]) -> dict[str, Any]:
    """Every text of the first run (model and template), rejected now."""
    liked = {
        r["id"]: r["liked"]
        for r in map(json.loads, (data_dir() / "eval" / "explain_holdout.jsonl").open())
    }
    out: dict[str, Any] = {}
    for (rid, item_id), t in _first_run().items():
        ch = checkers[t["catalog"]]
        ev = ch.evidence(item_id, t["evidence"])
        p = ch.problems(t["text"], item_id, t["request"], list(liked.get(rid, [])), ev)
        c = out.setdefault(f"{t['catalog']}_{t['source']}", {"n": 0, "rejected": 0})
        c["n"] += 1
        c["rejected"] += bool(p)
    return out


def main() -> None:
    checkers = {c: Checker(c) for c in ("movies", "store")}
    dev = dev_set(checkers)
    result = {"dev": dev, "first_run": first_run(checkers), "corpus": corpus(checkers)}
    (HERE / "recheck.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(
        f"flagged rejected {dev['flagged_rejected']}/{dev['flagged']}; unflagged rejected "
        f"{dev['unflagged_rejected']}/{dev['unflagged']} "
        f"({dev['unflagged_rejected_garbled']} of them garbled); corpus rejected "
        f"{result['corpus']['rejected']}/{result['corpus']['n']}; first run {result['first_run']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
