"""The GPT-style parser: SmolLM2-135M-Instruct (packaged) writes the act's compact JSON.

Input: the turn in its context (``context_text``, with long shop titles cut short) and the
message, in the chat template (``prompts/parse_act.j2``). Zero-shot, the prompt carries a few
labelled turns of the catalog as examples; with the LoRA adapter (``data/parsers/smollm2-acts``,
trained by ``chatrec train parser --backbone gpt``) it carries none.

Output: a ``DialogueAct``, always. The model decodes greedily under a grammar built from the
catalog's vocabulary (``act_schema``: the intents, the catalog's category and spec names, the
audiences, bounded lists, numbers and short strings; compact JSON in the schema's field order,
i.e. ``DialogueAct.to_text``), compiled by xgrammar. Whatever it is asked, the model can only
write an act of this catalog. Where the grammar leaves one way to go on (``{"intent":"``, the
rest of a key or a category once it is unambiguous) the tokens are fed without a decoding step
("jump-forward"), and the KV cache of the fixed start of the prompt is kept between turns.

The rules remain as normalisers (``normalise.finish_act``, shared with the BERT-style parser):
money only as the message says it, years and specs as the rules read them, titles resolved to
catalog titles, positions ("the second one") as the rules read them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from chatrec.act import INTENTS, DialogueAct, Vocabulary
from chatrec.understand import context_text, vocabulary

PARSER_DIR = Path("data/parsers/smollm2-acts")
MAX_NEW_TOKENS = 128  # the grammar's bounds keep every act well under this
TITLE_CHARS = 32  # shown titles are cut to this in the prompt (shop titles run to 150)
EXAMPLE_INTENTS = ("recommend", "refine", "question", "compare", "feedback", "chit_chat")


def _strings(max_items: int, max_chars: int) -> dict[str, Any]:
    item = {"type": "string", "minLength": 1, "maxLength": max_chars}
    return {"type": "array", "items": item, "maxItems": max_items}


def _object(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def act_schema(vocab: Vocabulary) -> dict[str, Any]:
    """The JSON schema of an act in ``vocab``'s catalog, bounded so decoding stays short.

    Fields are in ``DialogueAct``'s order, so the compact form (``to_text``) is what it
    admits; prices exist only in a catalog with prices, years only in one with years."""
    cats = {"type": "array", "items": {"enum": sorted(vocab.categories)}, "maxItems": 3}
    money = {"type": "number", "minimum": 0, "maximum": 100000}
    props: dict[str, Any] = {
        "intent": {"enum": list(INTENTS)},
        "categories": cats,
        "exclude": cats,
        "audience": {"enum": ["kids", "family", "adults"]},
        "mood": _strings(4, 32),
    }
    if vocab.has_years:
        year = {"type": "integer", "minimum": 1900, "maximum": 2030}
        props |= {"year_min": year, "year_max": year}
    if vocab.has_prices:
        relative = {"enum": ["cheaper", "pricier"]}
        props["price"] = _object(
            {"max": money, "min": money, "around": money, "relative": relative}
        )
    if vocab.specs:
        spec = _object(
            {"name": {"enum": sorted(vocab.specs)}, "min": money, "max": money}, ["name"]
        )
        props["specs"] = {"type": "array", "items": spec, "maxItems": 3}
    props |= {
        "liked": _strings(4, 80),
        "disliked": _strings(3, 80),
        "refs": _strings(4, 32),
        "attribute": {"type": "string", "minLength": 1, "maxLength": 32},
        "compare": _object(
            {
                "attribute": {"type": "string", "minLength": 1, "maxLength": 32},
                "direction": {"enum": ["max", "min"]},
            },
            ["attribute", "direction"],
        ),
        "mode": {"enum": ["add", "replace"]},
    }
    return _object(props, ["intent"])


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    """A shown title as the prompt names it: cut at a word before ``limit`` characters."""
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(" -,:/|")


def prompt_context(catalog: str, request: Sequence[str], shown: Sequence[str]) -> str:
    """``context_text`` with the shown titles cut short (the prompt's length is latency)."""
    return context_text(catalog, request, [short_title(t) for t in shown])


@cache
def few_shot(catalog: str) -> tuple[tuple[str, str, str], ...]:
    """Zero-shot examples: the first short written training turn of ``catalog`` for each of
    ``EXAMPLE_INTENTS``, as (context, message, act)."""
    from chatrec.datasets import data_dir

    lines = (data_dir() / "understanding" / "train_a.jsonl").read_text().splitlines()
    turns = [json.loads(line) for line in lines if line.strip()]
    out = []
    for intent in EXAMPLE_INTENTS:
        for t in turns:
            ctx = t.get("context", {})
            ok = t["catalog"] == catalog and t["act"]["intent"] == intent
            if ok and len(t["message"]) <= 60 and len(ctx.get("shown", [])) <= 3:
                context = prompt_context(catalog, ctx.get("request", []), ctx.get("shown", []))
                act = DialogueAct.model_validate(t["act"]).to_text()
                out.append((context, t["message"], act))
                break
    return tuple(out)


def render_prompt(
    catalog: str,
    request: Sequence[str],
    shown: Sequence[str],
    message: str,
    examples: Sequence[tuple[str, str, str]] = (),
) -> list[dict[str, str]]:
    """The parser's chat messages (system, user) for one turn."""
    from chatrec.prompts import render_messages

    ctx = prompt_context(catalog, request, shown)
    return render_messages("parse_act", examples=examples, context=ctx, message=message)


class GptParser:
    """``Parser`` over a causal LM (with its LoRA adapter merged, or zero-shot with examples);
    ``readers`` give each catalog's rule reader for the normalisers."""

    name = "gpt"

    def __init__(self, model: Any, tokenizer: Any, readers: dict[str, Any], examples: bool):
        self.model, self.tokenizer, self.readers = model, tokenizer, readers
        self.examples = examples
        self._grammars: dict[str, Any] = {}
        self.info: Any = None  # xgrammar's TokenizerInfo, built on first use
        self._lock = threading.Lock()
        self._cached: list[int] = []  # the tokens the KV cache holds
        self._cache: Any = None

    @classmethod
    def load(cls, adapter: Path | None, readers: dict[str, Any], runtime: Any = None) -> GptParser:
        """The packaged SmolLM2-135M-Instruct with ``adapter`` merged (None: zero-shot)."""
        from chatrec.config import GeneratorConfig
        from chatrec.generate import TransformersGenerator

        cfg = GeneratorConfig(adapter=str(adapter) if adapter else None)
        gen = TransformersGenerator.from_config(cfg, runtime)
        return cls(gen.model, gen.tokenizer, readers, examples=adapter is None)

    def grammar(self, catalog: str) -> Any:
        """The catalog's compiled act grammar (compiled once, a few milliseconds)."""
        if catalog not in self._grammars:
            self.info = self.info or tokenizer_info(self.tokenizer)
            self._grammars[catalog] = compile_grammar(self.info, vocabulary(catalog))
        return self._grammars[catalog]

    def prompt_ids(
        self, catalog: str, request: Sequence[str], shown: Sequence[str], message: str
    ) -> list[int]:
        examples = few_shot(catalog) if self.examples else ()
        messages = render_prompt(catalog, request, shown, message, examples)
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def write(
        self, catalog: str, request: Sequence[str], shown: Sequence[str], message: str
    ) -> str:
        """The act's compact JSON as the model writes it under the catalog's grammar."""
        ids = self.prompt_ids(catalog, request, shown, message)
        with self._lock:
            tokens = self._decode(ids, self.grammar(catalog))
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def parse(
        self, catalog: str, request: Sequence[str], shown: Sequence[str], message: str
    ) -> DialogueAct:
        text = self.write(catalog, request, shown, message)
        return finish(text, catalog, shown, message, self.readers.get(catalog), request)

    def _forward(self, ids: list[int]) -> Any:
        """Logits (V,) after ``ids``, a continuation of what the KV cache holds or a new
        prompt: the longest prefix it shares with the cached tokens is not recomputed."""
        import torch

        n = 0
        limit = min(len(self._cached), len(ids) - 1)  # keep >= 1 token to run
        while n < limit and self._cached[n] == ids[n]:
            n += 1
        cache = self._cache if n > 0 else None
        if cache is not None and cache.get_seq_length() > n:
            cache.crop(n - cache.get_seq_length())  # negative: the tokens to drop
        self._cache = None  # a failed pass leaves no half-extended cache behind
        with torch.inference_mode():
            out = self.model.get_decoder()(
                input_ids=torch.tensor([ids[n:]], device=self.model.device),
                past_key_values=cache,
                use_cache=True,
            )
            # The head on the last position alone, as one contiguous vector: a slice of a
            # several-token pass sent through the model's own head made torch copy the whole
            # (V, C) weight (140 ms a pass on a CPU).
            last = out.last_hidden_state[0, -1].contiguous()  # (C,)
            logits = self.model.get_output_embeddings()(last)  # (V,)
        self._cache, self._cached = out.past_key_values, list(ids)
        return logits.float()

    def _decode(self, prompt: list[int], grammar: Any) -> list[int]:
        """Greedy tokens under ``grammar``; forced tokens are fed without a decoding step."""
        import xgrammar as xgr

        matcher = xgr.GrammarMatcher(grammar)
        mask = xgr.allocate_token_bitmask(1, grammar.tokenizer_info.vocab_size)
        out = _forced(matcher)
        logits = self._forward(prompt + out)
        while len(out) < MAX_NEW_TOKENS and not matcher.is_completed():
            matcher.fill_next_token_bitmask(mask)
            xgr.apply_token_bitmask_inplace(logits[None], mask)
            token = int(logits.argmax())
            if not matcher.accept_token(token) or matcher.is_terminated():
                break  # a stop token: the act is complete
            step = [token, *_forced(matcher)]
            out += step
            if matcher.is_completed():
                break
            logits = self._forward(prompt + out)
        return out


def _forced(matcher: Any) -> list[int]:
    """The tokens the grammar forces next (accepted into ``matcher``)."""
    tokens = matcher.find_jump_forward_tokens()
    for t in tokens:
        matcher.accept_token(t)
    return list(tokens)


def tokenizer_info(tokenizer: Any) -> Any:
    """xgrammar's view of a Hugging Face tokenizer (its vocabulary as bytes, its stop tokens)."""
    import xgrammar as xgr

    return xgr.TokenizerInfo.from_huggingface(tokenizer)


def compile_grammar(info: Any, vocab: Vocabulary) -> Any:
    """xgrammar's compiled grammar of ``act_schema(vocab)``: compact JSON, no free spaces."""
    import xgrammar as xgr

    return xgr.GrammarCompiler(info).compile_json_schema(
        json.dumps(act_schema(vocab)), any_whitespace=False, separators=(",", ":")
    )


def finish(
    text: str,
    catalog: str,
    shown: Sequence[str],
    message: str,
    reader: Any,
    request: Sequence[str] | None = None,
) -> DialogueAct:
    """The act from the model's JSON through the shared normalisers. The grammar admits only
    acts of the catalog; what it cannot rule out (years out of order, a cut-off act) falls
    back to the intent alone, so a valid act always comes out."""
    from chatrec.understand.normalise import finish_act

    try:
        act = json.loads(text)
    except ValueError:  # cut off at MAX_NEW_TOKENS: keep the intent, always written first
        head = text.split('"intent":"', 1)[-1].split('"', 1)[0]
        act = {"intent": head if head in INTENTS else "chit_chat"}
    lo, hi = act.get("year_min"), act.get("year_max")
    if lo is not None and hi is not None and lo > hi:
        act["year_min"], act["year_max"] = hi, lo
    try:
        return finish_act(act, catalog, shown, message, reader, request)
    except ValueError:
        return finish_act({"intent": act["intent"]}, catalog, shown, message, reader, request)
