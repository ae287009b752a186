"""Labelled turns (``data/understanding/GUIDE.md``): reading them and checking every label
against its catalog's vocabulary, for the training sets and the held-out sets alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatrec.act import DialogueAct
from chatrec.understand import vocabulary


class Context(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: list[str] = []
    shown: list[str] = Field(default=[], max_length=10)


class LabelledTurn(BaseModel):
    """One user turn in its context, with the act it means."""

    model_config = ConfigDict(extra="forbid")

    id: str
    catalog: str
    context: Context = Context()
    message: str = Field(min_length=1, max_length=2000)
    act: DialogueAct


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def read(path: Path) -> Iterator[tuple[int, LabelledTurn | Problem]]:
    """Each line's turn, or the problem that makes it unusable (schema or vocabulary)."""
    ids: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                turn = LabelledTurn.model_validate(json.loads(line))
            except (ValueError, ValidationError) as err:
                yield n, Problem(path, n, _short(err))
                continue
            problems = _check(turn)
            if turn.id in ids:
                problems.append(f"duplicate id {turn.id!r}")
            ids.add(turn.id)
            yield n, Problem(path, n, "; ".join(problems)) if problems else turn


def load(path: Path) -> list[LabelledTurn]:
    """Every turn of ``path``; raises ValueError listing the first problems."""
    turns, problems = [], []
    for _, x in read(path):
        (problems if isinstance(x, Problem) else turns).append(x)
    if problems:
        shown = "\n".join(str(p) for p in problems[:20])
        raise ValueError(f"{len(problems)} bad labelled turn(s):\n{shown}")
    return turns


def _check(turn: LabelledTurn) -> list[str]:
    if turn.catalog not in ("movies", "store"):
        return [f"unknown catalog {turn.catalog!r}"]
    vocab = vocabulary(turn.catalog)
    out = vocab.problems(turn.act)
    out += [f"shown title {t!r}" for t in turn.context.shown if t not in vocab.titles]
    for ref in turn.act.refs:
        if ref.isdigit() and int(ref) > len(turn.context.shown):
            out.append(f"ref {ref} but {len(turn.context.shown)} shown")
    if turn.act.intent == "refine" and not turn.context.request:
        out.append("a refine with no request in force")
    return out


def _short(err: Exception) -> str:
    if isinstance(err, ValidationError):
        e = err.errors()[0]
        return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
    return str(err)
