"""The eval's shared trunk: a base model and its top-block LoRA scored from one bottom pass.

Tiny random Llama models (the packaged tokenizer, 4 blocks) stand in for SmolLM2: what is
checked is that the shared pass gives each model exactly what its own forward gives.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from chatrec.config import RuntimeConfig
from chatrec.generate import SharedTrunk, TransformersGenerator, shared_depth

from .conftest import tiny_llama

LETTERS = list("ABCDEFGH")
PROMPTS = [
    "<|im_start|>user\nThey liked: Toy Story (1995)\nItems:\nA. Heat\nB. Fargo<|im_end|>\n"
    "<|im_start|>assistant\n",
    "<|im_start|>user\nA short one<|im_end|>\n<|im_start|>assistant\n",
]


@pytest.fixture(scope="module")
def pair() -> tuple[TransformersGenerator, TransformersGenerator]:
    import torch

    model, tok = tiny_llama(4)
    base = model.eval()
    tuned = copy.deepcopy(base)
    with torch.no_grad():  # a "LoRA" on the top 2 blocks: only they change
        for layer in tuned.model.layers[2:]:
            for p in layer.parameters():
                p.add_(0.5 * torch.randn_like(p))
    # Each generator sets its tokenizer's padding; a copy keeps them apart.
    return TransformersGenerator(base, tok), TransformersGenerator(tuned, copy.deepcopy(tok))


def test_the_depth_is_the_blocks_left_as_the_base(pair: tuple) -> None:
    import torch

    base, tuned = pair
    assert shared_depth(base, tuned) == 2
    assert shared_depth(base, base) == 4
    other = copy.deepcopy(tuned.model)
    with torch.no_grad():
        other.model.embed_tokens.weight.add_(1.0)
    assert shared_depth(base, TransformersGenerator(other, tuned.tokenizer)) == 0


@pytest.mark.parametrize("prompt", PROMPTS)
def test_each_model_gets_what_its_own_forward_gives(pair: tuple, prompt: str) -> None:
    base, tuned = pair
    trunk = SharedTrunk([base, tuned])
    together = trunk.choice_logprobs(prompt, LETTERS)
    for alone, got in zip(pair, together, strict=True):
        alone.__dict__.pop("_prefix_cache", None)  # a fresh forward, no cached prefix
        want = alone.choice_logprobs(prompt, LETTERS)
        np.testing.assert_allclose(got, want, atol=1e-5)
    # The two models really differ on top, so the test could tell them apart.
    assert np.abs(together[0] - together[1]).max() > 1e-3
    assert len(trunk.last_seconds) == 2 and all(s > 0 for s in trunk.last_seconds)


def test_models_sharing_nothing_are_refused(pair: tuple) -> None:
    import torch

    base, tuned = pair
    other = copy.deepcopy(base.model)
    with torch.no_grad():
        other.model.layers[0].mlp.up_proj.weight.add_(1.0)
    with pytest.raises(ValueError, match="share no"):
        SharedTrunk([base, TransformersGenerator(other, tuned.tokenizer)])


@pytest.mark.integration
def test_the_shipped_lora_scored_on_the_shared_trunk_matches_its_own_forward() -> None:
    """The real SmolLM2 (bfloat16 where the CPU has it) and the shipped movie adapter: the
    eval's shared pass ranks the letters as the merged LoRA model alone does."""
    from chatrec.config import GeneratorConfig
    from chatrec.train.reranker import ADAPTER_DIR

    runtime = RuntimeConfig(device="cpu")
    zs = TransformersGenerator.from_config(GeneratorConfig(), runtime)
    lora = TransformersGenerator.from_config(GeneratorConfig(adapter=str(ADAPTER_DIR)), runtime)
    trunk = SharedTrunk([zs, lora])
    assert trunk.depth == 20  # the adapter covers the top 10 of 30 blocks
    prompt = lora.chat_prompt(
        [
            {"role": "system", "content": "You are a recommender."},
            {
                "role": "user",
                "content": "They liked: Heat (1995); Fargo (1996)\nItems:\nA. Casino (1995)\n"
                "B. Babe (1995)\nC. Se7en (1995)\nD. Jumanji (1995)\nWhich item fits best? "
                "Answer with its letter only.",
            },
        ]
    )
    got = trunk.choice_logprobs(prompt, list("ABCD"))
    for gen, lp in zip((zs, lora), got, strict=True):
        want = gen.choice_logprobs(prompt, list("ABCD"))
        assert np.argsort(-lp).tolist() == np.argsort(-want).tolist()
        np.testing.assert_allclose(lp, want, atol=0.1)  # bfloat16 sums in another order


def test_views_read_one_shared_pass_per_prompt(pair: tuple) -> None:
    """The eval's GPT rows: each view scores like its own model, and a prompt one view has
    scored costs the other nothing more."""
    trunk = SharedTrunk(list(pair))
    zs, lora = trunk.view(0), trunk.view(1)
    for prompt in PROMPTS:
        got_zs = zs.choice_logprobs(prompt, LETTERS)
        calls = len(trunk.memo)
        got_lora = lora.choice_logprobs(prompt, LETTERS)
        assert len(trunk.memo) == calls  # read from the memo, no second pass
        for gen, got in zip(pair, (got_zs, got_lora), strict=True):
            gen.__dict__.pop("_prefix_cache", None)
            np.testing.assert_allclose(got, gen.choice_logprobs(prompt, LETTERS), atol=1e-5)
        assert zs.last_seconds > 0 and lora.last_seconds > 0
    assert len(trunk.memo) == len(PROMPTS)
    hi = [{"role": "user", "content": "hi"}]
    assert lora.chat_prompt(hi) == pair[1].chat_prompt(hi)
