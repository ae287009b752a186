"""`chatrec eval --task explanations`: what the explanations of real picks say, checked.

Input: the frozen held-out requests (``data/eval/explain_holdout.jsonl``: a message and the
titles the person loved, written independently of the corpus and the code). Each request
runs through the chat as a person would send it (their liked titles in the session first);
the top three picks' final texts (what the person reads) are scored; a reply that answers
instead ("do you have the Frame TV?": the items of an answer carry no evidence and no text of
their own) has no picks to score:

- ``model_share``: texts the language model wrote that passed the checker, of all texts (a
  rejected text is written once more when there is time, ``ExplainConfig.retry_within_s``,
  and replaced by the template when that is rejected too, so every shown model text passed
  it; a second try that passes counts as the model's);
- ``retried`` / ``retried_passed``: texts written a second time, and those the second try
  saved from the template;
- ``unsupported``: texts, model or template, with a claim ``explain.check`` flags;
- ``personalised``: of the picks a liked item pulled up (co-liking evidence), the share whose
  text names one of those liked items;
- ``distinct2``: distinct word pairs over all word pairs of all texts;
- ``words_p50``: the median length in words (``words_range``: shortest, longest); ``n``:
  texts scored.
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from chatrec.config import ChatRecConfig
from chatrec.datasets import data_dir
from chatrec.explain import names_title

HOLDOUT = data_dir() / "eval" / "explain_holdout.jsonl"
PICKS = 3


def run_explanations(
    catalog: str,
    path: Path = HOLDOUT,
    llm: bool = True,
    limit: int | None = None,
    config: ChatRecConfig | None = None,
) -> dict[str, Any]:
    """The contract's figures for one catalog, with every scored text. ``config``: the
    app's by default (e.g. ``explain.retry_within_s=None`` measures what a second try buys
    where there is always time for it)."""
    from chatrec import ChatRecommender, replies
    from chatrec.facts import facts_text

    rec = ChatRecommender.from_pretrained(catalog, config=config, llm=llm)
    by_title = {it.title: it.id for it in rec.catalog}
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    rows = [r for r in rows if r["catalog"] == catalog][:limit]
    texts: list[dict[str, Any]] = []
    t0 = time.time()
    for r in rows:
        sid = f"eval-{r['id']}"
        state = rec.session(sid)
        state.liked.extend(by_title[t] for t in r["liked"] if t in by_title)
        history = [rec.catalog.get(i).title for i in state.history(10) if i in rec.catalog]
        reply = rec.chat(r["message"], sid)
        wishes = replies.wishes(state.request, r["message"], state.constraints)
        for pick in reply.items[:PICKS]:
            if pick.evidence is None:
                continue  # an answer's cards ("do you have the Frame TV?"): the answer explains
            item = rec.catalog.get(pick.item_id)
            ev = pick.evidence
            problems = rec.explainer.problems(
                pick.explanation, item, history, wishes, ev, state.constraints
            )
            pulled = [p.title for p in ev.pulls] if ev is not None else []
            texts.append(
                {
                    "id": r["id"],
                    "history": bool(r["liked"]),
                    "request": wishes,
                    "item_id": item.id,
                    "title": item.title,
                    "facts": facts_text(item, max_features=2),
                    "evidence": ev.lines() if ev is not None else [],
                    "text": pick.explanation,
                    "source": pick.source,
                    "tries": pick.tries,
                    "problems": problems,
                    "pulled_by": pulled,
                    "names_pull": any(names_title(pick.explanation, t) for t in pulled),
                }
            )
    return {
        "catalog": catalog,
        **score(texts),
        "seconds": round(time.time() - t0, 1),
        "texts": texts,
    }


def score(texts: list[dict[str, Any]]) -> dict[str, Any]:
    """The contract's figures over scored texts (see the module's doc)."""
    n = len(texts)
    pulled = [t for t in texts if t["pulled_by"]]
    pairs: list[tuple[str, str]] = []
    for t in texts:
        w = re.findall(r"[a-z0-9']+", t["text"].lower())
        pairs += list(itertools.pairwise(w))
    words = [len(t["text"].split()) for t in texts]
    model = sum(t["source"] == "llm" and not t["problems"] for t in texts)
    retried = [t for t in texts if t.get("tries", 0) > 1]
    named = sum(t["names_pull"] for t in pulled)
    return {
        "n": n,
        "model_share": round(model / max(1, n), 4),
        "unsupported": sum(bool(t["problems"]) for t in texts),
        "personalised": round(named / len(pulled), 4) if pulled else None,
        "personalised_n": len(pulled),
        "distinct2": round(len(set(pairs)) / max(1, len(pairs)), 4),
        "words_p50": statistics.median(words) if words else 0,
        "words_range": [min(words), max(words)] if words else [],
        "retried": len(retried),
        "retried_passed": sum(t["source"] == "llm" for t in retried),
    }  # fmt: skip
