"""The backbone comparison on MovieLens-100k: every system on the same split, in one run.

Input: the ml-100k interactions (``chatrec data fetch``), the shipped adapters in
``data/adapters/`` (a missing one skips its rows, said in the log), the packaged embedder and
generator. Output of ``run_eval``: one JSON-ready dict, ``{"protocol", "rows",
"retriever_recall", "paired_ndcg@10", "mmr_curve", "conversational", "log"}``, one row per
system with the ranking metrics of ``chatrec.eval.metrics``, beyond-accuracy metrics, the
invalid-item rate and the median seconds per user; ``write_report`` turns it into
``eval.json``, ``eval.md`` and two plots.

The table, top to bottom, is built by one function each: the collaborative baselines
(``popularity``, ``itemknn``), the text retrievers (``text_base``, ``text_base_query``,
``text_tuned``), ``transitions``, the ``fused_source`` of transitions and the best text
retriever, and the rerankers of the best retriever's top 20 (``cross_encoder``,
``gpt_zero_shot``, ``gpt_lora``), each as a pure row and a fused one (``rerank_rows``).
They share one ``EvalRun``: the split, the sampled users, the scorers so far, the log.
Every choice (fusion weights, the best retriever) is made on VALIDATION targets of a
separate seeded sample of users, never on test targets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.collab import ItemKNN, Popularity, Transitions, zscore
from chatrec.datasets.split import Split
from chatrec.eval.metrics import K_EVAL, beyond_accuracy, mean_ndcg10, paired, ranking_metrics

FUSION_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
MMR_LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3)
CROSS_ENCODER_DIR = Path("data/adapters/minilm-cross-encoder-movies")
ZERO_SHOT, LORA = "GPT zero-shot (SmolLM2-135M)", "GPT LoRA (SmolLM2-135M)"
EVIDENCE = "GPT evidence LoRA (SmolLM2-135M)"
# The reranker rows ``run_eval(rerankers=...)`` can pick from (default: all of them).
RERANKERS = ("cross-encoder", "gpt-zero-shot", "gpt-lora", "gpt-evidence")
TEXT_BASE, TEXT_QUERY, TEXT_TUNED = (
    "text: base MiniLM", "text: base MiniLM, query text", "text: MiniLM + LoRA",
)  # fmt: skip

Scorer = Callable[[int, str], np.ndarray]  # (user row, stage) -> (n_items,) scores


@dataclass
class RowResult:
    """One system's top-20 per user (catalog positions) and the seconds each user took."""

    system: str
    kind: str  # baseline | retriever | rerank
    lists: list[list[int]]
    seconds: list[float]
    note: str = ""


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int = K_EVAL) -> list[int]:
    """The ``k`` best catalog positions by ``scores``, best first, none of ``exclude``."""
    s = np.asarray(scores, dtype=np.float64).copy()
    s[exclude] = -np.inf
    top = np.argpartition(-s, k)[:k]
    return [int(i) for i in top[np.argsort(-s[top], kind="stable")]]


def _timed(fn: Any, users: list[int]) -> tuple[list[Any], list[float]]:
    out, secs = [], []
    for u in users:
        t0 = time.perf_counter()
        out.append(fn(u))
        secs.append(time.perf_counter() - t0)
    return out, secs


def _fuse_order(cands: list[int], retr: np.ndarray, rer: np.ndarray, w: float) -> list[int]:
    """``cands`` ordered by the fused score the chat's reranker uses (``rerank.fuse``)."""
    from chatrec.rerank import fuse

    return [cands[i] for i in np.argsort(-fuse(retr, rer, w), kind="stable")]


DISPLAYS = {
    "ranked": "the retriever's order (best first, as the GPT prompt says)",
    "shuffled": "a seeded random order per user (the same for every reranker; the GPT prompt "
    "makes no claim of order)",
}


def display_order(n: int, display: str, seed: int, user: int, stage: str) -> np.ndarray:
    """The order the rerankers are shown a user's candidates in (indices into the
    retriever's list): as ranked, or a shuffle seeded by (seed, user, stage)."""
    if display == "ranked":
        return np.arange(n)
    rng = np.random.default_rng([seed, user, 0 if stage == "valid" else 1])
    return rng.permutation(n)


def _sample(n: int, k: int | None, seed: int) -> list[int]:
    if k is None or k >= n:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, size=k, replace=False).tolist())


@dataclass
class EvalRun:
    """What every row of one comparison reads, and what the rows add to.

    Scorers are memoised per (name, user, stage): validation, the test rows, the recall
    cap, the rerankers' candidates and the MMR curve read the same scores again, and the text
    scorers embed a query each time.
    """

    split: Split
    catalog: Any  # chatrec.catalog.Catalog, items in split order
    runtime: Any  # chatrec.config.RuntimeConfig
    test_users: list[int]
    tune_users: list[int]
    display: str = "ranked"
    seed: int = 0
    progress: bool = True
    base: Any = None  # the base text embedder (also the ILD vectors' model)
    base_vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    scorers: dict[str, Scorer] = field(default_factory=dict)  # in table order
    val_ndcg: dict[str, float] = field(default_factory=dict)
    results: list[RowResult] = field(default_factory=list)
    best_retriever: str = ""
    text_fusion_weight: float = 0.0
    fusion_weights: dict[str, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    memo: dict[tuple[str, int, str], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def items(self) -> list[Any]:
        return self.catalog.items

    @cached_property
    def rerank_evidence(self) -> Any:
        """``train.data.RerankEvidence`` of the training interactions (the evidence row)."""
        from chatrec.train.data import RerankEvidence

        return RerankEvidence.fit(self.split)

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self.catalog.items]

    @property
    def n_items(self) -> int:
        return len(self.catalog.items)

    @cached_property
    def train(self) -> list[np.ndarray]:
        """Every user's training sequence (no validation or test item)."""
        return [self.split.train(u) for u in range(len(self.split.users))]

    @cached_property
    def pop_share(self) -> np.ndarray:
        """(n_items,) share of all users whose training items include each item."""
        share = np.zeros(self.n_items)
        for s in self.train:
            share[np.unique(s)] += 1.0 / len(self.split.users)
        return share

    def targets(self, users: list[int], stage: str) -> list[int]:
        return [self.split.target(u, stage) for u in users]

    def say(self, msg: str) -> None:
        """Log a line into the result (and print it when showing progress)."""
        from tqdm.auto import tqdm

        self.log.append(msg)
        if self.progress:
            tqdm.write(msg)

    def bar(self, it: Iterable[Any], desc: str) -> Any:
        from tqdm.auto import tqdm

        return tqdm(it, desc=desc, disable=not self.progress, leave=False)

    def add(self, name: str, fn: Scorer) -> None:
        self.scorers[name] = fn

    def score(self, name: str, u: int, stage: str) -> np.ndarray:
        if (name, u, stage) not in self.memo:
            self.memo[(name, u, stage)] = self.scorers[name](u, stage)
        return self.memo[(name, u, stage)]

    def lists(self, name: str, users: list[int], stage: str) -> tuple[list[list[int]], list[float]]:
        """Each user's top ``K_EVAL`` by scorer ``name`` and the seconds each took."""
        return _timed(
            lambda u: top_k(self.score(name, u, stage), self.split.history(u, stage)), users
        )

    def liked(self, u: int, stage: str, keep: int) -> list[str]:
        """Titles of the user's last ``keep`` liked items (as the retriever's query text)."""
        from chatrec.train.data import _history_titles

        h, r = self.split.history(u, stage), self.split.history_ratings(u, stage)
        return _history_titles(self.catalog, h, r, keep)[0]


# ---- the retriever rows: each adds a scorer (user row, stage) -> (n_items,) scores


def popularity(run: EvalRun) -> None:
    """Training interaction counts: the same list for everyone."""
    pop = Popularity().fit(run.train, run.n_items)
    run.add("popularity", lambda u, st: pop.counts_)


def itemknn(run: EvalRun) -> None:
    """Item-based kNN on the binary training matrix."""
    knn = ItemKNN().fit(run.train, run.n_items)
    run.add("itemknn", lambda u, st: knn.score([run.split.history(u, st)])[0])


def transitions(run: EvalRun) -> None:
    """Item transitions: what people rated soon after the history's last items."""
    trans = Transitions().fit(run.train, run.n_items)
    run.add("transitions", lambda u, st: trans.score([run.split.history(u, st)])[0])


def text_base(run: EvalRun) -> None:
    """The base embedder: cosine to the mean vector of the last 5 history items."""
    vecs = run.base_vecs
    run.add(TEXT_BASE, lambda u, st: vecs @ vecs[run.split.history(u, st)[-5:]].mean(axis=0))


def text_base_query(run: EvalRun) -> None:
    """The tuned retriever's query text, embedded by the base model: its "before"."""
    from chatrec.train.retriever import query_text

    run.add(
        TEXT_QUERY,
        lambda u, st: (
            run.base_vecs @ run.base.encode_query([query_text(run.liked(u, st, 5), None)])[0]
        ),
    )


def text_tuned(run: EvalRun, tuned: Any, tuned_vecs: np.ndarray) -> None:
    """The fine-tuned retriever (MiniLM + LoRA) on the same query text."""
    from chatrec.train.retriever import query_text

    run.add(
        TEXT_TUNED,
        lambda u, st: tuned_vecs @ tuned.encode_query([query_text(run.liked(u, st, 5), None)])[0],
    )


def add_retrievers(run: EvalRun, adapter: Path) -> None:
    """Every retriever row, in table order; the tuned one only when its adapter exists."""
    from chatrec.config import EmbedConfig
    from chatrec.embed import SentenceEmbedder
    from chatrec.train import retriever as rt

    docs = [it.document() for it in run.items]
    run.base = SentenceEmbedder.from_config(EmbedConfig(), run.runtime)
    run.base_vecs = run.base.encode_document(docs)  # (n, d)
    tuned = None
    if (adapter / "adapter_config.json").exists():
        tuned = rt.load_tuned_embedder(adapter, run.runtime)
    tuned_vecs = tuned.encode_document(docs) if tuned is not None else None
    popularity(run)
    itemknn(run)
    text_base(run)
    transitions(run)
    text_base_query(run)
    if tuned is not None:
        text_tuned(run, tuned, tuned_vecs)


def validate_retrievers(run: EvalRun) -> None:
    """Validation NDCG@10 of every scorer so far (the tuning users' validation targets)."""
    val_targets = run.targets(run.tune_users, "valid")
    for name in run.bar(list(run.scorers), "validation"):
        run.val_ndcg[name] = mean_ndcg10(run.lists(name, run.tune_users, "valid")[0], val_targets)


def fused_source(run: EvalRun) -> str:
    """z(transitions) + w * z(best text retriever), ``w`` chosen on validation; its name."""
    text_name = TEXT_TUNED if TEXT_TUNED in run.scorers else TEXT_BASE

    def parts(u: int, st: str) -> tuple[np.ndarray, np.ndarray]:
        return zscore(run.score("transitions", u, st)), zscore(run.score(text_name, u, st))

    val_targets = run.targets(run.tune_users, "valid")
    best_w, best_v = 0.0, -1.0
    for w in FUSION_WEIGHTS[:-1]:
        v = mean_ndcg10(
            [top_k(parts(u, "valid")[0] + w * parts(u, "valid")[1], run.split.history(u, "valid"))
             for u in run.tune_users],
            val_targets,
        )  # fmt: skip
        if v > best_v + 1e-9:
            best_w, best_v = w, v
    fused_name = f"transitions + {text_name}"
    run.add(fused_name, lambda u, st: parts(u, st)[0] + best_w * parts(u, st)[1])
    run.val_ndcg[fused_name] = best_v
    run.text_fusion_weight = best_w
    run.say(f"validation NDCG@10: {run.val_ndcg}; fusion text weight {best_w}")
    return fused_name


def retriever_rows(run: EvalRun) -> None:
    """The retriever rows on the test targets, in the order their scorers were added."""
    kinds = {"popularity": "baseline", "itemknn": "baseline"}
    for name in run.scorers:
        lst, secs = run.lists(name, run.test_users, "test")
        run.results.append(RowResult(name, kinds.get(name, "retriever"), lst, secs))


def retriever_recall(run: EvalRun, names: list[str]) -> dict[str, dict[str, float]]:
    """Recall@20 and @50 of each retriever: the cap on any reranker of its top 20."""
    targets = run.targets(run.test_users, "test")
    out = {}
    for name in names:
        deep, _ = _timed(
            lambda u, n=name: top_k(run.score(n, u, "test"), run.split.history(u, "test"), 50),
            run.test_users,
        )
        out[name] = {
            "recall@20": float(np.mean([t in d[:20] for d, t in zip(deep, targets, strict=True)])),
            "recall@50": float(np.mean([t in d for d, t in zip(deep, targets, strict=True)])),
        }
    return out


# ---- the reranker rows: each reorders the best retriever's top 20


@dataclass
class RerankRow:
    """A reranker: its system name, backbone, scorer (query, items) -> (n,) scores, and what
    it ran on (a shared-trunk view reports in ``last_seconds`` what a call took alone)."""

    system: str
    backbone: str
    score: Callable[[Any, list[Any]], Any]
    ran_on: Any
    evidence: bool = False  # the query carries each candidate's evidence


def cross_encoder(run: EvalRun, folder: Path) -> list[RerankRow]:
    """The fine-tuned MiniLM cross-encoder (BERT-style), or nothing without its adapter."""
    if not (folder / "adapter_config.json").exists():
        run.say(f"no cross-encoder in {folder}: its rows are skipped")
        return []
    from chatrec.rerank import CrossEncoderReranker

    ce = CrossEncoderReranker.from_adapter(folder, run.runtime.device, 10)
    return [RerankRow("cross-encoder (MiniLM, fine-tuned)", "BERT-style", ce.scores, ce)]


def gpt_zero_shot(run: EvalRun) -> tuple[str, Any]:
    """The packaged SmolLM2-135M generator as it ships."""
    from chatrec.config import GeneratorConfig
    from chatrec.generate import TransformersGenerator

    return ZERO_SHOT, TransformersGenerator.from_config(GeneratorConfig(), run.runtime)


def gpt_lora(run: EvalRun, adapter: Path) -> list[tuple[str, Any]]:
    """SmolLM2-135M with the reranker LoRA, or nothing without the adapter."""
    from chatrec.config import GeneratorConfig
    from chatrec.generate import TransformersGenerator

    if not (adapter / "adapter_config.json").exists():
        run.say(f"no reranker adapter in {adapter}: the GPT LoRA rows are skipped")
        return []
    cfg = GeneratorConfig(adapter=str(adapter))
    return [(LORA, TransformersGenerator.from_config(cfg, run.runtime))]


def _share_trunk(run: EvalRun, gens: list[Any]) -> list[Any]:
    """The blocks below the LoRA are the base's: run them once per prompt for both rows."""
    from chatrec.generate import SharedTrunk

    if len(gens) < 2:
        return gens
    try:
        trunk = SharedTrunk(gens)
    except ValueError:
        return gens  # each row runs its own model
    run.say(f"GPT rows: the {trunk.depth} bottom blocks the LoRA leaves as the "
            "base's run once per prompt for both rows")  # fmt: skip
    return [trunk.view(i) for i in range(len(gens))]


def gpt_evidence(run: EvalRun, adapter: Path) -> list[RerankRow]:
    """SmolLM2-135M with the evidence-reading LoRA: it is shown each candidate's evidence and
    never told the list's order (trained on shuffled lists), in either display."""
    from chatrec.config import GeneratorConfig, RerankConfig
    from chatrec.generate import TransformersGenerator
    from chatrec.rerank import VerbalizerReranker

    if not (adapter / "adapter_config.json").exists():
        run.say(f"no evidence reranker adapter in {adapter}: its rows are skipped")
        return []
    gen = TransformersGenerator.from_config(GeneratorConfig(adapter=str(adapter)), run.runtime)
    rcfg = RerankConfig(kind="verbalizer", history_titles=10, ranked=False, evidence=True)
    score = VerbalizerReranker(gen, rcfg).letter_logprobs
    return [RerankRow(EVIDENCE, "GPT-style", score, gen, evidence=True)]


def gpt_rerankers(run: EvalRun, adapter: Path, which: Iterable[str] = RERANKERS) -> list[RerankRow]:
    """The verbalizer reranker on the zero-shot and the LoRA generator (GPT-style)."""
    from chatrec.config import RerankConfig
    from chatrec.rerank import VerbalizerReranker

    which = set(which)
    named = [
        *([gpt_zero_shot(run)] if "gpt-zero-shot" in which else []),
        *(gpt_lora(run, adapter) if "gpt-lora" in which else []),
    ]
    gens = _share_trunk(run, [gen for _, gen in named])
    rcfg = RerankConfig(kind="verbalizer", history_titles=10)
    if run.display == "shuffled":
        rcfg = rcfg.model_copy(update={"ranked": False})
    return [
        RerankRow(name, "GPT-style", VerbalizerReranker(gen, rcfg).letter_logprobs, gen)
        for (name, _), gen in zip(named, gens, strict=True)
    ]


def rerank_scores(
    run: EvalRun, row: RerankRow, u: int, st: str
) -> tuple[list[int], np.ndarray, np.ndarray, float]:
    """Candidates, their retriever scores, the reranker's, and the seconds this took (a
    shared-trunk view reports what it would have taken alone)."""
    from chatrec.rerank import RerankQuery
    from chatrec.train.data import EVAL_WISH, _history_titles

    t0 = time.perf_counter()
    s_all = run.score(run.best_retriever, u, st)
    cands = top_k(s_all, run.split.history(u, st))
    retr = np.asarray([s_all[i] for i in cands])
    order = display_order(len(cands), run.display, run.seed, u, st)
    t1 = time.perf_counter()
    h, r = run.split.history(u, st), run.split.history_ratings(u, st)
    liked, disliked = _history_titles(run.catalog, h, r, 10)
    lines = run.rerank_evidence.lines(run.catalog, cands, h, r, 10) if row.evidence else {}
    query = RerankQuery(EVAL_WISH, tuple(liked), tuple(disliked), lines)
    shown = np.asarray(row.score(query, [run.items[cands[i]] for i in order]))
    s = np.empty(len(cands), dtype=np.float64)
    s[order] = shown  # back to the retriever's order
    alone = getattr(row.ran_on, "last_seconds", None)
    secs = (t1 - t0) + (alone if alone is not None else time.perf_counter() - t1)
    return cands, retr, s, secs


def rerank_rows(run: EvalRun, row: RerankRow) -> None:
    """Two rows: the reranker's own order, and fused with the retriever's scores at the
    weight that is best on validation."""
    tuned: dict[float, list[list[int]]] = {w: [] for w in FUSION_WEIGHTS}
    for u in run.bar(run.tune_users, f"{row.system} (valid)"):
        cands, retr, s, _ = rerank_scores(run, row, u, "valid")
        for w in FUSION_WEIGHTS:
            tuned[w].append(_fuse_order(cands, retr, s, w))
    val_targets = run.targets(run.tune_users, "valid")
    w_best = max(FUSION_WEIGHTS, key=lambda w: (mean_ndcg10(tuned[w], val_targets), -w))
    run.fusion_weights[row.system] = w_best
    pure, fused, secs = [], [], []
    for u in run.bar(run.test_users, row.system):
        cands, retr, s, sec = rerank_scores(run, row, u, "test")
        secs.append(sec)
        pure.append(_fuse_order(cands, retr, s, 1.0))
        fused.append(_fuse_order(cands, retr, s, w_best))
    run.results.append(RowResult(f"+ {row.system}", "rerank", pure, secs, row.backbone))
    run.results.append(
        RowResult(f"+ {row.system}, fused (w={w_best:g})", "rerank", fused, secs, row.backbone)
    )


# ---- the report's tables


def table(run: EvalRun) -> list[dict[str, Any]]:
    """One row per result: ranking and beyond-accuracy metrics, invalid items, latency."""
    targets, ids, pop_share = run.targets(run.test_users, "test"), run.ids, run.pop_share
    rows = []
    for r in run.results:
        valid = [
            i for lst in r.lists for i in lst if 0 <= i < run.n_items and ids[i] in run.catalog
        ]
        n_rec = sum(len(lst) for lst in r.lists)
        row = {"system": r.system, "kind": r.kind, "backbone": r.note or "-"}
        row.update(ranking_metrics(r.lists, targets, ids))
        row.update(beyond_accuracy(r.lists, run.base_vecs, pop_share, run.n_items))
        row["invalid_item_rate"] = 1.0 - len(valid) / max(n_rec, 1)
        row["latency_ms_p50"] = float(np.median(r.seconds) * 1000)
        rows.append({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    return rows


def paired_rows(run: EvalRun) -> list[dict[str, Any]]:
    """Each reranker against the list it reorders, and LoRA against zero-shot."""
    by_name = {r.system: r for r in run.results}
    comparisons = [(r.system, run.best_retriever) for r in run.results if r.kind == "rerank"]
    if f"+ {ZERO_SHOT}" in by_name and f"+ {LORA}" in by_name:
        comparisons.append((f"+ {LORA}", f"+ {ZERO_SHOT}"))
    targets = run.targets(run.test_users, "test")
    out = []
    for a, b in comparisons:
        d = paired(by_name[a].lists, by_name[b].lists, targets)
        out.append({"system": a, "vs": b, **{k: _round(v) for k, v in d.items()}})
    return out


def mmr_curve(run: EvalRun) -> list[dict[str, float]]:
    """The relevance-diversity curve: MMR over the best retriever's top 50, per λ."""
    from chatrec.diversify import mmr

    targets, pop_share = run.targets(run.test_users, "test"), run.pop_share
    curve = []
    for lam in MMR_LAMBDAS:
        out = []
        for u in run.test_users:
            s = run.score(run.best_retriever, u, "test")
            pool = top_k(s, run.split.history(u, "test"), 50)
            pick = mmr(np.asarray([s[i] for i in pool]), run.base_vecs[pool], 10, lam)
            out.append([pool[i] for i in pick])
        m = ranking_metrics(out, targets, run.ids)
        ild = beyond_accuracy(out, run.base_vecs, pop_share, run.n_items)["ild@10"]
        curve.append({"lambda": lam, "ndcg@10": round(m["ndcg@10"], 4), "ild@10": round(ild, 4)})
    return curve


def protocol(run: EvalRun, seconds: float) -> dict[str, Any]:
    """How the figures were made: data, split, users, every choice made on validation."""
    from chatrec.train.data import EVAL_WISH

    return {
        "dataset": "MovieLens-100k (recbole==1.2.1 wheel)",
        "split": "per user by timestamp (ties: file order): last = test, second-to-last = "
        "validation, rest = training",
        "ranking": "full: all 1,682 items minus the user's earlier items; no sampling",
        "users": len(run.test_users),
        "users_total": len(run.split.users),
        "validation_users": len(run.tune_users),
        "best_retriever": run.best_retriever,
        "rerank_candidates": K_EVAL,
        "rerank_display": DISPLAYS[run.display],
        "rerank_wish": EVAL_WISH,
        "fusion_weights": run.fusion_weights,
        "text_fusion_weight": run.text_fusion_weight,
        "validation_ndcg@10": {k: round(v, 4) for k, v in run.val_ndcg.items()},
        "seed": run.seed,
        "seconds": round(seconds, 1),
    }


def run_eval(
    users: int | None = None,
    llm: bool = True,
    val_users: int = 150,
    seed: int = 0,
    runtime: Any = None,
    reranker_adapter: Path | None = None,
    retriever_adapter: Path | None = None,
    cross_encoder_dir: Path | None = None,
    conversations: bool = True,
    progress: bool = True,
    display: str = "ranked",
    rerankers: Iterable[str] = RERANKERS,
    evidence_adapter: Path | None = None,
) -> dict[str, Any]:
    """Every system on the same leave-one-out split; returns {"protocol", "rows", ...}.

    ``display``: how the rerankers are shown the retriever's top 20. "ranked" (the chat's
    way): in the retriever's order, the GPT prompt saying so. "shuffled": in a seeded random
    order per user and stage (the same for every reranker), the prompt making no claim of
    order: the model's own ranking, without the retriever's order to lean on.

    ``users``: evaluate a seeded sample of that many test users (None: all 943). Fusion
    weights and the best retriever are chosen on the VALIDATION targets of ``val_users``
    seeded users, never on test targets.

    ``rerankers``: which reranker rows to run, of ``RERANKERS`` (a shipped adapter missing
    skips its rows, said in the log).
    """
    from chatrec.config import RuntimeConfig
    from chatrec.datasets import movielens
    from chatrec.datasets.split import leave_one_out
    from chatrec.train import reranker as rr
    from chatrec.train import retriever as rt

    if display not in DISPLAYS:
        raise ValueError(f"display must be one of {', '.join(DISPLAYS)}, not {display!r}")
    which = set(rerankers)
    if which - set(RERANKERS):
        raise ValueError(f"unknown rerankers {sorted(which - set(RERANKERS))}; "
                         f"choose from {', '.join(RERANKERS)}")  # fmt: skip
    t_start = time.time()
    runtime = runtime or RuntimeConfig()
    ml = movielens.load(runtime.cache_dir)
    split = leave_one_out(ml)
    n_users = len(split.users)
    test_users, tune_users = _sample(n_users, users, seed), _sample(n_users, val_users, seed + 1)
    run = EvalRun(split, ml.catalog, runtime, test_users, tune_users, display, seed, progress)
    add_retrievers(run, retriever_adapter or rt.ADAPTER_DIR)
    validate_retrievers(run)
    fused_name = fused_source(run)
    candidates = [TEXT_BASE, TEXT_QUERY, *([TEXT_TUNED] if TEXT_TUNED in run.scorers else []),
                  "transitions", fused_name]  # fmt: skip
    run.best_retriever = max(candidates, key=lambda n: run.val_ndcg[n])
    retriever_rows(run)
    recall_cap = retriever_recall(run, candidates)
    rows_: list[RerankRow] = []
    if "cross-encoder" in which:
        rows_ += cross_encoder(run, cross_encoder_dir or CROSS_ENCODER_DIR)
    if llm:
        rows_ += gpt_rerankers(run, reranker_adapter or rr.ADAPTER_DIR, which)
        if "gpt-evidence" in which:
            rows_ += gpt_evidence(run, evidence_adapter or rr.EVIDENCE_ADAPTER_DIR)
    for row in rows_:
        rerank_rows(run, row)
    rows, pairs, curve = table(run), paired_rows(run), mmr_curve(run)
    conv = conversational_eval(runtime, progress) if conversations else None
    return {
        "protocol": protocol(run, time.time() - t_start),
        "rows": rows,
        "retriever_recall": recall_cap,
        "paired_ndcg@10": pairs,
        "mmr_curve": curve,
        "conversational": conv,
        "log": run.log,
    }


def conversational_eval(runtime: Any, progress: bool) -> dict[str, Any] | None:
    """Constraint-satisfaction precision@5 on our hand-written conversations (no LLM)."""
    try:
        from chatrec.eval import convtest
    except ImportError:
        return None
    from chatrec.config import ChatRecConfig
    from chatrec.recommender import ChatRecommender

    rec = ChatRecommender.from_pretrained(
        "movies", ChatRecConfig(catalog="movies"), runtime, llm=False
    )
    return convtest.run_cases(rec, convtest.load_cases(convtest.default_cases_path()), k=5)


REPORT_COLUMNS = (
    ("system", "system"),
    ("recall@5", "R@5"),
    ("recall@10", "R@10"),
    ("recall@20", "R@20"),
    ("ndcg@5", "N@5"),
    ("ndcg@10", "N@10"),
    ("ndcg@20", "N@20"),
    ("mrr@10", "MRR@10"),
    ("ild@10", "ILD@10"),
    ("coverage@10", "cov@10"),
    ("novelty@10", "novelty"),
    ("invalid_item_rate", "invalid"),
    ("latency_ms_p50", "ms/user"),
)


def _round(v: Any) -> Any:
    return [round(x, 4) for x in v] if isinstance(v, list) else round(v, 4)


def markdown(result: dict[str, Any]) -> str:
    """The report: protocol, the table of every row, retriever recall, the MMR curve."""
    p = result["protocol"]
    lines = [
        "# Offline evaluation: MovieLens-100k, every backbone on one split",
        "",
        f"Protocol: {p['split']}; ranking {p['ranking']}. {p['users']} of {p['users_total']} "
        f"test users; fusion weights and the best retriever chosen on the validation targets "
        f"of {p['validation_users']} users. Rerankers reorder the top {p['rerank_candidates']} "
        f"of the best retriever ({p['best_retriever']}), shown in {p['rerank_display']}, "
        f'with the wish "{p["rerank_wish"]}". Run time {p["seconds"] / 60:.1f} min.',
        "",
        "| " + " | ".join(h for _, h in REPORT_COLUMNS) + " |",
        "|" + "---|" * len(REPORT_COLUMNS),
    ]
    for row in result["rows"]:
        cells = []
        for key, _ in REPORT_COLUMNS:
            v = row.get(key, "")
            cells.append(f"{v:.4f}" if isinstance(v, float) and key != "latency_ms_p50" else
                         (f"{v:.1f}" if isinstance(v, float) else str(v)))  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Retriever recall (the cap on any reranker of its top 20):", ""]
    lines += ["| retriever | Recall@20 | Recall@50 |", "|---|---|---|"]
    for name, r in result["retriever_recall"].items():
        lines.append(f"| {name} | {r['recall@20']:.4f} | {r['recall@50']:.4f} |")
    if result.get("paired_ndcg@10"):
        lines += [
            "",
            "Paired NDCG@10 differences, user by user (95% interval: mean ± 1.96 SE):",
            "",
        ]
        lines += ["| system | vs | difference | SE | 95% interval | users changed |"]
        lines += ["|---|---|---|---|---|---|"]
        for d in result["paired_ndcg@10"]:
            lo, hi = d["ci95"]
            lines.append(
                f"| {d['system']} | {d['vs']} | {d['diff']:+.4f} | {d['se']:.4f} | "
                f"[{lo:+.4f}, {hi:+.4f}] | {d['users_changed']:.1%} |"
            )
    lines += ["", "Relevance vs diversity (MMR over the best retriever's top 50):", ""]
    lines += ["| λ | NDCG@10 | ILD@10 |", "|---|---|---|"]
    for c in result["mmr_curve"]:
        lines.append(f"| {c['lambda']} | {c['ndcg@10']:.4f} | {c['ild@10']:.4f} |")
    conv = result.get("conversational")
    if conv:
        lines += [
            "",
            f"Conversational test set ({conv['cases']} hand-written cases, no LLM): "
            f"constraint-satisfaction precision@5 {conv['precision@5']:.3f} "
            f"({', '.join(f'{k} {v:.3f}' for k, v in conv['by_kind'].items())}).",
        ]
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], out_dir: Path) -> None:
    """``eval.json``, ``eval.md``, ``ndcg10.png`` (per system), ``mmr.png`` (λ curve)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("eval.json", json.dumps(result, indent=2)), ("eval.md", markdown(result))):
        tmp = out_dir / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out_dir / name)

    rows = result["rows"]
    colors = {"baseline": "#999999", "retriever": "#4c78a8", "rerank": "#f58518"}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.2))
    ax.barh(
        [r["system"] for r in rows][::-1],
        [r["ndcg@10"] for r in rows][::-1],
        color=[colors.get(r["kind"], "#4c78a8") for r in rows][::-1],
    )
    ax.set_xlabel("NDCG@10 (full ranking, leave-one-out test)")
    ax.set_title(f"MovieLens-100k, {result['protocol']['users']} users")
    fig.tight_layout()
    fig.savefig(out_dir / "ndcg10.png", dpi=110)
    plt.close(fig)

    curve = result["mmr_curve"]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([c["ild@10"] for c in curve], [c["ndcg@10"] for c in curve], "o-")
    for c in curve:
        ax.annotate(f"λ={c['lambda']}", (c["ild@10"], c["ndcg@10"]), fontsize=8)
    ax.set_xlabel("ILD@10 (diversity)")
    ax.set_ylabel("NDCG@10 (relevance)")
    ax.set_title("MMR over the best retriever")
    fig.tight_layout()
    fig.savefig(out_dir / "mmr.png", dpi=110)
    plt.close(fig)
