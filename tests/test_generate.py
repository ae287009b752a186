"""Both generator backends: the HTTP one against a small fake server on 127.0.0.1, the
in-process one on the real packaged SmolLM2."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import numpy as np
import pytest

from chatrec.generate import OpenAIGenerator, TransformersGenerator


class _FakeCompletions(BaseHTTPRequestHandler):
    """Answers /v1/completions like vLLM: text = 'ok:' + the prompt's last word."""

    seen: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(body)
        if self.path != "/v1/completions":
            self.send_error(404)
            return
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ["ok", ":", prompts[0].split()[-1]]:
                chunk = {"choices": [{"index": 0, "text": piece}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        if body.get("logprobs"):
            top = {" A": -0.2, " B": -1.9, " C": -3.0}
            choices = [{"index": 0, "text": " A", "logprobs": {"top_logprobs": [top]}}]
        else:
            choices = [
                {"index": i, "text": f" ok:{p.split()[-1]} "}
                for i, p in reversed(list(enumerate(prompts)))
            ]
        data = json.dumps({"choices": choices}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_backend_generate_stream_and_choice_logprobs(fake_server: str) -> None:
    gen = OpenAIGenerator(fake_server, model="smollm2-lora", api_key="k")
    assert gen.generate(["pick one apple", "pick one pear"], max_new_tokens=5) == [
        "ok:apple",
        "ok:pear",
    ]  # choices come back by index, not in arrival order
    assert "".join(gen.stream("say banana")) == "ok:banana"
    lp = gen.choice_logprobs("which?", [" A", " B", " Z"])
    assert lp[0] == -0.2 and lp[1] == -1.9 and lp[2] == -np.inf
    body = _FakeCompletions.seen[-1]
    assert body["model"] == "smollm2-lora" and body["max_tokens"] == 1 and body["logprobs"] >= 3
    assert gen.chat_prompt([{"role": "user", "content": "hi"}]).endswith("assistant:")


def test_http_backend_reports_server_errors(fake_server: str) -> None:
    import httpx

    gen = OpenAIGenerator(fake_server + "/wrong", model="m")
    with pytest.raises(httpx.HTTPStatusError):
        gen.generate(["x"])


@pytest.fixture(scope="module")
def smollm() -> TransformersGenerator:
    from chatrec.config import GeneratorConfig, RuntimeConfig

    # float32: these tests compare computations that must agree exactly (int8 activations are
    # quantized per batch, so a batch or a cached prefix changes the rounding).
    cfg = GeneratorConfig(quantize="none")
    return TransformersGenerator.from_config(cfg, RuntimeConfig(device="cpu"))


@pytest.mark.integration
def test_batched_generation_equals_one_by_one(smollm: TransformersGenerator) -> None:
    prompts = [
        smollm.chat_prompt([{"role": "user", "content": "Name a fruit."}]),
        smollm.chat_prompt([{"role": "user", "content": "What is 2 plus 2? Answer briefly."}]),
    ]
    batch = smollm.generate(prompts, max_new_tokens=10)
    assert batch == [smollm.generate([p], max_new_tokens=10)[0] for p in prompts]
    assert all(batch)
    assert "".join(smollm.stream(prompts[1], max_new_tokens=10)).strip() == batch[1]


@pytest.mark.integration
def test_choice_logprobs_agree_with_greedy_decoding(smollm: TransformersGenerator) -> None:
    prompt = smollm.chat_prompt(
        [{"role": "user", "content": "Reply with one letter, A or B: which letter comes first?"}]
    )
    enc = smollm._encode([prompt])
    first = smollm.model.generate(**enc, max_new_tokens=1, do_sample=False)[0, -1].item()
    greedy = smollm.tokenizer.decode([first])
    choices = [greedy, *[c for c in ["A", "B", " A", " B"] if c != greedy]]
    lp = smollm.choice_logprobs(prompt, choices)
    assert int(np.argmax(lp)) == 0 and (lp <= 0).all() and np.exp(lp).sum() <= 1 + 1e-5
    with pytest.raises(ValueError, match="one token"):
        smollm.choice_logprobs(prompt, ["two words"])


@pytest.mark.integration
def test_number_guard_keeps_digits_to_the_allowed_numbers(smollm: TransformersGenerator) -> None:
    import re

    prompts = [
        smollm.chat_prompt(
            [{"role": "user", "content": "What is 12 times 12? Reply with digits."}]
        ),
        smollm.chat_prompt([{"role": "user", "content": "List three years from the 1990s."}]),
    ]
    free = smollm.generate(prompts, max_new_tokens=16)
    assert any(re.search(r"\d", t) for t in free)  # unguarded, the model writes numbers
    allowed = [{"7"}, {"1994", "3.5"}]
    guarded = smollm.generate(prompts, max_new_tokens=16, allowed_numbers=allowed)
    for text, ok in zip(guarded, allowed, strict=True):
        written = re.findall(r"\d(?:[\d,]*\d)?(?:\.\d+)?", text)
        assert set(written) <= ok, (text, ok)
    pieces = list(smollm.stream_batch(prompts, max_new_tokens=16, allowed_numbers=allowed))
    joined = ["".join(p for r, p in pieces if r == row).strip() for row in range(2)]
    assert joined == guarded  # streaming a batch gives the same texts as generating it


@pytest.mark.integration
def test_number_guard_only_lets_prices_follow_a_dollar_sign(smollm: TransformersGenerator) -> None:
    prompt = smollm.chat_prompt(
        [{"role": "user", "content": 'A 50" TV costs $349.99. Say: "It costs $" and the price.'}]
    )
    text = smollm.generate([prompt], 24, allowed_numbers=[{"50", "$349.99"}])[0]
    assert re.findall(r"\$\s?([\d,.]*\d)", text) in ([], ["349.99"]), text


@pytest.mark.integration
def test_number_guard_lets_each_price_be_said_once(smollm: TransformersGenerator) -> None:
    prompt = smollm.chat_prompt(
        [{"role": "user", "content": "Repeat exactly: It costs $89.99, yes $89.99, only $89.99."}]
    )
    free = smollm.generate([prompt], 32)[0]
    assert free.count("$89.99") >= 2, free  # unguarded, the model repeats the price
    text = smollm.generate([prompt], 32, allowed_numbers=[{"$89.99"}])[0]
    assert re.findall(r"\$\s?([\d,.]*\d)", text) == ["89.99"], text


@pytest.mark.integration
def test_one_sentence_stops_each_row_at_its_first_sentence(smollm: TransformersGenerator) -> None:
    prompts = [
        smollm.chat_prompt([{"role": "user", "content": "Describe Paris in three sentences."}]),
        smollm.chat_prompt([{"role": "user", "content": "Describe a cat in three sentences."}]),
    ]
    full = smollm.generate(prompts, max_new_tokens=60)
    short = smollm.generate(prompts, max_new_tokens=60, one_sentence=True)
    for a, b in zip(full, short, strict=True):
        assert a.startswith(b), (a, b)
        assert b.rstrip()[-1] in ".!?" and b.count(". ") == 0
    assert sum(map(len, short)) < sum(map(len, full))  # a row that went on was stopped


@pytest.mark.integration
def test_default_generator_runs_bf16_where_the_cpu_has_it_and_still_answers() -> None:
    import torch

    from chatrec.config import GeneratorConfig, RuntimeConfig
    from chatrec.generate import cpu_has_bf16

    gen = TransformersGenerator.from_config(GeneratorConfig(), RuntimeConfig(device="cpu"))
    want = torch.bfloat16 if cpu_has_bf16() else torch.float32
    assert next(gen.model.parameters()).dtype == want
    prompt = gen.chat_prompt([{"role": "user", "content": "What is the capital of France?"}])
    assert "Paris" in gen.generate([prompt], max_new_tokens=12)[0]
    text = gen.generate([prompt], 16, allowed_numbers=[{"1789"}])[0]
    assert set(re.findall(r"\d+", text)) <= {"1789"}
    lp = gen.choice_logprobs(prompt, ["A", "B"])
    assert lp.dtype.kind == "f" and (lp <= 0).all()


@pytest.mark.integration
def test_a_sampled_stream_is_seeded_and_differs_from_greedy(smollm: TransformersGenerator) -> None:
    prompt = smollm.chat_prompt([{"role": "user", "content": "Describe a rainy day in a city."}])

    def text(seed: int | None) -> str:
        return "".join(p for _, p in smollm.stream_batch([prompt, prompt], 24, seed=seed))

    greedy, first, again, other = text(None), text(1), text(1), text(2)
    assert first == again  # one seed, one text: a second try can be replayed
    assert len({greedy, first, other}) == 3  # sampling writes something else than greedy
    assert all(re.search(r"[a-z]{3}", t) for t in (first, other))  # words, not noise


@pytest.mark.integration
def test_decoding_runs_in_the_callers_thread(smollm: TransformersGenerator) -> None:
    """No helper thread decodes: one would slow every step (``stream_batch``)."""
    import threading

    prompt = smollm.chat_prompt([{"role": "user", "content": "Name a colour."}])
    before = threading.active_count()
    seen = {threading.active_count() for _ in smollm.stream_batch([prompt], 8)}
    assert seen == {before}


@pytest.mark.integration
def test_one_batch_mixes_greedy_and_sampled_rows(smollm: TransformersGenerator) -> None:
    prompt = smollm.chat_prompt([{"role": "user", "content": "Describe a rainy day in a city."}])

    def rows(seed: object) -> list[str]:
        out = ["", ""]
        for row, piece in smollm.stream_batch([prompt, prompt], 24, seed=seed):  # type: ignore[arg-type]
            out[row] += piece
        return out

    greedy = rows(None)[0]
    mixed = rows([None, 5])
    assert mixed[0] == greedy  # the greedy row is as it is alone
    assert mixed[1] != greedy and mixed == rows([None, 5])  # the sampled one, from its seed
    with pytest.raises(ValueError, match="2 prompts"):
        list(smollm.stream_batch([prompt, prompt], 8, seed=[None]))


@pytest.mark.integration
def test_word_guard_keeps_every_word_to_the_allowed_words(smollm: TransformersGenerator) -> None:
    prompt = smollm.chat_prompt(
        [{"role": "user", "content": "Describe a sunny beach holiday in one sentence."}]
    )
    free = "".join(p for _, p in smollm.stream_batch([prompt], 24, one_sentence=True))
    assert "beach" in free.lower() or "sun" in free.lower(), free  # unguarded, it says them
    allowed = {"a", "the", "is", "it", "film", "comedy", "from", "rated", "and", "of", "with"}
    text = "".join(
        p for _, p in smollm.stream_batch([prompt], 24, one_sentence=True, allowed_words=[allowed])
    )
    said = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
    if re.search(r"[^\W\d_]$", text):  # cut off by max_new_tokens inside a word
        *said, last = said
        assert any(w.startswith(last) for w in allowed), text
    assert said and set(said) <= allowed, text


@pytest.mark.integration
def test_word_guard_lets_a_word_end_only_where_it_is_allowed(smollm: TransformersGenerator) -> None:
    from chatrec.generate import WordGuard

    tok = smollm.tokenizer
    guard = WordGuard(tok, [{"rated", "the", "film"}], prompt_len=0)
    ids = {t: tok.convert_tokens_to_ids(tok.tokenize(t)) for t in ["rat", " the", " beach", "."]}
    assert guard.fits(0, "", ids["rat"][0])  # "rat" may go on to "rated"
    assert not guard.fits(0, "rat", ids["."][0])  # but "rat" is not a word of its own
    assert guard.fits(0, "rated", ids[" the"][0])
    assert not guard.fits(0, "rated", ids[" beach"][0])
    assert guard.fits(0, "film", tok.eos_token_id)  # the text may end after a whole word
    assert not guard.fits(0, "fil", tok.eos_token_id)
