"""Conversational test set: hand-written cases, replayed turn by turn, scored by constraints.

Input: a JSONL file of cases (``data/eval/movies_conversations.jsonl`` by default), one JSON
object a line::

    {"id": "cold-westerns", "kind": "cold_start" | "refine",
     "turns": ["first message", "second message", ...],
     "expect": {"genres_all": [...], "genres_any": [...], "genres_none": [...],
                "year_min": 1980, "year_max": 1989}}

Every ``expect`` key is optional; the expectation applies to the items of the reply to the
LAST turn. Output of ``run_cases``: constraint-satisfaction precision@k over the cases (the
share of the first k shown items that satisfy the case's expectation; an empty or short reply
counts its missing slots as misses), overall and by kind, plus the worst cases for reading.

The cases are written by hand and are kept apart from everything used in training (see
``data/eval/README.md``): they are never read by ``chatrec.train``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from chatrec.catalog import Item
from chatrec.datasets import data_dir

KINDS = ("cold_start", "refine")
EXPECT_KEYS = ("genres_all", "genres_any", "genres_none", "year_min", "year_max")
MAX_FAILURES = 10


class ConvCaseError(ValueError):
    """A malformed case file; the message names the file and the 1-based line."""


@dataclass(frozen=True)
class ConvCase:
    """One conversation: the messages a person sends and what the last reply must satisfy."""

    id: str
    kind: str  # "cold_start" | "refine"
    turns: tuple[str, ...]
    expect: Mapping[str, Any] = field(default_factory=dict)


class _Shown(Protocol):
    item_id: str
    title: str


class _Reply(Protocol):
    @property
    def items(self) -> Sequence[_Shown]: ...


class _Catalog(Protocol):
    def get(self, item_id: str) -> Item: ...

    def __contains__(self, item_id: object) -> bool: ...


class ChatLike(Protocol):
    """What ``run_cases`` needs of a recommender (``ChatRecommender`` fits)."""

    @property
    def catalog(self) -> _Catalog: ...

    def chat(
        self, message: object, session_id: str | None = None, k: int | None = None
    ) -> _Reply: ...


def default_cases_path() -> Path:
    """The shipped movie conversations: ``data/eval/movies_conversations.jsonl``."""
    return data_dir() / "eval" / "movies_conversations.jsonl"


def _str_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"expect.{key} must be a list of non-empty strings")
    return value


def _parse_expect(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError("'expect' must be an object")
    unknown = sorted(set(raw) - set(EXPECT_KEYS))
    if unknown:
        raise ValueError(f"unknown expect key(s) {unknown}; allowed: {list(EXPECT_KEYS)}")
    out: dict[str, Any] = {}
    for key in ("genres_all", "genres_any", "genres_none"):
        if key in raw:
            out[key] = tuple(_str_list(raw[key], key))
    for key in ("year_min", "year_max"):
        value = raw.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expect.{key} must be an integer or null")
        out[key] = value
    lo, hi = out.get("year_min"), out.get("year_max")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"expect.year_min {lo} is after year_max {hi}")
    clash = set(out.get("genres_none", ())) & (
        set(out.get("genres_all", ())) | set(out.get("genres_any", ()))
    )
    if clash:
        raise ValueError(f"genres both wanted and excluded: {sorted(clash)}")
    if not out:
        raise ValueError("'expect' states nothing to check")
    return out


def _parse_case(raw: Any) -> ConvCase:
    if not isinstance(raw, dict):
        raise ValueError("a case must be a JSON object")
    missing = [k for k in ("id", "kind", "turns", "expect") if k not in raw]
    if missing:
        raise ValueError(f"missing key(s) {missing}")
    extra = sorted(set(raw) - {"id", "kind", "turns", "expect"})
    if extra:
        raise ValueError(f"unknown key(s) {extra}")
    case_id, kind, turns = raw["id"], raw["kind"], raw["turns"]
    if not isinstance(case_id, str) or not case_id.strip():
        raise ValueError("'id' must be a non-empty string")
    if kind not in KINDS:
        raise ValueError(f"'kind' must be one of {list(KINDS)}, not {kind!r}")
    if not isinstance(turns, list) or not turns:
        raise ValueError("'turns' must be a non-empty list of messages")
    if not all(isinstance(t, str) and t.strip() for t in turns):
        raise ValueError("every turn must be a non-empty string")
    if kind == "refine" and len(turns) < 2:
        raise ValueError("a 'refine' case needs at least two turns")
    return ConvCase(case_id, kind, tuple(turns), _parse_expect(raw["expect"]))


def load_cases(path: Path) -> list[ConvCase]:
    """Read and validate a JSONL case file (blank lines are skipped).

    Args:
        path: the JSONL file.

    Returns:
        The cases in file order.

    Raises:
        ConvCaseError: a row is not valid JSON or not a valid case, or an id repeats; the
            message is ``file:line: reason``.
        OSError: the file cannot be read.
    """
    path = Path(path)
    cases: list[ConvCase] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                case = _parse_case(json.loads(line))
            except json.JSONDecodeError as e:
                raise ConvCaseError(f"{path}:{n}: not valid JSON: {e.msg}") from e
            except ValueError as e:
                raise ConvCaseError(f"{path}:{n}: {e}") from e
            if case.id in seen:
                raise ConvCaseError(
                    f"{path}:{n}: duplicate id {case.id!r} (first on line {seen[case.id]})"
                )
            seen[case.id] = n
            cases.append(case)
    return cases


def satisfies(item: Item, expect: Mapping[str, Any]) -> bool:
    """Whether one catalog item meets a case's expectation.

    Args:
        item: the catalog item (its ``categories`` are the genres, ``year`` the release year).
        expect: ``genres_all`` (has every one), ``genres_any`` (has at least one),
            ``genres_none`` (has none), ``year_min`` / ``year_max`` (inclusive; an item without
            a year fails a year bound). Missing or null keys are not checked.

    Returns:
        True when every stated condition holds.
    """
    genres = set(item.categories)
    if not set(expect.get("genres_all") or ()) <= genres:
        return False
    wanted_any = set(expect.get("genres_any") or ())
    if wanted_any and not wanted_any & genres:
        return False
    if set(expect.get("genres_none") or ()) & genres:
        return False
    lo, hi = expect.get("year_min"), expect.get("year_max")
    if lo is not None and (item.year is None or item.year < lo):
        return False
    return not (hi is not None and (item.year is None or item.year > hi))


def matching(items: Iterable[Item], expect: Mapping[str, Any]) -> list[Item]:
    """The items that satisfy ``expect`` (to check a case is satisfiable in a catalog)."""
    return [it for it in items if satisfies(it, expect)]


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def run_cases(
    rec: ChatLike, cases: Sequence[ConvCase], k: int = 5, progress: bool = False
) -> dict[str, Any]:
    """Replay every case in a fresh session and score the last reply's first ``k`` items.

    Args:
        rec: the recommender (``ChatRecommender``); each turn goes through
            ``rec.chat(message, session_id=..., k=k)``, one new session id per case.
        cases: from ``load_cases``.
        k: slots scored per case; items the reply lacks count as misses.
        progress: show a progress bar on stderr.

    Returns:
        ``{"cases": n, "k": k, "precision@5": mean, "by_kind": {kind: mean or None},
        "failed": count of cases below 1.0, "failures": [...]}``; the precision key is named
        after ``k``. ``failures`` lists up to 10 cases below 1.0, worst first, each with
        ``id``, ``kind``, ``turns``, ``expect``, ``titles`` (the last reply's first k),
        ``hits`` (one bool per title), ``precision`` and ``intent`` (when the reply has one).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    scores: list[float] = []
    by_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    missed: list[tuple[float, int, dict[str, Any]]] = []
    for n, case in enumerate(tqdm(cases, desc="conversations", disable=not progress)):
        session = f"convtest-{case.id}-{uuid.uuid4().hex[:8]}"
        reply: _Reply | None = None
        for message in case.turns:
            reply = rec.chat(message, session_id=session, k=k)
        shown = list(reply.items)[:k] if reply is not None else []
        hits = [
            r.item_id in rec.catalog and satisfies(rec.catalog.get(r.item_id), case.expect)
            for r in shown
        ]
        precision = sum(hits) / k
        scores.append(precision)
        by_kind.setdefault(case.kind, []).append(precision)
        if precision < 1.0:
            failure: dict[str, Any] = {
                "id": case.id,
                "kind": case.kind,
                "turns": list(case.turns),
                "expect": dict(case.expect),
                "titles": [r.title for r in shown],
                "hits": hits,
                "precision": round(precision, 4),
            }
            intent = getattr(reply, "intent", None)
            if intent is not None:
                failure["intent"] = intent
            missed.append((precision, n, failure))
    missed.sort(key=lambda m: (m[0], m[1]))
    return {
        "cases": len(cases),
        "k": k,
        f"precision@{k}": _mean(scores),
        "by_kind": {kind: _mean(v) for kind, v in by_kind.items()},
        "failed": len(missed),
        "failures": [f for _, _, f in missed[:MAX_FAILURES]],
    }
