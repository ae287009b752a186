"""Generators: the language model behind reranking and explanations, in process or over HTTP.

Both backends take plain prompt strings (already rendered with the model's chat template by
``chat_prompt``) and offer the three things the pipeline needs:

- ``generate(prompts)``: greedy completions for a batch of prompts;
- ``stream(prompt)``: the same, piece by piece, for the UI;
- ``choice_logprobs(prompt, choices)``: log-probabilities of single-token choices ("A", "B",
  ...) as the next token, from ONE forward pass: the verbalizer reranker reads these.

``TransformersGenerator`` runs a causal LM (the packaged SmolLM2-135M-Instruct by default, an
optional LoRA adapter) in this process. ``OpenAIGenerator`` talks to an OpenAI-compatible
``/v1/completions`` endpoint, such as vLLM serving the base model with the adapter.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from chatrec.config import ChatRecConfig, GeneratorConfig, RuntimeConfig
from chatrec.datasets import data_dir
from chatrec.facts import number_key

Numbers = Sequence[Collection[str]] | None  # per prompt: the numbers its text may contain
Words = Sequence[Collection[str]] | None  # per prompt: the words (lower case) it may write
# How a batch decodes: None greedy; a seed sampled (``SAMPLED``); one per row to mix the two.
Seeds = int | Sequence[int | None] | None
# How a second try decodes (``seed`` given): sampled near the greedy text, not far from it.
SAMPLED = {"temperature": 0.7, "top_p": 0.9}


class Generator(Protocol):
    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str: ...

    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers: Numbers = None,
        one_sentence: bool = False,
    ) -> list[str]: ...

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]: ...

    def stream_batch(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers: Numbers = None,
        one_sentence: bool = False,
        seed: Seeds = None,
        allowed_words: Words = None,
    ) -> Iterator[tuple[int, str]]: ...

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray: ...


@functools.cache
def _number_tokens(tokenizer: Any) -> tuple[dict[str, int], int | None, int | None]:
    """(digit -> token id, ',' id, '.' id); checked once per tokenizer (a scan of the vocab).

    Raises:
        ValueError: the tokenizer has tokens holding several digits.
    """
    vocab = tokenizer.get_vocab()
    digits = {d: vocab[d] for d in "0123456789" if d in vocab}
    if len(digits) != 10 or any(re.search(r"\d", tok) and tok not in digits for tok in vocab):
        raise ValueError("NumberGuard needs a tokenizer that splits numbers into digits")
    return digits, vocab.get(","), vocab.get(".")


class NumberGuard:
    """A logits processor: digits may only spell numbers from each row's allowed set.

    SmolLM2's tokenizer splits numbers into single-digit tokens, so a number is built one
    digit at a time and can be kept, step by step, a prefix of an allowed number; a number
    may only end where it is complete. The model then cannot write a number that is not in
    the item's facts, nor an amount of money it has already written ("$89.99, within your
    budget, and $89.99"): once every amount is said, no "$" may start another. Entries
    written with a leading "$" are amounts of money: after a "$" only those may follow, so
    "under $500" in a request cannot turn into "$50" borrowed from a 50" screen. (Words for
    numbers are not guarded; the explanation check reads text.)
    """

    # The number being written at the end of the text (and whether a "$" leads it). It may
    # not start right after a digit or a point: "$249.99," is a finished number and a comma.
    _RUN = re.compile(r"(\$\s?)?(?<![\d.])(\d[\d,]*(?:\.\d*)?)?$")

    def __init__(self, tokenizer: Any, allowed: Sequence[Collection[str]], prompt_len: int):
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.digit_ids, self.comma, self.dot = _number_tokens(tokenizer)
        # Per row and context (False: any number, True: after "$"): complete keys, prefixes.
        self.complete: list[dict[bool, set[str]]] = []
        for row in allowed:
            money = {number_key(a[1:]) for a in row if a.startswith("$")}
            plain = {number_key(a.removeprefix("$")) for a in row}
            self.complete.append({False: plain, True: money})
        self.prefixes = [
            {ctx: {k[:i] for k in keys for i in range(1, len(k) + 1)} for ctx, keys in c.items()}
            for c in self.complete
        ]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for b in range(scores.shape[0]):
            text = self.tokenizer.decode(input_ids[b, self.prompt_len :])
            m = self._RUN.search(text)
            money = bool(m and m.group(1))
            run = (m.group(2) or "").replace(",", "") if m else ""
            prefixes, complete = self.prefixes[b][money], self.complete[b][money]
            said = self._money_said(text[: m.start()] if m else text)
            if said & self.complete[b][True]:  # an amount of money is said once, not twice
                left = self.complete[b][True] - said
                if not left and not money:
                    scores[b, _dollar_tokens(self.tokenizer)] = float("-inf")
                if money:
                    complete = left
                    prefixes = {k[:i] for k in left for i in range(1, len(k) + 1)}
            if run and run.rstrip(".") not in complete:
                # Unfinished number: only a digit (or a separator that can lead to one) may follow.
                keep = torch.full_like(scores[b], float("-inf"))
                for d, i in self.digit_ids.items():
                    if run + d in prefixes:
                        keep[i] = scores[b, i]
                if self.comma is not None:
                    keep[self.comma] = scores[b, self.comma]
                if self.dot is not None and run + "." in prefixes:
                    keep[self.dot] = scores[b, self.dot]
                scores[b] = keep
                continue
            banned = [i for d, i in self.digit_ids.items() if run + d not in prefixes]
            if banned:
                scores[b, banned] = float("-inf")
        return scores

    @staticmethod
    def _money_said(text: str) -> set[str]:
        """The amounts of money written (complete) in ``text``."""
        return {number_key(a) for a in re.findall(r"\$\s?(\d[\d,]*(?:\.\d+)?)", text)}


@functools.cache
def _dollar_tokens(tokenizer: Any) -> list[int]:
    """The ids of the tokens that write a "$" (so no amount starts when all are said)."""
    vocab = tokenizer.get_vocab().items()
    return [i for t, i in vocab if "$" in tokenizer.convert_tokens_to_string([t])]


# A word: letters only (digits are numbers, ``NumberGuard``'s; "Se7en" is "se" and "en").
LETTERS = re.compile(r"[^\W\d_]+")
_TRAILING = re.compile(r"[^\W\d_]*$")


@functools.cache
def _token_texts(tokenizer: Any) -> tuple[list[str], frozenset[int]]:
    """Each token's text (decoded alone) and the special tokens' ids; once per tokenizer."""
    ids = list(range(len(tokenizer)))
    texts = tokenizer.batch_decode([[i] for i in ids], skip_special_tokens=False)
    return texts, frozenset(tokenizer.all_special_ids)


class WordGuard:
    """A logits processor: each row writes only words from its allowed set.

    A word (letters only; any case) may end only where it is one of the row's words, and
    while it is being written it must stay a prefix of one. For an explanation the allowed
    words are those of its prompt (the request, the liked titles, the item's facts and
    evidence) and a fixed list of connecting words (``explain.CONNECTING``): the model says
    what it read in its own order and words of linking, and cannot bring in a word for a
    claim nothing in the prompt makes ("a twist", "for the beach", "touch-sensitive").

    Greedy decoding and sampling (``_nucleus``) choose among the ``TOP`` likeliest tokens, so
    only those are checked: the allowed ones keep their score, every other token gets -inf.
    When none of them is allowed, the ``WIDER`` likeliest are checked; when none of those
    is either, the row is left as it is (the checker reads the text afterwards).
    """

    TOP = 64
    WIDER = 2048

    def __init__(self, tokenizer: Any, allowed: Sequence[Collection[str]], prompt_len: int):
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len
        self.texts, self.special = _token_texts(tokenizer)
        # Rows given the same set (a pick's candidates) share its words and prefixes.
        shared: dict[int, tuple[frozenset[str], set[str]]] = {}
        for row in allowed:
            if id(row) not in shared:
                words = frozenset(w.lower() for w in row)
                shared[id(row)] = (words, {w[:i] for w in words for i in range(1, len(w) + 1)})
        self.words = [shared[id(row)][0] for row in allowed]
        self.prefixes = [shared[id(row)][1] for row in allowed]

    def fits(self, row: int, partial: str, token: int) -> bool:
        """Whether ``token`` may follow a text whose last (unfinished) word is ``partial``."""
        piece = " " if token in self.special else self.texts[token]
        joined = (partial + piece).lower()
        for m in LETTERS.finditer(joined):
            wanted = self.prefixes[row] if m.end() == len(joined) else self.words[row]
            if m.group() not in wanted:
                return False
        return True

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for b in range(scores.shape[0]):
            text = self.tokenizer.decode(input_ids[b, self.prompt_len :], skip_special_tokens=True)
            match = _TRAILING.search(text)
            partial = match.group() if match else ""
            for k in (self.TOP, self.WIDER):
                top = torch.topk(scores[b], min(k, scores.shape[1]))
                ok = [
                    i
                    for v, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
                    if v > float("-inf") and self.fits(b, partial, i)
                ]
                if ok:
                    keep = torch.full_like(scores[b], float("-inf"))
                    keep[ok] = scores[b, ok]
                    scores[b] = keep
                    break
        return scores


class SentenceEnd:
    """A stopping criterion: each row stops once its first sentence has ended.

    A batch of explanations then takes as many steps as its longest first sentence, not
    ``max_new_tokens``. A point right after a digit ("rated 4.5") only ends a sentence once a
    space follows, since "$349." may go on to "$349.99".
    """

    _END = re.compile(r"(?:[^\d\s][.!?]|\d[.!?]\s)$")

    def __init__(self, tokenizer: Any, prompt_len: int):
        self.tokenizer = tokenizer
        self.prompt_len = prompt_len

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = [
            bool(self._END.search(self.tokenizer.decode(row[self.prompt_len :][-8:])))
            for row in input_ids
        ]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class _RowStreamer:
    """Turns a batch's new tokens, step by step, into (row, new text) pieces."""

    def __init__(self, tokenizer: Any, rows: int):
        self.tokenizer = tokenizer
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.sent = [""] * rows

    def pieces(self, step: Any) -> list[tuple[int, str]]:
        """The text each row's token of this ``step`` (B,) adds."""
        out = []
        for b, tok in enumerate(step.tolist()):
            self.tokens[b].append(tok)
            text = self.tokenizer.decode(self.tokens[b], skip_special_tokens=True)
            # Hold back a trailing partial character (an incomplete UTF-8 sequence).
            if text.endswith("\ufffd"):
                continue
            if len(text) > len(self.sent[b]) and text.startswith(self.sent[b]):
                out.append((b, text[len(self.sent[b]) :]))
                self.sent[b] = text
        return out


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (else bf16 is emulated and slower)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def per_row(seed: Seeds, rows: int) -> list[int | None]:
    """Each row's seed (None: greedy) of a batch decoded with ``seed``."""
    seeds = list(seed) if isinstance(seed, Sequence) else [seed] * rows
    if len(seeds) != rows:
        raise ValueError(f"{len(seeds)} seeds for {rows} prompts")
    return seeds


def _nucleus(scores: Any, rng: Any, within: int = 64) -> Any:
    """One token sampled as ``SAMPLED`` says (temperature, then the smallest set of tokens
    whose probability reaches ``top_p``), among the ``within`` likeliest: sorting all 49k
    logits and sampling over them (``transformers``' warpers) cost 8 ms a row and step."""
    import torch

    top, ids = torch.topk(scores, within)
    probs = torch.softmax(top / SAMPLED["temperature"], dim=-1)
    keep = probs.cumsum(-1) - probs < SAMPLED["top_p"]  # the likeliest always stays
    probs = probs * keep
    return ids[torch.multinomial(probs / probs.sum(), 1, generator=rng)[0]]


class TransformersGenerator:
    """A causal LM in this process; greedy decoding, left padding for batches."""

    def __init__(self, model: Any, tokenizer: Any, adapter: str | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.adapter = adapter  # the LoRA folder merged into ``model``, if any
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "left"  # batched generation continues from the right edge

    @classmethod
    def from_config(
        cls, cfg: GeneratorConfig, runtime: RuntimeConfig | None = None
    ) -> TransformersGenerator:
        from chatrec.models import load_generator

        runtime = runtime or RuntimeConfig()
        model, tokenizer = load_generator(cfg.model, runtime.cache_dir, runtime.device)
        adapter = None if cfg.adapter == "auto" else cfg.adapter  # no catalog here: base model
        if adapter:
            from peft import PeftModel

            # Merged: no extra LoRA matmuls per token, and the base's prefix cache stays valid.
            model = PeftModel.from_pretrained(model, adapter).merge_and_unload().eval()
        on_cpu = next(model.parameters()).device.type == "cpu"
        if cfg.quantize == "bf16" and on_cpu and cpu_has_bf16():
            import torch

            model = model.to(torch.bfloat16)
        return cls(model, tokenizer, adapter)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return self.tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=True
        )

    def _encode(self, prompts: Sequence[str]) -> Any:
        # The chat template already holds the special tokens.
        enc = self.tokenizer(
            list(prompts), return_tensors="pt", padding=True, add_special_tokens=False
        )
        return {k: v.to(self.device) for k, v in enc.items()}

    def _generate_kwargs(
        self,
        enc: dict[str, Any],
        max_new_tokens: int,
        allowed_numbers: Numbers,
        one_sentence: bool = False,
        allowed_words: Words = None,
    ) -> dict[str, Any]:
        from transformers import LogitsProcessorList, StoppingCriteriaList

        kwargs: dict[str, Any] = dict(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        guards: list[Any] = []
        if allowed_numbers is not None:
            guards.append(NumberGuard(self.tokenizer, allowed_numbers, enc["input_ids"].shape[1]))
        if allowed_words is not None:  # after the numbers: it reads the scores they leave
            guards.append(WordGuard(self.tokenizer, allowed_words, enc["input_ids"].shape[1]))
        if guards:
            kwargs["logits_processor"] = LogitsProcessorList(guards)
        if one_sentence:
            stop = SentenceEnd(self.tokenizer, enc["input_ids"].shape[1])
            kwargs["stopping_criteria"] = StoppingCriteriaList([stop])
        return kwargs

    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers: Numbers = None,
        one_sentence: bool = False,
    ) -> list[str]:
        """Greedy completions; with ``allowed_numbers``, row i only writes numbers from set i."""
        import torch

        if not prompts:
            return []
        enc = self._encode(prompts)
        with torch.inference_mode():
            out = self.model.generate(
                **self._generate_kwargs(enc, max_new_tokens, allowed_numbers, one_sentence)
            )
        new = out[:, enc["input_ids"].shape[1] :]  # (B, T_new)
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def stream_batch(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers: Numbers = None,
        one_sentence: bool = False,
        seed: Seeds = None,
        allowed_words: Words = None,
    ) -> Iterator[tuple[int, str]]:
        """Like ``generate``, as (row, new text) pieces while the batch decodes together;
        with ``seed``, sampled (``SAMPLED``) from that seed instead of greedy; with one seed
        per row, the rows whose seed is None greedy and the others sampled, each from its own;
        with ``allowed_words``, row i writes only words from set i (``WordGuard``).

        Decoded step by step in the CALLING thread (``_decode``), not by ``model.generate`` in
        a helper thread with a streamer: torch's OpenMP (libgomp) stops spin-waiting once
        more OpenMP threads live than there are cores, which a second thread doing tensor
        work brings about on 2 cores, and then every decode step took 1.7x as long (48 steps
        of a batch of 3: 4.2 s in a helper thread, 2.5 s in the caller).
        """
        if not prompts:
            return
        # A prompt given twice (a greedy and a sampled row) is read once, its cache copied.
        unique = list(dict.fromkeys(prompts))
        enc = self._encode(unique)
        seeds = per_row(seed, len(prompts))
        kwargs = self._generate_kwargs(
            enc, max_new_tokens, allowed_numbers, one_sentence, allowed_words
        )
        streamer = _RowStreamer(self.tokenizer, len(prompts))
        for tokens in self._decode(enc, kwargs, seeds, [unique.index(p) for p in prompts]):
            yield from streamer.pieces(tokens)

    def _decode(
        self,
        enc: dict[str, Any],
        kwargs: dict[str, Any],
        seeds: Sequence[int | None],
        rows: Sequence[int],
    ) -> Iterator[Any]:
        """Each step's new tokens, (B,), as ``model.generate(**kwargs)`` chooses them: greedy
        (a row with a seed: sampled, ``SAMPLED``, from its own generator) with the KV cache,
        the same logits processors and stopping criteria, finished rows padded; it stops when
        every row has ended (EOS or a stopping criterion) or after ``max_new_tokens``.
        ``enc``: the distinct prompts; ``rows``: which of them each row of the batch decodes
        from (their prefill is computed once, then the cache copied to every row)."""
        import torch
        from transformers import DynamicCache, LogitsProcessorList

        processors = LogitsProcessorList(kwargs.get("logits_processor") or [])
        rngs = {
            b: torch.Generator(device=self.device).manual_seed(s)
            for b, s in enumerate(seeds)
            if s is not None
        }
        stops = kwargs.get("stopping_criteria") or []
        eos = self.model.generation_config.eos_token_id
        ends = {self.tokenizer.eos_token_id, *(eos if isinstance(eos, list) else [eos])}
        eos_ids = torch.tensor(sorted(e for e in ends if e is not None), device=self.device)
        ids, mask = enc["input_ids"], enc["attention_mask"]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: each row from 0
        index = torch.tensor(list(rows), device=self.device)
        live = torch.ones(len(rows), dtype=torch.bool, device=self.device)
        cache = DynamicCache()
        step_ids = ids
        with torch.inference_mode():
            for step in range(kwargs["max_new_tokens"]):
                out = self.model(
                    input_ids=step_ids,
                    attention_mask=mask,
                    position_ids=positions,
                    past_key_values=cache,
                    use_cache=True,
                    logits_to_keep=1,
                )
                logits = out.logits[:, -1, :]
                if step == 0 and len(rows) != ids.shape[0]:  # the prompts read: one per row
                    cache.reorder_cache(index)
                    ids, mask, positions, logits = (
                        ids[index],
                        mask[index],
                        positions[index],
                        logits[index],
                    )
                scores = processors(ids, logits.float())
                tokens = scores.argmax(-1)
                for b, rng in rngs.items():
                    tokens[b] = _nucleus(scores[b], rng)
                tokens = torch.where(live, tokens, self.tokenizer.pad_token_id)
                ids = torch.cat([ids, tokens[:, None]], dim=-1)
                yield tokens
                live &= ~torch.isin(tokens, eos_ids)
                for stop in stops:
                    live &= ~stop(ids, scores)
                if not bool(live.any()):
                    return
                mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
                step_ids, positions = tokens[:, None], positions[:, -1:] + 1

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        for _, piece in self.stream_batch([prompt], max_new_tokens):
            yield piece

    def choice_token_ids(self, choices: Sequence[str]) -> list[int]:
        ids = []
        for c in choices:
            toks = self.tokenizer.encode(c, add_special_tokens=False)
            if len(toks) != 1:
                raise ValueError(f"choice {c!r} is {len(toks)} tokens; choices must be one token")
            ids.append(toks[0])
        return ids

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray:
        """(len(choices),) log-probabilities of each choice as the next token; one forward pass.

        Two savings, both exact up to float rounding: only the last position goes through the
        LM head (``logits_to_keep=1``; all T positions would be a (T, V) tensor and ~20% of a
        135M model's FLOPs), and the KV cache of the previous call's prompt is kept, so the
        tokens this prompt shares with it at the start (instructions, the same history, the
        same list before a reordered candidate block) are not recomputed.
        """
        import torch

        ids = self.choice_token_ids(choices)
        tokens = self._encode([prompt])["input_ids"]  # (1, T); one prompt, so no padding
        # setdefault on the instance dict is atomic: one lock even if two threads get here first.
        with self.__dict__.setdefault("_prefix_lock", threading.Lock()):
            # Taken out while the forward pass extends it in place: a failed pass leaves none.
            cached_tokens, cache = self.__dict__.pop("_prefix_cache", (None, None))
            start = 0
            if cached_tokens is not None:
                n = min(len(cached_tokens), tokens.shape[1] - 1)  # keep >= 1 token to run
                same = cached_tokens[:n] == tokens[0, :n].cpu()
                start = n if bool(same.all()) else int((~same).int().argmax())
            if start > 0:
                try:
                    cache.crop(start - cache.get_seq_length())  # negative: tokens to drop
                except (RuntimeError, TypeError, ValueError):  # a sliding window cannot roll back
                    start = 0
            if start == 0:
                cache = None  # the model starts a fresh one
            with torch.inference_mode():
                out = self.model(
                    input_ids=tokens[:, start:],
                    past_key_values=cache,
                    use_cache=True,
                    logits_to_keep=1,
                )
            self._prefix_cache = (tokens[0].cpu(), out.past_key_values)
        logp = torch.log_softmax(out.logits[0, -1].float(), dim=-1)  # (V,)
        return logp[ids].cpu().numpy()


def shared_depth(a: TransformersGenerator, b: TransformersGenerator) -> int:
    """How many bottom decoder blocks (with the embeddings) ``a`` and ``b`` share, weight for
    weight: a LoRA on the top blocks, merged, leaves the blocks below it as the base's.

    0 when the two are not Llama-style decoders of one shape, or differ from the embeddings on.
    """
    import torch

    ma, mb = getattr(a.model, "model", None), getattr(b.model, "model", None)
    la, lb = getattr(ma, "layers", None), getattr(mb, "layers", None)
    if la is None or lb is None or len(la) != len(lb) or a.model.config != b.model.config:
        return 0

    def same(x: Any, y: Any) -> bool:
        px, py = list(x.parameters()), list(y.parameters())
        return len(px) == len(py) and all(
            p.shape == q.shape and p.dtype == q.dtype and torch.equal(p, q)
            for p, q in zip(px, py, strict=True)
        )

    if not same(ma.embed_tokens, mb.embed_tokens):
        return 0
    depth = 0
    while depth < len(la) and same(la[depth], lb[depth]):
        depth += 1
    return depth


class SharedTrunk:
    """Next-token log-probabilities of several generators that share their bottom blocks
    (``shared_depth``), from ONE pass through those blocks per prompt: the base model and its
    top-block LoRA score a prompt for little more than the cost of one.

    ``choice_logprobs`` returns one array per generator, and ``last_seconds`` how long each
    would have taken alone (the shared pass plus its own top blocks), so latencies stay honest.
    The top blocks run as the model's own forward does (its rotary embedding and causal mask);
    a test checks the result against each model's own forward.
    """

    def __init__(self, generators: Sequence[TransformersGenerator]):
        if len(generators) < 2:
            raise ValueError("a shared trunk needs at least two generators")
        self.generators = list(generators)
        self.depth = min(shared_depth(generators[0], g) for g in generators[1:])
        if self.depth == 0:
            raise ValueError("these generators share no bottom blocks")
        self.last_seconds: list[float] = []
        self.memo: dict[tuple[str, tuple[str, ...]], tuple[list[np.ndarray], list[float]]] = {}

    def view(self, i: int) -> TrunkView:
        """Generator ``i`` as a reranker reads a generator; see ``TrunkView``."""
        return TrunkView(self, i)

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> list[np.ndarray]:
        import time

        import torch
        from transformers.masking_utils import create_causal_mask

        first = self.generators[0]
        ids = first.choice_token_ids(choices)
        tokens = first._encode([prompt])["input_ids"]  # (1, T)
        trunk = first.model.model
        with torch.inference_mode():
            t0 = time.perf_counter()
            h = trunk.embed_tokens(tokens)
            pos = torch.arange(tokens.shape[1], device=h.device).unsqueeze(0)
            mask = create_causal_mask(
                config=trunk.config, inputs_embeds=h, attention_mask=None,
                past_key_values=None, position_ids=pos,
            )  # fmt: skip
            rope = trunk.rotary_emb(h, position_ids=pos)
            for layer in trunk.layers[: self.depth]:
                h = layer(h, attention_mask=mask, position_ids=pos, position_embeddings=rope)
            shared = time.perf_counter() - t0
            out, self.last_seconds = [], []
            for g in self.generators:
                t1 = time.perf_counter()
                x, m = h, g.model.model
                for layer in m.layers[self.depth :]:
                    x = layer(x, attention_mask=mask, position_ids=pos, position_embeddings=rope)
                logits = g.model.lm_head(m.norm(x[:, -1:]))[0, -1]
                logp = torch.log_softmax(logits.float(), dim=-1)[ids].cpu().numpy()
                out.append(logp)
                self.last_seconds.append(shared + time.perf_counter() - t1)
        return out


class TrunkView:
    """One generator of a ``SharedTrunk``, with the ``chat_prompt`` and ``choice_logprobs`` a
    ``VerbalizerReranker`` reads. Every (prompt, choices) the trunk scores is kept in its
    ``memo``, so the other views read that prompt for free; ``last_seconds`` is what the last
    call would have taken this generator alone. The memo grows with every prompt: meant for
    the eval's fixed set of users, not for a long-running chat.
    """

    def __init__(self, trunk: SharedTrunk, i: int):
        self.trunk, self.i = trunk, i
        self.last_seconds: float | None = None

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        return self.trunk.generators[self.i].chat_prompt(messages)

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray:
        key = (prompt, tuple(choices))
        if key not in self.trunk.memo:
            logps = self.trunk.choice_logprobs(prompt, choices)
            self.trunk.memo[key] = (logps, list(self.trunk.last_seconds))
        logps, seconds = self.trunk.memo[key]
        self.last_seconds = seconds[self.i]
        return logps[self.i]


class OpenAIGenerator:
    """An OpenAI-compatible completions server (vLLM, llama.cpp server, ...)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        tokenizer: Any | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
    ):
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.model = model
        self.tokenizer = tokenizer  # only for chat_prompt; the server tokenizes the rest

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        if self.tokenizer is None:
            return "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"
        return self.tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=True
        )

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post("/v1/completions", json={"model": self.model, **body})
        r.raise_for_status()
        return r.json()

    def generate(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers: Numbers = None,
        one_sentence: bool = False,
    ) -> list[str]:
        """``allowed_numbers`` cannot be enforced by the server; callers check numbers after."""
        if not prompts:
            return []
        data = self._post({"prompt": list(prompts), "max_tokens": max_new_tokens, "temperature": 0})
        by_index = sorted(data["choices"], key=lambda c: c.get("index", 0))
        return [c["text"].strip() for c in by_index]

    def stream(
        self, prompt: str, max_new_tokens: int = 96, seed: int | None = None
    ) -> Iterator[str]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": True,
        }
        if seed is not None:  # a second try, sampled (vLLM and llama.cpp take a seed)
            body.update(SAMPLED, seed=seed)
        with self.client.stream("POST", "/v1/completions", json=body) as r:
            r.raise_for_status()
            for line in r.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line.removeprefix("data:").strip()
                if payload == "[DONE]":
                    break
                text = json.loads(payload)["choices"][0].get("text", "")
                if text:
                    yield text

    def stream_batch(
        self,
        prompts: Sequence[str],
        max_new_tokens: int = 96,
        allowed_numbers: Numbers = None,
        one_sentence: bool = False,
        seed: Seeds = None,
        allowed_words: Words = None,
    ) -> Iterator[tuple[int, str]]:
        """One request per prompt, streamed one after another (the server batches for us).
        ``allowed_numbers`` and ``allowed_words`` cannot be enforced by the server; callers
        check the text after."""
        seeds = per_row(seed, len(prompts))
        for i, prompt in enumerate(prompts):
            for piece in self.stream(prompt, max_new_tokens, seeds[i]):
                yield i, piece

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray:
        """From the server's top log-probabilities of the first token; absent choices get -inf."""
        data = self._post(
            {"prompt": prompt, "max_tokens": 1, "temperature": 0, "logprobs": len(choices) + 5}
        )
        top = data["choices"][0]["logprobs"]["top_logprobs"][0]  # {token: logprob}
        return np.array([top.get(c, -np.inf) for c in choices], dtype=np.float64)


def explain_adapter(config: ChatRecConfig) -> str | None:
    """The explainer's adapter folder: ``explain.adapter``, 'auto' the shipped one or None."""
    if config.explain.adapter != "auto":
        return config.explain.adapter
    folder = data_dir() / "adapters" / "smollm2-135m-explain"
    return str(folder) if (folder / "adapter_config.json").exists() else None


def language_models(
    config: ChatRecConfig, runtime: RuntimeConfig, shared: Any = None
) -> tuple[Any, Any]:
    """(the model that reranks, the model that explains) for a catalog's ``config``
    (``resolve_adapter`` applied): the explainer is the base model with the explainer's
    adapter; the reranker its own model only when the verbalizer ranks (else the same one).
    ``shared``: a model already loaded (another catalog's), reused when its adapter is the
    one wanted."""
    loaded = {} if shared is None else {getattr(shared, "adapter", None): shared}

    def get(adapter: str | None) -> Any:
        if adapter not in loaded:
            cfg = config.generator.model_copy(update={"adapter": adapter})
            loaded[adapter] = TransformersGenerator.from_config(cfg, runtime)
        return loaded[adapter]

    explainer = get(explain_adapter(config))
    ranks = config.rerank.kind == "verbalizer"
    return (get(config.generator.adapter) if ranks else explainer), explainer
