"""LoRA fine-tuning of the generator as the verbalizer reranker (peft + the HF Trainer).

Input: ``Example`` s (``chatrec.train.data``) and a validation set of ``ValItem`` s (prompts of
the protocol's VALIDATION stage, target letter or -1 when the retriever missed it). Output: a
peft adapter folder (safetensors) and its training log.

The loss reads only what inference reads. A rerank answer is the letter then one grounded
sentence; the letter's loss is cross-entropy over the letters shown (the verbalizer
renormalises over exactly those), the sentence's is language-model loss weighted by
``explain_weight``. Product answers get plain language-model loss. Only the last few positions
go through the LM head (``logits_to_keep``): the vocabulary is 49k wide and a prompt is ~450
tokens, so full logits would be a third of the step. Batches are left-padded so every answer
ends at the last position, with position ids from the attention mask (as one unpadded prompt
at inference sees them).

Speed on a CPU: LoRA sits on the top ``layers`` blocks only, so backward stops there (no
activations kept below), and the frozen base runs in bfloat16 where the CPU has it; a step of
4 examples of ~450 tokens took ~4.3 s on 2 cores (all 30 layers: ~7.5 s). The same entry
point runs under ``accelerate launch`` (the Trainer handles DDP).
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.eval.metrics import ndcg_at
from chatrec.train.data import LETTERS, Example

log = logging.getLogger(__name__)


@dataclass
class LoraTrainConfig:
    """How the reranker adapter is trained; saved beside the adapter as ``train_config.json``."""

    examples: int = 1800  # rerank + cold-start + refine examples
    product_examples: int = 180  # store product questions (short prompts)
    epochs: float = 1.0
    batch_size: int = 4
    grad_accum: int = 2
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup: float = 0.06  # ratio of the steps
    scheduler: str = "cosine"
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    layers: int = 10  # LoRA on the top `layers` decoder blocks
    targets: tuple[str, ...] = (
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
    )  # fmt: skip
    explain_weight: float = 0.2
    history_titles: int = 10
    misses: bool = False  # keep examples whose target the retriever missed (swapped in)
    # Each candidate's line ends with its evidence (``RerankEvidence``), and every list is
    # shown shuffled with no claim of order: the model must read the evidence, not positions.
    evidence: bool = False
    eval_steps: int = 50
    eval_users: int = 120
    patience: int = 3
    max_minutes: float = 50.0  # stop (keeping the best checkpoint) when training runs longer
    # Stop after this many optimiser steps (0: no limit); the schedule stays the planned one,
    # so a short run follows the same trajectory as a long one up to that step.
    stop_after_steps: int = 0
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValItem:
    prompt: str  # chat-template text ending where the answer starts
    n_choices: int
    target: int  # display index of the held-out item, or -1 if not among the candidates


def encode(tokenizer: Any, ex: Example, explain_weight: float) -> dict[str, Any]:
    """Token ids of prompt + answer, and where the loss applies (counted from the end)."""
    prompt = tokenizer.apply_chat_template(ex.messages, tokenize=False, add_generation_prompt=True)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    if ex.n_choices:
        choice_ids = [tokenizer.convert_tokens_to_ids(c) for c in LETTERS[: ex.n_choices]]
        target = LETTERS.index(ex.answer)
        rest = tokenizer("\n" + ex.explanation, add_special_tokens=False)["input_ids"] + eos
        answer = [choice_ids[target], *rest] if explain_weight > 0 else [choice_ids[target]]
    else:
        choice_ids, target = [], -1
        answer = tokenizer(ex.answer, add_special_tokens=False)["input_ids"] + eos
    return {
        "input_ids": p_ids + answer,
        "n_answer": len(answer),
        "choice_ids": choice_ids,
        "target": target,
    }


def collate(rows: Sequence[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Left-pad to one length; every answer then ends at the last position."""
    import torch

    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[b, width - n :] = torch.tensor(r["input_ids"])
        mask[b, width - n :] = 1
    n_choices = max(len(r["choice_ids"]) for r in rows)
    choice = torch.full((len(rows), max(n_choices, 1)), -1, dtype=torch.long)
    for b, r in enumerate(rows):
        if r["choice_ids"]:
            choice[b, : len(r["choice_ids"])] = torch.tensor(r["choice_ids"])
    return {
        "input_ids": ids,  # (B, T)
        "attention_mask": mask,  # (B, T)
        "position_ids": (mask.cumsum(-1) - 1).clamp(min=0),  # (B, T)
        "n_answer": torch.tensor([r["n_answer"] for r in rows]),  # (B,)
        "choice_ids": choice,  # (B, C) letter token ids, -1 padded
        "target": torch.tensor([r["target"] for r in rows]),  # (B,) -1: free-text answer
    }


def answer_loss(model: Any, batch: dict[str, Any], explain_weight: float) -> Any:
    """Mean over the batch of (letter CE over shown letters + weighted LM loss of the rest)."""
    import torch
    import torch.nn.functional as F

    n_answer, choice_ids, target = batch["n_answer"], batch["choice_ids"], batch["target"]
    k = int(n_answer.max())
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=k + 1,
    )
    logits = out.logits[:, :-1].float()  # (B, k, V): kept position j predicts token T-k+j
    ids = batch["input_ids"][:, -k:]  # (B, k) the tokens being predicted
    losses = []
    for b in range(logits.shape[0]):
        n = int(n_answer[b])
        lg, tok = logits[b, k - n :], ids[b, k - n :]  # (n, V), (n,)
        if int(target[b]) >= 0:
            shown = choice_ids[b][choice_ids[b] >= 0]  # (C,)
            letter = F.cross_entropy(lg[0, shown][None], target[b : b + 1])
            rest = F.cross_entropy(lg[1:], tok[1:]) if n > 1 else lg.new_zeros(())
            losses.append(letter + explain_weight * rest)
        else:
            losses.append(F.cross_entropy(lg, tok))
    return torch.stack(losses).mean()


def letter_scores(model: Any, tokenizer: Any, prompt: str, n: int) -> np.ndarray:
    """(n,) log-softmax over the first n letters as the next token (one forward pass)."""
    import torch

    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    choice = [tokenizer.convert_tokens_to_ids(c) for c in LETTERS[:n]]
    with torch.inference_mode():
        logits = model(input_ids=ids.to(model.device), logits_to_keep=1).logits[0, -1]
    return torch.log_softmax(logits[choice].float(), -1).cpu().numpy()


def validate(model: Any, tokenizer: Any, items: Sequence[ValItem]) -> dict[str, float]:
    """NDCG@10 and hit@1 of the letter order over the validation prompts."""
    ndcg, hit1 = [], []
    for v in items:
        if v.target < 0:
            ndcg.append(0.0)
            hit1.append(0.0)
            continue
        s = letter_scores(model, tokenizer, v.prompt, v.n_choices)
        rank = int((s > s[v.target]).sum())
        ndcg.append(ndcg_at(rank))
        hit1.append(float(rank == 0))
    return {"ndcg@10": float(np.mean(ndcg)), "hit@1": float(np.mean(hit1))}


def train_within(
    model: Any,
    tokenizer: Any,
    encoded: Sequence[dict[str, Any]],
    minutes: float,
    validate: Any,
    keep: str,
    out_dir: Path,
    points: int = 3,
    batch_size: int = 8,
    lr: float = 1e-3,
    rng: random.Random | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Train a LoRA ``model`` on ``encoded`` examples (``encode``) for ``minutes`` of wall
    clock: AdamW, a 20-step warm-up then a cosine over the minutes, batches of similar length.
    At ``points`` evenly spaced times ``validate()`` scores it; the adapter with the highest
    ``keep`` score is saved in ``out_dir``. Returns (the validation curve, the kept point)."""
    import torch

    rng = rng or random.Random(0)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    t0, curve, best, step, seen, losses = time.time(), [], None, 0, 0, []
    queue: list[list[Any]] = []
    while True:
        frac = (time.time() - t0) / (minutes * 60)
        if frac >= (len(curve) + 1) / points:  # a validation point
            loss = round(sum(losses) / max(1, len(losses)), 4)
            point: dict[str, Any] = {"step": step, "seen": seen, "train_loss": loss}
            point |= validate()
            point["minutes"] = round((time.time() - t0) / 60, 1)
            print(json.dumps({k: v for k, v in point.items() if k != "samples"}), flush=True)
            curve.append(point)
            losses = []
            if best is None or point[keep] > best[keep]:
                best = point
                model.save_pretrained(str(out_dir))
            if len(curve) >= points:
                return curve, best
        queue = queue or similar_batches(encoded, batch_size, rng)
        warm = min(1.0, (step + 1) / 20)
        for g in opt.param_groups:
            g["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
        loss = answer_loss(model, collate(queue.pop(), pad), 0.0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step, seen = step + 1, seen + batch_size
        losses.append(loss.item())


def similar_batches(
    encoded: Sequence[dict[str, Any]], size: int, rng: random.Random
) -> list[list[Any]]:
    """Batches of examples of similar length (little padding), in a seeded random order."""
    order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i]["input_ids"]), rng.random()))
    out = [[encoded[i] for i in order[j : j + size]] for j in range(0, len(order), size)]
    rng.shuffle(out)
    return out


def add_lora(model: Any, cfg: LoraTrainConfig) -> Any:
    """Wrap ``model`` with trainable LoRA on its top ``cfg.layers`` blocks (fp32 adapters).

    The adapters' random initialisation is seeded by ``cfg.seed``: without it two runs of the
    same command start from different LoRA weights and drift apart from the first step."""
    import torch
    from peft import LoraConfig, get_peft_model

    n_layers = model.config.num_hidden_layers
    lora = LoraConfig(
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.targets),
        layers_to_transform=list(range(max(n_layers - cfg.layers, 0), n_layers)),
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(cfg.seed)
    peft_model = get_peft_model(model, lora)
    for p in peft_model.parameters():
        if p.requires_grad:
            p.data = p.data.float()  # Adam on bf16 weights loses small updates
    return peft_model


def train_lora(
    model: Any,
    tokenizer: Any,
    train: Sequence[Example],
    val: Sequence[ValItem],
    out_dir: Path,
    cfg: LoraTrainConfig,
    resume: bool = False,
) -> dict[str, Any]:
    """Train, keep the best adapter by validation NDCG@10, save it to ``out_dir/adapter``.

    Checkpoints go to ``out_dir/checkpoints`` (``resume=True`` continues from the newest);
    every logged step and evaluation is appended to ``out_dir/log.jsonl``.
    """
    import torch

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    encoded = [encode(tokenizer, e, cfg.explain_weight) for e in train]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    json_log, budget = _callbacks(out_dir / "log.jsonl", cfg)
    trainer = _rerank_trainer(
        model, tokenizer, encoded, val, cfg, _training_args(out_dir, cfg), pad, [json_log, budget]
    )
    t0 = budget.t0 = time.time()  # the budget counts from here, the first evaluation included
    before = trainer.evaluate()
    resume_arg = bool(resume and any((out_dir / "checkpoints").glob("checkpoint-*")))
    trainer.train(resume_from_checkpoint=resume_arg or None)
    after = trainer.evaluate()  # the best checkpoint, reloaded at the end
    seconds = time.time() - t0
    trainer.model.save_pretrained(str(out_dir / "adapter"))
    result = {
        "config": asdict(cfg),
        "train_examples": len(encoded),
        "val_users": len(val),
        "val_before": before,
        "val_after": after,
        "steps": trainer.state.global_step,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        # every validation of the run (the last one is the best checkpoint, reloaded)
        "val_curve": [
            [e["step"], round(e["eval_ndcg@10"], 4)]
            for e in trainer.state.log_history
            if "eval_ndcg@10" in e
        ][:-1],
        "stopped_by_budget": time.time() - t0 > cfg.max_minutes * 60,
        "seconds": round(seconds, 1),
    }
    (out_dir / "result.json").write_text(json.dumps(result, indent=2))
    return result


def _callbacks(log_path: Path, cfg: LoraTrainConfig) -> tuple[Any, Any]:
    """(a callback appending every log to ``log_path`` as JSON lines, the time/step budget).

    The budget stops training, after evaluating and saving, once ``cfg.max_minutes`` have
    passed since its ``t0`` (set by the caller when the run starts) or after
    ``cfg.stop_after_steps`` steps. Built here because transformers is imported lazily.
    """
    from transformers import TrainerCallback

    class JsonLog(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            with log_path.open("a") as f:
                f.write(json.dumps({"step": state.global_step, "time": time.time(), **logs}) + "\n")

    class TimeBudget(TrainerCallback):
        t0 = math.inf  # no budget until the caller starts the clock

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            over_time = time.time() - self.t0 > cfg.max_minutes * 60
            if over_time:
                log.warning("training hit its %.0f-minute budget; stopping", cfg.max_minutes)
            if over_time or 0 < cfg.stop_after_steps <= state.global_step:
                control.should_evaluate = control.should_save = True
                control.should_training_stop = True

    return JsonLog(), TimeBudget()


def _training_args(out_dir: Path, cfg: LoraTrainConfig) -> Any:
    """HF ``TrainingArguments``: evaluate and checkpoint every ``cfg.eval_steps``, keep the best
    by validation NDCG@10 (``RerankTrainer.evaluate`` reports it)."""
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out_dir / "checkpoints"),
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.lr,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup,
        lr_scheduler_type=cfg.scheduler,
        max_grad_norm=1.0,
        logging_steps=10,
        logging_first_step=True,
        eval_strategy="steps",
        eval_steps=cfg.eval_steps,
        save_strategy="steps",
        save_steps=cfg.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="ndcg@10",
        greater_is_better=True,
        report_to="none",
        remove_unused_columns=False,
        dataloader_num_workers=0,
        seed=cfg.seed,
        data_seed=cfg.seed,
        use_cpu=not torch.cuda.is_available(),
        save_only_model=False,
    )


def _rerank_trainer(
    model: Any,
    tokenizer: Any,
    encoded: list[dict[str, Any]],
    val: Sequence[ValItem],
    cfg: LoraTrainConfig,
    args: Any,
    pad: int,
    callbacks: list[Any],
) -> Any:
    """A ``Trainer`` whose loss is ``answer_loss`` and whose evaluation is ``validate`` on
    ``val`` (the letter order of validation prompts), with early stopping on it."""
    from transformers import EarlyStoppingCallback, Trainer

    class RerankTrainer(Trainer):
        def compute_loss(
            self, model: Any, inputs: Any, return_outputs: bool = False, **kw: Any
        ) -> Any:
            loss = answer_loss(model, inputs, cfg.explain_weight)
            return (loss, None) if return_outputs else loss

        def evaluate(self, eval_dataset: Any = None, ignore_keys: Any = None, **kw: Any) -> Any:
            self.model.eval()
            t0 = time.time()
            metrics = {f"eval_{k}": v for k, v in validate(self.model, tokenizer, val).items()}
            metrics["eval_seconds"] = round(time.time() - t0, 1)
            self.model.train()
            self.log(metrics)
            self.control = self.callback_handler.on_evaluate(
                self.args, self.state, self.control, metrics
            )
            return metrics

    return RerankTrainer(
        model=model,
        args=args,
        train_dataset=encoded,
        eval_dataset=encoded[:1],  # unused: evaluate() scores ``val``
        data_collator=lambda rows: collate(rows, pad),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience), *callbacks],
    )
