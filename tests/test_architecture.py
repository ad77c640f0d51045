"""Dependencies point one way: pages -> workspace -> (qualtrics, scoring) -> vocabulary.

``vocabulary`` is the one leaf both ``qualtrics`` and ``scoring`` may import: what a choice label means
("N/A", "Don’t know / no opinion", "Keine Angabe" are not answers) must be decided once, for the survey
definition's scale and for the scores alike, yet ``qualtrics`` must not know scoring nor ``scoring`` know
Qualtrics. So the shared rule lives below both, and imports nothing of the project (nor any I/O) itself.

These tests read the import statements of every module, so a shortcut such as a page that
runs SQL, or a scoring function that reads a file, fails here before it reaches review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, wherever the import sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


UI_AND_STORAGE = {"streamlit", "sqlite3", "sqlite_utils", "workspace"}
IO_AND_NETWORK = {"requests", "requests_oauthlib", "urllib", "urllib3", "http", "socket", "sqlite3",
                  "sqlite_utils", "streamlit", "qualtrics", "workspace", "subprocess", "shutil"}


@pytest.mark.parametrize("path", modules_of("qualtrics"), ids=ids(modules_of("qualtrics")))
def test_qualtrics_package_knows_nothing_of_streamlit_the_database_or_scoring(path: Path) -> None:
    forbidden = UI_AND_STORAGE | {"scoring"}
    if path == ROOT / "qualtrics" / "__main__.py":
        # The command line's composition root may fall back to the connection stored by the app.
        forbidden = forbidden - {"workspace"}
    assert imported_modules(path) & forbidden == set()


@pytest.mark.parametrize("path", modules_of("scoring"), ids=ids(modules_of("scoring")))
def test_scoring_package_is_pure(path: Path) -> None:
    assert imported_modules(path) & IO_AND_NETWORK == set()


@pytest.mark.parametrize("path", modules_of("workspace"), ids=ids(modules_of("workspace")))
def test_workspace_never_imports_streamlit(path: Path) -> None:
    # The scheduler and the CLI run outside Streamlit; the domain must not need it.
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", modules_of("vocabulary"), ids=ids(modules_of("vocabulary")))
def test_vocabulary_is_a_pure_leaf_that_imports_nothing_of_the_project(path: Path) -> None:
    project = {"qualtrics", "scoring", "workspace", "pages", "ui", "app", "vocabulary"}
    own = imported_modules(path) & project
    assert own <= {"vocabulary"} and not imported_modules(path) & IO_AND_NETWORK


def test_not_an_answer_is_decided_in_one_module_only() -> None:
    """Both the definition parser and the scoring use vocabulary's rule; neither keeps a copy of its own."""
    for package in ("qualtrics", "scoring"):
        for path in modules_of(package):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert "is_not_an_answer" not in defined, f"{path.relative_to(ROOT)} defines its own is_not_an_answer"
    assert "vocabulary" in imported_modules(ROOT / "qualtrics" / "definitions.py")
    assert "vocabulary" in imported_modules(ROOT / "scoring" / "mapping.py")


PAGE_FILES = sorted((ROOT / "pages").glob("*.py")) + sorted((ROOT / "ui").glob("*.py"))


@pytest.mark.parametrize("path", PAGE_FILES, ids=ids(PAGE_FILES))
def test_pages_reach_data_only_through_workspace(path: Path) -> None:
    forbidden = {"sqlite3", "sqlite_utils", "requests", "requests_oauthlib", "qualtrics", "scoring",
                 "urllib", "http"}
    assert imported_modules(path) & forbidden == set()


def test_the_guard_sees_real_imports(tmp_path: Path) -> None:
    """The checks above would pass vacuously if import parsing broke; prove it finds imports."""
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlite3\nfrom streamlit import session_state\ndef f():\n    import workspace.db\n")
    assert imported_modules(sample) == {"sqlite3", "streamlit", "workspace"}
