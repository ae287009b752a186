"""Generators: the language model behind reranking and explanations, in process or over HTTP.

Both backends take plain prompt strings (already rendered with the model's chat template by
``chat_prompt``) and offer the three things the pipeline needs:

- ``generate(prompts)``: greedy completions for a batch of prompts;
- ``stream(prompt)``: the same, piece by piece, for the UI;
- ``choice_logprobs(prompt, choices)``: log-probabilities of single-token choices (" A", " B",
  ...) as the next token, from ONE forward pass: the verbalizer reranker reads these.

``TransformersGenerator`` runs a causal LM (the packaged SmolLM2-135M-Instruct by default, an
optional LoRA adapter) in this process. ``OpenAIGenerator`` talks to an OpenAI-compatible
``/v1/completions`` endpoint, such as vLLM serving the base model with the adapter.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from chatrec.config import GeneratorConfig, RuntimeConfig


class Generator(Protocol):
    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str: ...

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 96) -> list[str]: ...

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]: ...

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray: ...


class TransformersGenerator:
    """A causal LM in this process; greedy decoding, left padding for batches."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model = model
        self.tokenizer = tokenizer
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
        if cfg.adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, cfg.adapter).eval()
        return cls(model, tokenizer)

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

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 96) -> list[str]:
        import torch

        if not prompts:
            return []
        enc = self._encode(prompts)
        with torch.inference_mode():
            out = self.model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]  # (B, T_new)
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        enc = self._encode([prompt])
        kwargs = dict(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            streamer=streamer,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        worker = threading.Thread(target=self.model.generate, kwargs=kwargs, daemon=True)
        worker.start()
        yield from (piece for piece in streamer if piece)
        worker.join()

    def choice_token_ids(self, choices: Sequence[str]) -> list[int]:
        ids = []
        for c in choices:
            toks = self.tokenizer.encode(c, add_special_tokens=False)
            if len(toks) != 1:
                raise ValueError(f"choice {c!r} is {len(toks)} tokens; choices must be one token")
            ids.append(toks[0])
        return ids

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray:
        """(len(choices),) log-probabilities of each choice as the next token; one forward pass."""
        import torch

        ids = self.choice_token_ids(choices)
        enc = self._encode([prompt])
        with torch.inference_mode():
            logits = self.model(**enc).logits[0, -1]  # (V,)
        logp = torch.log_softmax(logits.float(), dim=-1)
        return logp[ids].cpu().numpy()


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

    def generate(self, prompts: Sequence[str], max_new_tokens: int = 96) -> list[str]:
        if not prompts:
            return []
        data = self._post({"prompt": list(prompts), "max_tokens": max_new_tokens, "temperature": 0})
        by_index = sorted(data["choices"], key=lambda c: c.get("index", 0))
        return [c["text"].strip() for c in by_index]

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        body = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": True,
        }
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

    def choice_logprobs(self, prompt: str, choices: Sequence[str]) -> np.ndarray:
        """From the server's top log-probabilities of the first token; absent choices get -inf."""
        data = self._post(
            {"prompt": prompt, "max_tokens": 1, "temperature": 0, "logprobs": len(choices) + 5}
        )
        top = data["choices"][0]["logprobs"]["top_logprobs"][0]  # {token: logprob}
        return np.array([top.get(c, -np.inf) for c in choices], dtype=np.float64)
