"""The explanation corpus's inputs: (request, history, pick, facts, evidence), as the explainer
sees them.

Requests are the fresh recommend turns of the labelled training turns
(``data/understanding/train_*.jsonl``; never a frozen held-out set). Half the people get a
history: on movies three films a real MovieLens user loved in the TRAINING part of the fixed
split (rating >= 4; never a validation or test rating), on the store two products of the
catalog. Each request runs through the recommender without a language model (retrieval, the
person's history, MMR) and its top three picks become inputs, with the prompt the explainer
will read (``Explainer.messages``). The targets are written separately (see
``data/explanations/README.md``) and every one must pass ``explain.check``.

Run: ``python -m chatrec.train.explain_data data/explanations/inputs.jsonl``; check written
texts with ``python -m chatrec.train.explain_data check INPUTS TEXTS``.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chatrec.datasets import data_dir
from chatrec.types import Evidence, Pull

PER_CATALOG = 300  # all of them: 279 movies, 270 store
PICKS = 3


def requests(catalog: str) -> list[str]:
    """Fresh recommend messages of the labelled training turns for ``catalog``, in file order."""
    out = []
    for path in sorted((data_dir() / "understanding").glob("train_*.jsonl")):
        for line in path.read_text().splitlines():
            d = json.loads(line)
            ctx = d["context"]
            fresh = not ctx["request"] and not ctx["shown"]
            if d["catalog"] == catalog and d["act"]["intent"] == "recommend" and fresh:
                out.append(d["message"])
    return list(dict.fromkeys(out))


def histories(rec: Any, n: int, rng: random.Random) -> list[list[str]]:
    """``n`` liked histories: on movies, 3 films a MovieLens user loved in training."""
    if rec.info.interactions:  # MovieLens: a real user's loved films
        from chatrec.config import RuntimeConfig
        from chatrec.datasets import movielens
        from chatrec.datasets.split import leave_one_out

        ml = movielens.load(RuntimeConfig().cache_dir)
        split = leave_one_out(ml)
        out = []
        while len(out) < n:
            u = rng.randrange(len(split.users))
            seq, rat = split.train(u), split.ratings[u][:-2]
            loved = [ml.catalog.items[int(i)].id for i, r in zip(seq, rat, strict=True) if r >= 4]
            if len(loved) >= 3:
                out.append(rng.sample(loved, 3))
        return out
    items = [it.id for it in rec.catalog if not it.addon and it.review_count]
    return [rng.sample(items, 2) for _ in range(n)]


def build(
    catalog: str, seed: int = 0, per_catalog: int = PER_CATALOG, first: int = 0
) -> list[dict[str, Any]]:
    """The inputs of one catalog: picks ``first`` to ``first + PICKS`` of each request (ids
    carry the seed when it is not 0, so a second draw never reuses a first draw's id)."""
    from chatrec import ChatRecommender, replies
    from chatrec.facts import facts_text

    rng = random.Random(f"{seed}-{catalog}")
    rec = ChatRecommender.from_pretrained(catalog, llm=False)
    said = requests(catalog)[:per_catalog]
    liked = histories(rec, len(said) // 2, rng)
    with_history = set(rng.sample(range(len(said)), len(liked)))
    out: list[dict[str, Any]] = []
    queue = iter(liked)
    for n, message in enumerate(said):
        sid = f"x-{catalog}-{n}" if not seed else f"s{seed}-{catalog}-{n}"
        state = rec.session(sid)
        if n in with_history:
            state.liked.extend(next(queue))
        history = [rec.catalog.get(i).title for i in state.history(10) if i in rec.catalog]
        reply = rec.chat(message, sid)
        if reply.intent not in ("recommend", "refine", "onboarding") or not reply.items:
            continue  # a question's answer, a refusal: no picks to explain
        wishes = replies.wishes(state.request, message, state.constraints)
        for r in reply.items[first : first + PICKS]:
            item = rec.catalog.get(r.item_id)
            ev = r.evidence
            out.append(
                {
                    "id": f"{sid}-{r.item_id}",
                    "catalog": catalog,
                    "kind": rec.info.noun,
                    "request": wishes,
                    "history": history[-5:],
                    "item_id": r.item_id,
                    "title": item.title,
                    "facts": facts_text(item, 2),  # the prompt's facts line
                    "evidence": ev.lines() if ev is not None else [],
                    "pulled_by": [p.title for p in ev.pulls] if ev is not None else [],
                    "evidence_data": asdict(ev) if ev is not None else None,
                    "template": r.explanation,
                }
            )
    return out


def evidence_of(row: dict[str, Any]) -> Evidence | None:
    """The ``Evidence`` an input row was built with."""
    d = row.get("evidence_data")
    if not d:
        return None
    pulls = tuple(Pull(**p) for p in d["pulls"])
    return Evidence(d["item_id"], d["parts"], pulls, tuple(d["matches"]), d["facts"])


def check_texts(inputs: Path, texts: Path) -> dict[str, list[str]]:
    """Problems of each written explanation (``Explainer.problems`` with the row's evidence;
    8 to 35 words):
    id -> problems (empty: it passes). ``texts``: JSON lines of {"id", "text"}."""
    from chatrec import ChatRecommender

    rows = {r["id"]: r for r in map(json.loads, inputs.read_text().splitlines())}
    recs: dict[str, Any] = {}
    out: dict[str, list[str]] = {}
    for n, line in enumerate(texts.read_text().splitlines(), 1):
        d = json.loads(line)
        row = rows.get(d.get("id"))
        if row is None:
            out[f"line {n}"] = [f"no input with id {d.get('id')!r}"]
            continue
        if row["catalog"] not in recs:
            recs[row["catalog"]] = ChatRecommender.from_pretrained(row["catalog"], llm=False)
        out[row["id"]] = problems_of(row, str(d.get("text", "")), recs[row["catalog"]])
    return out


def problems_of(row: dict[str, Any], text: str, rec: Any) -> list[str]:
    """``text`` judged as the chat judges an explanation of the row's pick
    (``Explainer.problems`` of ``rec``, the row's catalog, with the row's evidence)."""
    item, ev = rec.catalog.get(row["item_id"]), evidence_of(row)
    return rec.explainer.problems(text, item, row["history"], row["request"], ev, None)


def main(argv: list[str]) -> None:
    if argv[:1] == ["check"]:
        result = check_texts(Path(argv[1]), Path(argv[2]))
        bad = {k: v for k, v in result.items() if v}
        for k, v in bad.items():
            print(f"{k}: {'; '.join(v)}")
        print(f"{len(result) - len(bad)} of {len(result)} texts pass")
        return
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
    first = int(argv[argv.index("--first") + 1]) if "--first" in argv else 0
    per = int(argv[argv.index("--per") + 1]) if "--per" in argv else PER_CATALOG
    paths = [a for a in argv if a.endswith(".jsonl")]
    out = Path(paths[0] if paths else "data/explanations/inputs.jsonl")
    rows = [row for c in ("movies", "store") for row in build(c, seed, per, first)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} inputs -> {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
