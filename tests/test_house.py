"""The house rules, checked on the source with ``ast``: no import cycle, faces reach only the
facade, the online path never imports the offline tools, short functions, no branch on a
catalog's name, and each shared helper written once."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("chatrec", "ui")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside ``if TYPE_CHECKING:`` blocks (never imported at run time)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(name: str) -> set[str]:
    """Project modules ``name`` imports anywhere (top level or inside a function)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", 0) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_the_walk_sees_the_imports_it_must() -> None:
    # The checks below are only as good as the walk: it must see lazy imports too.
    assert "chatrec.types" in GRAPH["chatrec.retrieve"]
    assert "chatrec.recommender" in GRAPH["chatrec.eval.store"]
    assert "chatrec.eval.movies" in GRAPH["chatrec.cli"]  # imported inside a command


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_bottom_floor_imports_no_stage() -> None:
    assert GRAPH["chatrec.types"] <= {"chatrec.catalog"}
    assert GRAPH["chatrec.catalog"] == set()


def test_the_online_path_never_imports_the_offline_tools() -> None:
    offline = ("chatrec.eval", "chatrec.train", "chatrec.cli")
    for name, deps in GRAPH.items():
        if name.startswith(offline):
            continue
        assert not {d for d in deps if d.startswith(offline)}, name


def test_the_faces_reach_only_the_facade() -> None:
    allowed = {"chatrec", "chatrec.config"}
    for name, deps in GRAPH.items():
        if name.startswith("ui"):
            assert {d for d in deps if d.startswith("chatrec")} <= allowed, name
    # The CLI may also run the offline tools and the training entry points.
    cli = {d for d in GRAPH["chatrec.cli"] if not d.startswith(("chatrec.eval", "chatrec.train"))}
    assert cli <= allowed | {"ui.app"}, cli


def test_functions_are_short_and_the_facade_is_small() -> None:
    long = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > 100:
                    long.append(f"{name}.{node.name}: {n} lines")
    assert long == []
    assert len(MODULES["chatrec.recommender"].read_text().splitlines()) < 400


def test_nothing_branches_on_a_catalog_name() -> None:
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value in ("movies", "store")
                for c in [node.left, *node.comparators]
            ):
                raise AssertionError(f"{name}:{node.lineno}: {ast.unparse(node)}")


def test_each_shared_helper_is_written_once() -> None:
    defined: dict[str, list[str]] = defaultdict(list)
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                defined[node.name].append(name)
        for node in tree.body:  # module-level names (a local ``money = ...`` is no helper)
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        defined[t.id].append(name)
    for helper in ("money", "price_text", "numbers_in", "zscore", "fold", "ndcg_at", "words"):
        assert len(defined[helper]) == 1, (helper, defined[helper])
    assert defined["STOP_WORDS"] == ["chatrec.text"]
    for gone in ("_money", "_zscore", "_fold_token", "_STOP", "_STOPWORDS", "_STOP_WORDS"):
        assert defined[gone] == [], (gone, defined[gone])
