"""The shape of the code, enforced: imports point one way, modules and functions stay small, the
linter is clean, and every reference in code and docs resolves inside the repository.

The allowed arrows are written down in docs/architecture.md ("Layers"); this table is the same
rule in a form a test can check.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "brand_pipeline"

# What each part of the package may import from the project (prefixes under brand_pipeline.).
# A trailing "!" means that module exactly, not its submodules: the demo may take the list of
# asset definitions to materialise them, never an asset's internals.
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "sample": {"sample"},
    "markdown": set(),
    "aio": set(),
    "settings": set(),
    "run_tags": set(),
    "interrupts": set(),
    "redaction": set(),
    "store": {"domain", "store"},
    "sources": {"domain", "sources", "store.models", "store.protocol", "markdown", "settings", "redaction"},
    "analysis": {"domain", "analysis", "store.models", "store.protocol", "markdown"},
    "report": {"domain", "report", "store.models", "markdown", "redaction"},
    "resources": {"domain", "store", "sources", "analysis", "sample", "report", "resources", "aio", "settings"},
    "partitions": set(),
    "instance": {"settings"},
    "lineage": {"store.models"},
    "registry": {"domain", "partitions", "resources"},
    "reporting": {"domain", "report", "store.models", "store.protocol", "analysis.versions"},
    "assets": {
        "assets", "analysis", "sources", "domain", "resources", "partitions", "markdown", "store.models", "run_tags",
        "reporting",
        "interrupts",
    },
    "runs": {"assets!", "checks", "partitions", "run_tags"},
    "cli_tables": {"demo", "store.models"},
    "checks": {"assets!", "domain", "resources", "partitions", "markdown", "store.models"},
    "sensors": {"assets!", "domain", "resources", "partitions", "store.models", "store.protocol"},
    "schedules": {"assets!", "partitions"},
    "definitions": {"assets!", "checks", "resources", "schedules", "sensors", "settings"},
    "demo": {
        "assets!", "checks", "domain", "registry", "resources", "sample", "store.models", "store.protocol",
        "partitions", "interrupts", "runs", "reporting",
    },
    "cli": {
        "domain", "store", "resources", "registry", "instance", "lineage", "analysis.personas", "demo",
        "definitions", "settings", "partitions", "runs", "interrupts", "cli_tables", "reporting",
    },
}  # fmt: skip


def project_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) for every import of the project in ``source``, inside functions too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)]
            # `from brand_pipeline import demo` imports the module brand_pipeline.demo.
            if node.module == "brand_pipeline":
                found += [(node.lineno, f"brand_pipeline.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("brand_pipeline.")]


def _permits(allowed: set[str], target: str) -> bool:
    for rule in allowed:
        exact = rule.endswith("!")
        prefix = "brand_pipeline." + rule.rstrip("!")
        if target == prefix or (not exact and target.startswith(prefix + ".")):
            return True
    return False


def layering_violations(part: str, source: str, where: str) -> list[str]:
    return [
        f"{where}:{line} imports {target} (the {part} layer may import only {sorted(ALLOWED[part]) or 'nothing'})"
        for line, target in project_imports(source)
        if not _permits(ALLOWED[part], target)
    ]


def _part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _production_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_imports_only_along_the_allowed_arrows() -> None:
    problems: list[str] = []
    for path in _production_modules():
        part = _part_of(path)
        assert part in ALLOWED, f"{path.relative_to(ROOT)} belongs to no layer: add it to ALLOWED and the docs"
        problems += layering_violations(part, path.read_text(), str(path.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "part, forbidden",
    [
        ("store", "from brand_pipeline.sources.ad_items import parse_ad_item"),
        ("analysis", "from brand_pipeline.store.postgres import open_postgres_store"),
        ("sources", "import brand_pipeline.store.postgres.store"),
        ("domain", "from brand_pipeline.store.models import Creative"),
        ("resources", "from brand_pipeline.assets import scraped_ads"),
        ("demo", "from brand_pipeline.assets.analyses import GEMINI_POOL"),
        ("cli", "def f():\n    from brand_pipeline.assets.personas import personas"),
    ],
)
def test_the_layering_check_catches_a_forbidden_import(part: str, forbidden: str) -> None:
    assert layering_violations(part, forbidden, "example.py"), f"{part} must not be allowed: {forbidden}"


def _source_files() -> list[Path]:
    folders = [PACKAGE, ROOT / "brand_pipeline_tests" / "fakes"]
    return sorted(p for folder in folders for p in folder.rglob("*.py"))


def test_no_module_is_a_god_module() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in _source_files()
        if (lines := len(path.read_text().splitlines())) > 400
    ]
    assert not too_long, "split these along their seams:\n" + "\n".join(too_long)


def test_no_function_is_longer_than_sixty_lines() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
        for path in _source_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not too_long, "\n".join(too_long)


def test_ruff_lint_and_format_are_clean() -> None:
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"ruff {' '.join(command)}:\n{result.stdout}{result.stderr}"


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines() if name.endswith((".py", ".md", ".yaml", ".toml", ".sql"))]


_OUTSIDE_REFERENCE = re.compile(r"DESIGN\.md|shared/reference|\.\./shared|/work/")
_MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_reference_resolves_inside_the_repository() -> None:
    problems: list[str] = []
    for path in _tracked_text_files():
        if not path.exists() or path == Path(__file__):
            continue
        text = path.read_text()
        problems += [f"{path.relative_to(ROOT)}: points outside the repository ({m.group()})"
                     for m in _OUTSIDE_REFERENCE.finditer(text)]  # fmt: skip
        if path.suffix == ".md":
            for match in _MARKDOWN_LINK.finditer(text):
                target = match.group(1)
                if "://" not in target and not target.startswith("mailto:"):
                    if not (path.parent / target).exists():
                        problems.append(f"{path.relative_to(ROOT)}: broken link {target}")
    assert not problems, "\n".join(problems)


def _bash_blocks(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", markdown, flags=re.S)]


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    demo_command, test_command, *_ = _bash_blocks((ROOT / "README.md").read_text())
    assert "brand-pipeline demo" in demo_command and "pytest" in test_command
    ci_commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("python3 ")]
    assert ci_commands == [test_command]
