"""``chatrec eval --catalog store``: product Q&A, onboarding and feedback, on our test sets.

The three sets (``data/eval/store_*.jsonl``, written by hand, never read by training) are
replayed through ``ChatRecommender`` exactly as a person would chat, one fresh session per
case. The expected answer is computed from the catalog and the policies file, never from
the code under test: a fact question passes when the answer names the right item and holds
the fact as the catalog formats it; a comparison when it names the winner over the list the
person saw; and so on (``score_qa``). Every answer is also scanned for numbers that appear in
none of the facts of the items it names, the policies or the question (invented numbers).

Reported: Q&A accuracy (overall and per kind), invented-number count, onboarding
precision@5 (share of the first five picks that satisfy what the person asked for) and
whether a vague first message got a question back, and the share of feedback turns whose
next list changed as asked.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatrec.catalog import Catalog, Item
from chatrec.datasets import data_dir
from chatrec.facts import allowed_numbers, money, numbers_in, price_text
from chatrec.qa import Policies
from chatrec.recommender import ChatRecommender, Reply

SETS = ("store_qa", "store_onboarding", "store_feedback")
HOLDOUT = "store_qa_holdout"  # store_qa_holdout*.jsonl: written after the Q&A code


def load_set(path: Path) -> list[dict[str, Any]]:
    """One JSON object per line; a bad line is an error naming the file and line."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: not JSON: {err}") from err
            if not isinstance(row, dict) or "id" not in row:
                raise ValueError(f"{path}:{n}: expected an object with an id")
            rows.append(row)
    return rows


def _ids(reply: Reply) -> list[str]:
    return [r.item_id for r in reply.items]


def named_items(text: str, catalog: Catalog) -> list[Item]:
    """Catalog items whose title (or its first 40 characters) the text contains."""
    low = text.lower()
    return [it for it in catalog if it.title.lower()[:40] in low]


def invented_in(text: str, catalog: Catalog, policies: Policies | None, question: str) -> list[str]:
    """Numbers in an answer found in no fact of the items it names, policy or the question."""
    items = named_items(text, catalog)
    extra = question + " " + " ".join(policies.answers.values() if policies else ())
    allowed = allowed_numbers(items, extra) | {str(n) for n in range(1, 11)}
    return [n for n in numbers_in(text) if n not in allowed]


def _winner(op: str, items: Sequence[Item]) -> Item | None:
    if op == "best_rated":
        rated = [it for it in items if it.rating is not None and it.review_count]
        return max(rated, key=lambda it: (it.rating, it.review_count)) if rated else None
    priced = [it for it in items if it.price is not None]
    if op == "cheapest":
        return min(priced, key=lambda it: it.price) if priced else None  # type: ignore[arg-type,return-value]
    if op == "most_expensive":
        return max(priced, key=lambda it: it.price_max or it.price) if priced else None  # type: ignore[arg-type,return-value]
    if op == "most_reviews":
        counted = [it for it in items if it.review_count]
        return max(counted, key=lambda it: it.review_count) if counted else None  # type: ignore[arg-type,return-value]
    return None


def _has_title(text: str, item: Item) -> bool:
    return item.title.lower()[:40].rstrip() in text.lower()


def expected_fact(item: Item, fact: str) -> str:
    """The fact as an answer must state it, formatted from the catalog."""
    if fact == "price":
        return price_text(item)
    if fact == "discount":
        return money(item.attributes["discount_amount"])
    if fact == "rating":
        return f"{item.rating:g}/5"
    if fact == "reviews":
        return f"{item.review_count:,}"
    if fact == "category":
        return item.categories[0]
    raise ValueError(f"unknown fact {fact!r}")


def score_qa(
    case: dict[str, Any],
    reply: Reply,
    shown: list[str],
    catalog: Catalog,
    policies: Policies | None,
) -> tuple[bool, str]:
    """(passed, why not) for one product question; ``shown`` is the last list before it."""
    e = case["expect"]
    kind = e["kind"]
    text = reply.text
    low = text.lower()

    def ref(n: int) -> Item | None:
        return catalog.get(shown[n - 1]) if 1 <= n <= len(shown) else None

    if kind in ("fact", "feature"):
        item = catalog.get(e["item"]) if "item" in e else ref(int(e["ref"]))
        if item is None:
            return False, f"the setup showed {len(shown)} items"
        if not _has_title(text, item):
            return False, "answer is not about the expected item"
        if kind == "fact":
            want = expected_fact(item, e["fact"])
            return (want.lower() in low, f"missing {want!r}")
        if e["present"]:
            return ("yes" in low and e["term"].lower() in low, "did not confirm the feature")
        return ("doesn't mention" in low or "does not mention" in low, "claimed the feature")
    if kind in ("compare", "difference") and reply.intent != "product_question":
        return False, f"answered with intent {reply.intent}"
    if kind == "compare":
        win = _winner(e["op"], [catalog.get(i) for i in shown])
        if win is None:
            return False, "nothing to compare"
        return (_has_title(text, win), f"expected {win.title[:40]!r}")
    if kind == "difference":
        pair = [ref(int(n)) for n in e["refs"]]
        if None in pair:
            return False, f"the setup showed {len(shown)} items"
        ok = all(it is not None and price_text(it) in text for it in pair)
        return ok, "both prices not stated"
    if kind == "policy":
        if policies is None:
            return False, "no policies"
        return (policies.answers[e["topic"]] in text, f"not the {e['topic']} policy")
    if kind == "not_carried":
        return ("don't carry" in low or "do not carry" in low, "did not say we don't carry it")
    if kind == "unknown":
        return (
            bool(re.search(r"\b(?:don't|do not|can't|cannot) (?:know|see|share)", low)),
            "claimed to know",
        )
    if kind == "clarify":
        hits = sum(_has_title(text, catalog.get(i)) for i in e["options"])
        return ("which one" in low and hits >= 2, f"{hits} options listed")
    if kind == "refusal":
        return (reply.intent == "out_of_scope" and not reply.items, f"intent {reply.intent}")
    raise ValueError(f"{case['id']}: unknown kind {kind!r}")


def run_qa(rec: ChatRecommender, cases: list[dict[str, Any]]) -> dict[str, Any]:
    by_kind: dict[str, list[bool]] = defaultdict(list)
    failures, invented = [], []
    for case in cases:
        sid = f"qa-{case['id']}"
        shown: list[str] = []
        for message in case.get("turns") or []:
            r = rec.chat(message, sid)
            if r.items:
                shown = _ids(r)
        reply = rec.chat(case["question"], sid)
        ok, why = score_qa(case, reply, shown, rec.catalog, rec.policies)
        by_kind[case["expect"]["kind"]].append(ok)
        said = " ".join([*(case.get("turns") or []), case["question"]])  # their own numbers
        bad = invented_in(reply.text, rec.catalog, rec.policies, said)
        if bad:
            invented.append({"id": case["id"], "numbers": bad, "answer": reply.text[:300]})
        if not ok:
            failures.append(
                {
                    "id": case["id"],
                    "why": why,
                    "question": case["question"],
                    "answer": reply.text[:300],
                }
            )
    n = sum(len(v) for v in by_kind.values())
    passed = sum(sum(v) for v in by_kind.values())
    return {
        "cases": n,
        "accuracy": passed / n if n else 0.0,
        "by_kind": {
            k: {"cases": len(v), "accuracy": sum(v) / len(v)} for k, v in sorted(by_kind.items())
        },
        "invented_numbers": sum(len(x["numbers"]) for x in invented),
        "invented": invented,
        "failures": failures,
    }


def _fits(item: Item, e: dict[str, Any]) -> bool:
    cats = e.get("categories")
    if cats and not set(cats) & set(item.categories):
        return False
    if item.price is not None:
        if e.get("price_max") is not None and item.price > e["price_max"]:
            return False
        if e.get("price_min") is not None and item.price < e["price_min"]:
            return False
    elif e.get("price_max") is not None or e.get("price_min") is not None:
        return False
    words = e.get("title_any")
    return not words or any(w.lower() in item.title.lower() for w in words)


def run_onboarding(rec: ChatRecommender, cases: list[dict[str, Any]], k: int = 5) -> dict[str, Any]:
    precisions, asked_ok, failures = [], [], []
    for case in cases:
        sid = f"ob-{case['id']}"
        replies = [rec.chat(m, sid, k=k) for m in case["turns"]]
        e = case["expect"]
        if e.get("clarify_first"):
            first = replies[0]
            asked_ok.append(not first.items and "?" in first.text)
        items = [rec.catalog.get(i) for i in _ids(replies[-1])[:k]]
        p = sum(_fits(it, e) for it in items) / k
        precisions.append(p)
        if p < 1:
            failures.append(
                {
                    "id": case["id"],
                    "precision@5": p,
                    "turns": case["turns"],
                    "picks": [it.title[:60] for it in items],
                }
            )
    return {
        "cases": len(cases),
        "precision@5": sum(precisions) / len(precisions) if precisions else 0.0,
        "clarify_first_cases": len(asked_ok),
        "clarify_first_asked": sum(asked_ok) / len(asked_ok) if asked_ok else 0.0,
        "failures": failures,
    }


def _price(it: Item, high: bool = False) -> float:
    if it.price is None:
        return float("nan")
    return float(it.price_max or it.price) if high else float(it.price)


def run_feedback(rec: ChatRecommender, cases: list[dict[str, Any]]) -> dict[str, Any]:
    ok_all, failures = [], []
    cat = rec.catalog
    for case in cases:
        sid = f"fb-{case['id']}"
        before: list[str] = []
        for message in case["turns"]:
            r = rec.chat(message, sid)
            if r.items:
                before = _ids(r)
        f, e = case["feedback"], case["expect"]
        ref_id = before[e["ref"] - 1] if e.get("ref") and e["ref"] <= len(before) else None
        if "thumb" in f:
            n = int(f["ref"])
            target = before[n - 1] if 1 <= n <= len(before) else ""
            reply = (
                rec.feedback(sid, target, "down" if f["thumb"] == "down" else "up")
                if target
                else Reply("", "error")
            )
        else:
            reply = rec.chat(f["say"], sid)
        if not reply.items:
            reply = rec.chat("show me more", sid)
        after = _ids(reply)
        change = e["change"]
        items_b = [cat.get(i) for i in before]
        items_a = [cat.get(i) for i in after]
        if change == "removed":
            gone = before if ref_id is None else [ref_id]
            ok = bool(after) and not set(gone) & set(after)
        elif change == "cheaper":
            ok = bool(after) and max(_price(i) for i in items_a) < min(_price(i) for i in items_b)
        elif change == "pricier":
            ok = bool(after) and min(_price(i) for i in items_a) > max(
                _price(i, True) for i in items_b
            )
        elif change == "more_like":
            base = set(cat.get(ref_id).categories) if ref_id else set()
            ok = (
                bool(after)
                and after != before
                and ref_id not in after
                and all(base & set(i.categories) for i in items_a)
            )
        else:
            ok = bool(after) and after != before
        ok_all.append(ok)
        if not ok:
            failures.append(
                {
                    "id": case["id"],
                    "change": change,
                    "feedback": f,
                    "before": [i.title[:50] for i in items_b],
                    "after": [i.title[:50] for i in items_a],
                }
            )
    return {
        "cases": len(cases),
        "changed_as_asked": sum(ok_all) / len(ok_all) if ok_all else 0.0,
        "failures": failures,
    }


def run_store_eval(rec: ChatRecommender, eval_dir: Path | None = None) -> dict[str, Any]:
    """All three sets through ``rec`` (a store recommender); one JSON-able result."""
    t0 = time.perf_counter()
    eval_dir = eval_dir or data_dir() / "eval"
    sets = {name: load_set(eval_dir / f"{name}.jsonl") for name in SETS}
    result = {
        "protocol": {
            "catalog": rec.catalog.name,
            "sets": {
                name: f"data/eval/{name}.jsonl ({len(rows)} cases)" for name, rows in sets.items()
            },
            "llm": rec.explain_generator is not None,
            "answers": "catalog facts and data/store/policies.toml only, numbers checked",
        },
        "qa": run_qa(rec, sets["store_qa"]),
        "onboarding": run_onboarding(rec, sets["store_onboarding"]),
        "feedback": run_feedback(rec, sets["store_feedback"]),
    }
    for path in sorted(eval_dir.glob(f"{HOLDOUT}*.jsonl")):
        rows = load_set(path)
        result["protocol"]["sets"][path.stem] = f"data/eval/{path.name} ({len(rows)} cases)"
        result[f"qa_{path.stem.removeprefix('store_qa_')}"] = run_qa(rec, rows)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def _holdouts(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("held-out set", ...) entries: ``qa_holdout``, ``qa_holdout2``, ..."""
    return [
        (("held-out set " + k.removeprefix("qa_holdout")).strip(), v)
        for k, v in sorted(result.items())
        if k.startswith("qa_holdout")
    ]


def markdown(result: dict[str, Any]) -> str:
    qa, ob, fb = result["qa"], result["onboarding"], result["feedback"]
    lines = [
        "# Store evaluation (`chatrec eval --catalog store`)",
        "",
        f"Sets: {', '.join(result['protocol']['sets'].values())}. LLM loaded: "
        f"{result['protocol']['llm']}. Took {result['seconds']} s.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| Q&A accuracy ({qa['cases']} questions) | {qa['accuracy']:.1%} |",
        f"| invented numbers in answers | {qa['invented_numbers']} |",
        *[
            line
            for key, h in _holdouts(result)
            for line in (
                f"| Q&A accuracy, {key} ({h['cases']} questions) | {h['accuracy']:.1%} |",
                f"| invented numbers, {key} | {h['invented_numbers']} |",
            )
        ],
        f"| onboarding precision@5 ({ob['cases']} people) | {ob['precision@5']:.1%} |",
        f"| vague first message got a question ({ob['clarify_first_cases']}) | "
        f"{ob['clarify_first_asked']:.0%} |",
        f"| feedback turns whose next list changed as asked ({fb['cases']}) | "
        f"{fb['changed_as_asked']:.1%} |",
        "",
        "Q&A accuracy by kind:",
        "",
        "| kind | questions | accuracy |",
        "|---|---|---|",
    ]
    for kind, v in qa["by_kind"].items():
        lines.append(f"| {kind} | {v['cases']} | {v['accuracy']:.0%} |")
    for label, part in (("", qa), *((f", {k}", h) for k, h in _holdouts(result))):
        if part and part["failures"]:
            lines += ["", f"Failed questions{label}:", ""]
            lines += [f"- {f['id']} ({f['why']}): “{f['question']}”" for f in part["failures"]]
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], out: Path) -> None:
    """``store.json`` and ``store.md`` in ``out``, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("store.json", json.dumps(result, indent=2)),
        ("store.md", markdown(result)),
    ):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out / name)
