"""The hand-written conversational test set: loading, scoring, and the real recommender on it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chatrec.catalog import Catalog, Item
from chatrec.config import RuntimeConfig, default_cache_dir
from chatrec.eval.convtest import (
    ConvCase,
    ConvCaseError,
    default_cases_path,
    load_cases,
    matching,
    run_cases,
    satisfies,
)
from chatrec.recommender import ChatRecommender

REPO = Path(__file__).resolve().parents[1]
GENRES = {
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
}  # fmt: skip


def _film(genres: tuple[str, ...], year: int | None, iid: str = "f") -> Item:
    return Item(id=iid, title=f"Film {iid}", categories=genres, year=year)


def _write(tmp_path: Path, rows: list[object | str]) -> Path:
    path = tmp_path / "cases.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a", "kind": "cold_start", "turns": ["a comedy"], "expect": {"genres_all": ["X"]}}


# --- satisfies ----------------------------------------------------------------------------


def test_satisfies_checks_every_stated_condition() -> None:
    romcom_94 = _film(("Comedy", "Romance"), 1994)
    assert satisfies(romcom_94, {"genres_all": ["Comedy", "Romance"]})
    assert not satisfies(romcom_94, {"genres_all": ["Comedy", "Drama"]})
    assert satisfies(romcom_94, {"genres_any": ["Drama", "Romance"]})
    assert not satisfies(romcom_94, {"genres_any": ["Drama", "Horror"]})
    assert not satisfies(romcom_94, {"genres_none": ["Romance"]})
    assert satisfies(romcom_94, {"genres_none": ["Horror"], "year_min": 1990, "year_max": 1999})
    assert satisfies(romcom_94, {"year_min": 1994, "year_max": 1994})  # bounds are inclusive
    assert not satisfies(romcom_94, {"year_max": 1993})
    assert not satisfies(romcom_94, {"year_min": 1995})
    assert satisfies(romcom_94, {"year_min": None, "year_max": None, "genres_any": []})


def test_satisfies_fails_a_year_bound_when_the_item_has_no_year() -> None:
    undated = _film(("Drama",), None)
    assert satisfies(undated, {"genres_all": ["Drama"]})
    assert not satisfies(undated, {"genres_all": ["Drama"], "year_max": 1990})


# --- load_cases ---------------------------------------------------------------------------


def test_load_cases_reads_valid_rows_and_skips_blank_lines(tmp_path: Path) -> None:
    refine = {
        "id": "b",
        "kind": "refine",
        "turns": ["a comedy", "from the 90s"],
        "expect": {"genres_all": ["Comedy"], "year_min": 1990, "year_max": None},
    }
    cases = load_cases(_write(tmp_path, [GOOD, "", refine]))
    assert [c.id for c in cases] == ["a", "b"]
    assert cases[1] == ConvCase(
        "b", "refine", ("a comedy", "from the 90s"), {"genres_all": ("Comedy",), "year_min": 1990}
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ('{"id": "x", "kind": "cold_start", "turns": ["hi"]', "not valid JSON"),
        ([1, 2], "must be a JSON object"),
        ({**GOOD, "expect": None}, "'expect' must be an object"),
        ({k: v for k, v in GOOD.items() if k != "turns"}, "missing key"),
        ({**GOOD, "kind": "chit_chat"}, "'kind' must be one of"),
        ({**GOOD, "turns": []}, "non-empty list"),
        ({**GOOD, "turns": ["ok", 3]}, "every turn"),
        ({**GOOD, "kind": "refine"}, "at least two turns"),
        ({**GOOD, "expect": {"genre": ["X"]}}, "unknown expect key"),
        ({**GOOD, "expect": {"genres_all": "Comedy"}}, "list of non-empty strings"),
        ({**GOOD, "expect": {"year_min": "1990"}}, "integer or null"),
        ({**GOOD, "expect": {"year_min": 2000, "year_max": 1990}}, "after year_max"),
        ({**GOOD, "expect": {"genres_all": ["X"], "genres_none": ["X"]}}, "wanted and excluded"),
        ({**GOOD, "expect": {}}, "nothing to check"),
        ({**GOOD, "id": "a"}, "duplicate id 'a'"),
    ],
)
def test_a_malformed_row_names_the_file_and_line(tmp_path: Path, row: object, reason: str) -> None:
    path = _write(tmp_path, [GOOD, "", row])
    with pytest.raises(ConvCaseError) as err:
        load_cases(path)
    assert str(err.value).startswith(f"{path}:3: ")
    assert reason in str(err.value)


# --- run_cases ----------------------------------------------------------------------------


@dataclass
class _Shown:
    item_id: str
    title: str


@dataclass
class _Reply:
    items: list[_Shown]
    intent: str = "recommend"


@dataclass
class _ScriptedRecommender:
    """Answers each message with the ids scripted for it; records every call."""

    catalog: Catalog
    script: dict[str, list[str]]
    calls: list[tuple[str, str | None, int | None]] = field(default_factory=list)

    def chat(self, message: object, session_id: str | None = None, k: int | None = None):
        self.calls.append((str(message), session_id, k))
        ids = self.script.get(str(message), [])
        return _Reply([_Shown(i, self.catalog.get(i).title) for i in ids])


@pytest.fixture
def films() -> Catalog:
    rows = [
        ("c90", ("Comedy",), 1995),
        ("rc90", ("Comedy", "Romance"), 1996),
        ("c70", ("Comedy",), 1975),
        ("h80", ("Horror",), 1984),
        ("hc80", ("Horror", "Comedy"), 1986),
        ("d90", ("Drama",), 1993),
    ]
    return Catalog("films", [_film(g, y, i) for i, g, y in rows])


def test_run_cases_scores_the_last_reply_of_each_fresh_session(films: Catalog) -> None:
    rec = _ScriptedRecommender(
        films,
        {
            "a comedy": ["c90", "rc90", "c70", "hc80", "d90"],
            "from the 90s": ["c90", "rc90", "d90", "c70"],  # 2 of 5 fit; a short reply
            "something scary": ["h80", "hc80", "h80", "hc80", "h80", "d90"],  # 6th not scored
        },
    )
    cases = [
        ConvCase("all-hits", "cold_start", ("something scary",), {"genres_all": ("Horror",)}),
        ConvCase(
            "short",
            "refine",
            ("a comedy", "from the 90s"),
            {"genres_all": ("Comedy",), "year_min": 1990, "year_max": 1999},
        ),
        ConvCase("nothing", "cold_start", ("a western",), {"genres_all": ("Western",)}),
    ]
    res = run_cases(rec, cases, k=5)
    assert res["cases"] == 3 and res["k"] == 5
    assert res["precision@5"] == pytest.approx((1.0 + 0.4 + 0.0) / 3, abs=1e-4)
    assert res["by_kind"] == {"cold_start": 0.5, "refine": 0.4}
    assert res["failed"] == 2
    worst, short = res["failures"]
    assert worst["id"] == "nothing" and worst["titles"] == [] and worst["precision"] == 0.0
    assert short["id"] == "short" and short["turns"] == ["a comedy", "from the 90s"]
    assert short["hits"] == [True, True, False, False] and short["precision"] == 0.4
    assert short["titles"][0] == "Film c90" and short["intent"] == "recommend"
    # Every turn of a case shares one session, each case has its own, k is passed on.
    sessions = [s for _, s, _ in rec.calls]
    assert sessions[1] == sessions[2] and len(set(sessions)) == 3
    assert all(k == 5 for _, _, k in rec.calls)


def test_run_cases_lists_at_most_ten_failures_and_counts_unknown_ids_as_misses(
    films: Catalog,
) -> None:
    rec = _ScriptedRecommender(films, {"x": ["d90"]})
    cases = [
        ConvCase(f"c{i}", "cold_start", ("x",), {"genres_all": ("Comedy",)}) for i in range(12)
    ]
    res = run_cases(rec, cases)
    assert res["failed"] == 12 and len(res["failures"]) == 10
    assert res["by_kind"]["refine"] is None

    class _Ghost(_ScriptedRecommender):
        def chat(self, message: object, session_id: str | None = None, k: int | None = None):
            return _Reply([_Shown("not-in-catalog", "Invented (1999)")] * 5)

    ghost = run_cases(_Ghost(films, {}), [ConvCase("g", "cold_start", ("x",), {"year_min": 1})])
    assert ghost["precision@5"] == 0.0


def test_run_cases_drives_a_real_chat_recommender(tiny_recommender: ChatRecommender) -> None:
    cases = [
        ConvCase("laptops", "cold_start", ("show me laptops",), {"genres_all": ("Laptops",)}),
        ConvCase(
            "cheap-laptops",
            "refine",
            ("show me laptops", "only under $800"),
            {"genres_all": ("Laptops",), "genres_none": ("TVs",)},
        ),
        ConvCase("wrong", "cold_start", ("a tv",), {"genres_any": ("Headphones",)}),
    ]
    res = run_cases(tiny_recommender, cases)
    assert res["by_kind"]["cold_start"] == 0.5  # all five laptops, then no TV is headphones
    # Only two laptops cost under $800: the three empty slots count as misses.
    assert res["by_kind"]["refine"] == 0.4
    assert [f["id"] for f in res["failures"]] == ["wrong", "cheap-laptops"]
    assert len(tiny_recommender.sessions) == 3


# --- the shipped set ----------------------------------------------------------------------


def test_the_shipped_set_loads_and_is_what_the_issue_asks_for() -> None:
    path = default_cases_path()
    assert path == REPO / "data" / "eval" / "movies_conversations.jsonl"
    cases = load_cases(path)
    kinds = [c.kind for c in cases]
    assert 50 <= len(cases) <= 80
    assert kinds.count("cold_start") >= 25 and kinds.count("refine") >= 20
    assert all(2 <= len(c.turns) <= 3 for c in cases if c.kind == "refine")
    assert any(len(c.turns) == 3 for c in cases)
    for c in cases:
        named = {
            g for key in ("genres_all", "genres_any", "genres_none") for g in c.expect.get(key, ())
        }
        assert named <= GENRES, c.id
        assert {"genres_all", "genres_any"} & set(c.expect), c.id  # every case asks for a genre
        for key in ("year_min", "year_max"):
            assert 1920 <= c.expect.get(key, 1950) <= 1999, c.id  # decades of the catalog


# The phrasings the training wishes are generated from (chatrec/train/data.py): the test set
# must not reuse them, or it would measure memorised templates.
TRAINING_PHRASINGS = [
    r"\bi'?m in the mood for\b",
    r"^any good\b",
    r"^recommend (?:a|an) [^;]*;\s*only ones from the",
    r"\bonly ones from the\b",
    r"^something like\b",
    r"^more like\b",
    r"\bfrom the \d0s, please\.$",
    r"^something [a-z-]+ from the \d0s\.$",
    r"^i'?m new here\. i like\b",
]


def test_the_shipped_set_shares_no_phrasing_with_the_training_data() -> None:
    from chatrec.train.data import VAGUE

    vague = {v.lower() for v in VAGUE}
    for case in load_cases(default_cases_path()):
        for turn in case.turns:
            low = turn.strip().lower()
            assert low not in vague, (case.id, turn)
            for pattern in TRAINING_PHRASINGS:
                assert not re.search(pattern, low), (case.id, turn, pattern)
    # And training never reads the test set.
    for src in (REPO / "chatrec" / "train").glob("*.py"):
        text = src.read_text(encoding="utf-8")
        assert "movies_conversations" not in text and "convtest" not in text, src


@pytest.mark.integration
def test_every_shipped_case_can_be_satisfied_by_the_movies_catalog() -> None:
    from chatrec import datasets

    catalog, _ = datasets.load("movies", default_cache_dir())
    assert len(catalog) == 1682
    thin = {
        c.id: n
        for c in load_cases(default_cases_path())
        if (n := len(matching(catalog, c.expect))) < 5
    }
    assert not thin, f"cases with fewer than 5 satisfying films: {thin}"


@pytest.mark.integration
def test_the_real_recommender_meets_the_cases_constraints(real_runtime: RuntimeConfig) -> None:
    """Retrieval, filters and the dialogue, without the language model (measured 0.85)."""
    rec = ChatRecommender.from_pretrained("movies", runtime=real_runtime, llm=False)
    res = run_cases(rec, load_cases(default_cases_path()), k=5)
    assert res["cases"] >= 50
    assert res["precision@5"] >= 0.8, json.dumps(res, indent=1)
