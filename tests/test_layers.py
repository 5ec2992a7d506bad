"""The house rules of the layout (README "Design notes"), checked on every import, inside functions too.

Layers run one way: io -> engine -> metrics -> analyses (slices, difficulty, monitoring, impact, review,
compare) -> report -> api (the notebook API) -> cli, with ui/, pages/ and app.py on top. errors.py,
format.py and trace.py sit below all. Only the package root imports the api, inside a function (PEP 562), so that
``import mlimpact`` stays light.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: rank of each top-level part of mlimpact; an import may only point to an equal or lower rank
RANKS = {"errors": 0, "format": 0, "trace": 0, "io": 1, "engine": 2, "metrics": 3,
         "slices": 4, "difficulty": 4, "monitoring": 4, "impact": 5, "review": 5, "compare": 6,
         "report": 7, "api": 7.5, "cli": 8, "__main__": 9, "__init__": 0}
#: (importer, part) pairs allowed to point up: the package root's lazy ``mi.evaluate`` (PEP 562)
LAZY_UPWARD = {("mlimpact", "api")}
UI_RANK = 10
ANALYSES = ("slices", "difficulty", "monitoring", "impact", "review", "compare")
MAX_MODULE_LINES, MAX_PAGE_LINES = 400, 130
MAX_FUNCTION_CODE_LINES = 60
STRING_IMPORT = re.compile(r"""["'](mlimpact(?:\.\w+)+)(?::\w+)?["']""")


def _sources() -> list[Path]:
    return sorted([*(ROOT / "mlimpact").rglob("*.py"), *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py"),
                   ROOT / "app.py"])


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) for every import in the file, at any depth."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base, [a.name for a in node.names]))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [(node.lineno, m, []) for m in STRING_IMPORT.findall(node.value)]
    return found


def _part(module: str) -> str | None:
    """The layer name of an mlimpact module ('io', 'metrics', ...), None outside mlimpact."""
    parts = module.split(".")
    if parts[0] != "mlimpact":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(path: Path) -> int:
    part = _part(_module(path))
    return UI_RANK if part is None else RANKS[part]


def test_every_part_of_the_package_has_a_rank():
    parts = {_part(_module(p)) for p in (ROOT / "mlimpact").rglob("*.py")}
    assert parts <= set(RANKS), f"add {parts - set(RANKS)} to RANKS (and to the README's layout)"


def test_imports_point_down_the_layers_only():
    wrong = []
    for path in _sources():
        for line, target, _ in _imports(path):
            part = _part(target)
            if part is None or part not in RANKS:
                continue
            if RANKS[part] > _rank(path) and (_module(path), part) not in LAZY_UPWARD:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target} (a higher layer)")
    assert wrong == []


def _module_graph() -> dict[str, set[str]]:
    known = {_module(p) for p in (ROOT / "mlimpact").rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for path in (ROOT / "mlimpact").rglob("*.py"):
        me = _module(path)
        for _, target, names in _imports(path):
            candidates = [f"{target}.{n}" for n in names] + [target]
            for c in candidates:
                while c and c not in known:
                    c = c.rpartition(".")[0]
                if c and c != me and not me.startswith(c + "."):
                    graph[me].add(c)
                    break
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycles_between_modules():
    assert _cycles(_module_graph()) == []


def test_no_import_cycles_between_subpackages():
    graph: dict[str, set[str]] = defaultdict(set)
    for a, targets in _module_graph().items():
        for b in targets:
            pa, pb = a.split(".")[:2], b.split(".")[:2]
            if pa != pb and len(pa) == len(pb) == 2:
                graph[".".join(pa)].add(".".join(pb))
    assert _cycles(graph) == []


def _subpackage(module: str) -> str:
    """The package a module belongs to: mlimpact.impact.values -> mlimpact.impact."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "mlimpact" else parts[0]


def test_underscore_names_stay_inside_their_subpackage():
    crossing = []
    for path in _sources():
        me = _subpackage(_module(path))
        for line, target, names in _imports(path):
            if _part(target) is None:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private_module = any(p.startswith("_") and not p.startswith("__") for p in target.split("."))
            if (private or private_module) and _subpackage(target) != me:
                crossing.append(f"{path.relative_to(ROOT)}:{line} takes {private or target} from {target}")
    assert crossing == []


def test_every_subpackage_has_a_public_face():
    for init in (ROOT / "mlimpact").glob("*/__init__.py"):
        names = [t.id for node in _tree(init).body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)]
        assert "__all__" in names, f"{init.relative_to(ROOT)} has no __all__"


def test_top_level_modules_are_few():
    flat = sorted(p.name for p in (ROOT / "mlimpact").glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "api.py", "errors.py", "format.py", "trace.py"]


def test_only_the_package_root_imports_the_api_and_only_on_use():
    """``mlimpact.api`` sits on top of the analyses; nothing in the package, the app or the pages imports it,
    and the root imports it inside ``__getattr__`` only, so the CLI's start-up does not pay for it."""
    root = ROOT / "mlimpact" / "__init__.py"
    top_level = {node.lineno for node in _tree(root).body if isinstance(node, (ast.Import, ast.ImportFrom))}
    wrong = []
    for path in _sources():
        for line, target, names in _imports(path):
            if not (target == "mlimpact.api" or target.startswith("mlimpact.api.") or
                    (target == "mlimpact" and "api" in names)):
                continue
            if path != root or line in top_level:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert wrong == []


def test_argparse_and_print_only_in_the_cli():
    offenders = []
    for path in (ROOT / "mlimpact").rglob("*.py"):
        if _part(_module(path)) in ("cli", "__main__"):
            continue
        for line, target, _ in _imports(path):
            if target == "argparse":
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports argparse")
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} prints")
    assert offenders == []


def test_package_never_imports_streamlit():
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in (ROOT / "mlimpact").rglob("*.py")
                 for line, target, _ in _imports(p) if target.split(".")[0] == "streamlit"]
    assert offenders == []


def test_ui_and_pages_never_read_files_themselves():
    readers = re.compile(r"\bread_(csv|parquet|excel|predictions)\b|\bopen\(|\.read_bytes\(|\.read_text\(")
    offenders = [f"{p.relative_to(ROOT)}" for p in [*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]
                 if readers.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def _threshold_name(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "threshold" in name.lower()


def test_one_owner_of_the_decision_rule():
    """At most two places compare a score with a threshold; the default threshold is written once."""
    places, defaults = [], []
    for path in (ROOT / "mlimpact").rglob("*.py"):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.GtE) for op in node.ops) \
                    and any(_threshold_name(c) for c in node.comparators):
                places.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.arguments):
                args = [*node.posonlyargs, *node.args, *node.kwonlyargs]
                values = [*([None] * (len(node.posonlyargs) + len(node.args) - len(node.defaults))), *node.defaults,
                          *node.kw_defaults]
                for a, v in zip(args, values, strict=True):
                    if a.arg == "threshold" and isinstance(v, ast.Constant) and isinstance(v.value, float):
                        defaults.append(f"{path.relative_to(ROOT)}:{v.lineno} threshold={v.value}")
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and \
                    node.target.id == "threshold" and isinstance(node.value, ast.Constant):
                defaults.append(f"{path.relative_to(ROOT)}:{node.lineno} threshold={node.value.value}")
    assert len(places) <= 2, places
    assert defaults == [], "use mlimpact.io.decision.DEFAULT_THRESHOLD"


@pytest.mark.parametrize("folder", ["mlimpact", "ui"])
def test_module_sizes(folder):
    big = [f"{p.relative_to(ROOT)}: {n}" for p in (ROOT / folder).rglob("*.py")
           if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES]
    assert big == []


def test_pages_are_thin():
    big = [f"{p.name}: {n}" for p in (ROOT / "pages").glob("*.py")
           if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_PAGE_LINES]
    assert big == []


def _code_lines(lines: list[str], node: ast.AST) -> int:
    body = node.body
    doc = set()
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for i in range(node.lineno, node.end_lineno + 1)
               if i not in doc and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#"))


def test_functions_are_short():
    long = []
    for path in [*(ROOT / "mlimpact").rglob("*.py"), *(ROOT / "ui").glob("*.py")]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(lines, node)
                if n > MAX_FUNCTION_CODE_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines of code")
    assert long == []


def test_imports_inside_functions_say_why():
    """Imports inside functions are for heavy libraries (start-up time) and say so in a comment."""
    silent = []
    for path in [*(ROOT / "mlimpact").rglob("*.py"), *(ROOT / "ui").glob("*.py")]:
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(_tree(path)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and "#" not in lines[node.lineno - 1]:
                    silent.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert silent == []
