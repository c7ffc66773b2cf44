"""The layout of service/ stays the pipeline it claims to be (issue 16).

Imports run one way: cli -> web -> polling -> alerts -> trends, desk -> replies -> reading
-> the shared modules at the top of service/. A module may import its own stage and the
stages below it; imports inside functions count, imports only for type checking do not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

SERVICE = ROOT / "service"
# Lower runs first: a stage may import only stages of a lower rank (and itself).
RANK = {"shared": 0, "reading": 1, "replies": 2, "trends": 3, "desk": 3, "alerts": 4, "polling": 5, "web": 6, "cli": 7}
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_LOOSE_MODULES = 14


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> str:
    if module == "service.__main__":  # `python -m service`: the command line's other door
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (SERVICE / parts[1]).is_dir()) else "shared"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(inner) for inner in ast.walk(node))
    return hidden


def imports_of(path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported module of ours, line) for every import in the file, however deep."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_nodes(tree)
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] if node.level else [])
            source = ".".join(filter(None, [base, node.module or ""]))
            for alias in node.names:  # `from service.desk import approvals` imports a module
                target = f"{source}.{alias.name}"
                yield (target if target in known else source), node.lineno


def graph() -> dict[str, set[tuple[str, int]]]:
    files = {module_name(p): p for p in sorted([*SERVICE.rglob("*.py"), *(ROOT / "connectors").rglob("*.py")])}
    known = set(files)
    return {name: {(t, line) for t, line in imports_of(path, known) if t in known} for name, path in files.items()}


def test_a_stage_imports_only_itself_and_the_stages_below_it() -> None:
    wrong = [
        f"{module}:{line} imports {target} ({stage_of(module)} may not import {stage_of(target)})"
        for module, targets in graph().items() if module.startswith("service.")
        for target, line in sorted(targets)
        if target.startswith("service.") and stage_of(target) != stage_of(module)
        and RANK[stage_of(target)] >= RANK[stage_of(module)]
    ]
    assert not wrong, "\n".join(wrong)


def test_connectors_know_nothing_of_the_service_but_its_version() -> None:
    wrong = [f"{module}:{line} imports {target}" for module, targets in graph().items()
             if module.startswith("connectors") for target, line in targets
             if target.startswith("service") and target != "service"]
    assert not wrong, "\n".join(wrong)


def test_no_two_modules_import_each_other_even_through_others() -> None:
    edges = {module: {target for target, _ in targets} for module, targets in graph().items()}
    cycles = [component for component in _strongly_connected(edges) if len(component) > 1]
    assert not cycles, f"import cycles: {cycles}"


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative enough for a tree of a few hundred modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_checker_sees_a_stage_importing_one_above_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The layering test must be able to fail: a reading module importing polling, inside a function."""
    fake = tmp_path / "service" / "reading"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (tmp_path / "service" / "__init__.py").write_text("")
    (tmp_path / "service" / "polling").mkdir()
    (tmp_path / "service" / "polling" / "__init__.py").write_text("")
    (tmp_path / "service" / "polling" / "poll.py").write_text("from service.reading import bad\n")
    (fake / "bad.py").write_text("def f():\n    from service.polling import poll\n")
    (tmp_path / "connectors").mkdir()
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "SERVICE", tmp_path / "service")
    with pytest.raises(AssertionError, match="reading may not import polling"):
        test_a_stage_imports_only_itself_and_the_stages_below_it()
    with pytest.raises(AssertionError, match="import cycles"):
        test_no_two_modules_import_each_other_even_through_others()


def test_modules_and_functions_stay_small() -> None:
    too_big = []
    for path in sorted([*SERVICE.rglob("*.py"), *(ROOT / "connectors").rglob("*.py")]):
        source = path.read_text(encoding="utf-8")
        if (lines := source.count("\n")) > MAX_MODULE_LINES:
            too_big.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                if node.end_lineno - first + 1 > MAX_FUNCTION_LINES:
                    too_big.append(f"{path.relative_to(ROOT)}:{first} {node.name}: {node.end_lineno - first + 1} lines")
    assert not too_big, "\n".join(too_big)


def test_only_what_every_stage_shares_is_loose_at_the_top_of_service() -> None:
    loose = sorted(p.name for p in SERVICE.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose
    stages = sorted(p.name for p in SERVICE.iterdir() if (p / "__init__.py").is_file())
    assert set(stages) == set(RANK) - {"shared"}, "a new stage needs a rank in RANK"


def test_each_stage_says_what_it_does_and_what_it_may_import() -> None:
    for stage in set(RANK) - {"shared"}:
        doc = ast.get_docstring(ast.parse((SERVICE / stage / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert "import" in doc, f"service/{stage}/__init__.py should say what the stage may import"
