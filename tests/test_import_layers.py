"""The apps' import layers (DESIGN.md "Apps and what each owns"; docs/architecture.md "Apps"): an app imports
only itself, the apps below it and the shared core; siblings on one layer do not import each other; the shared
core imports no app; no app imports the composition root (config/settings.py, urls.py, celery.py, …).

Every .py file of every app is parsed with `ast` (migrations and management commands included), and every
import counts: module-level and inside functions, `import x` and `from x import y`, relative ones resolved.
"""

from __future__ import annotations

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Lowest first (DESIGN.md).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("members",),
    ("loyalty",),
    ("gamification",),
    ("rewards", "feedback"),  # siblings: neither imports the other
    ("campaigns",),
    ("backoffice",),
)
LAYER_OF = {app: rank for rank, apps in enumerate(LAYERS, start=1) for app in apps}
APPS = tuple(LAYER_OF)

# config/ is the composition root (it imports the apps) plus the shared core (layer 0, no business logic).
# Every other module of config/ is shared core: a new helper module there is importable by every app and is
# itself checked below to import no app.
COMPOSITION_ROOT = frozenset({
    "config", "config.settings", "config.test_settings", "config.urls", "config.celery", "config.embedded",
    "config.wsgi", "config.asgi",
})
# The core modules the layers were written down with; a missing one means this test went stale.
KNOWN_CORE = frozenset({"config.exceptions", "config.idempotency", "config.throttling", "config.schema",
                        "config.api", "config.memo", "config.periods", "config.sql", "config.models",
                        "config.admin_base"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BASE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _py_files(package: str) -> list[Path]:
    return sorted(p for p in (BASE_DIR / package).rglob("*.py") if "__pycache__" not in p.parts)


def _shared_core() -> list[Path]:
    return [p for p in _py_files("config") if _module_name(p) not in COMPOSITION_ROOT]


def _imports(path: Path) -> list[tuple[int, str]]:
    return _imports_in(path.read_text(encoding="utf-8"), module=_module_name(path),
                       is_package=path.name == "__init__.py", filename=str(path))


def _imports_in(source: str, *, module: str, is_package: bool, filename: str = "<source>") -> list[tuple[int, str]]:
    """(line, imported module) for every import in the source, in line order. `from a import b` gives `a.b`
    (b may be a module or a name in a: both have the same top-level package, and for config the module
    decides); relative imports are resolved against the module's package."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            found.extend((node.lineno, base if alias.name == "*" else f"{base}.{alias.name}")
                         for alias in node.names)
    return sorted(found)


def _config_module(imported: str) -> str:
    """`config.exceptions.DomainError` -> `config.exceptions`; `config.celery_app` -> `config` (a name in
    config/__init__.py, which imports the Celery app)."""
    parts = imported.split(".")
    if len(parts) >= 2 and (BASE_DIR / "config" / f"{parts[1]}.py").exists():
        return f"config.{parts[1]}"
    if len(parts) >= 2 and (BASE_DIR / "config" / parts[1] / "__init__.py").exists():
        return f"config.{parts[1]}"
    return "config"


def _refusal(importer_app: str | None, imported: str) -> str | None:
    """Why `importer_app` (None: the shared core) may not import `imported`, or None if it may."""
    top = imported.split(".")[0]
    if top == "config":
        target = _config_module(imported)
        if target in COMPOSITION_ROOT:
            return f"{target} is the composition root"
        return None
    if top not in LAYER_OF:
        return None  # the standard library, Django, third-party packages, tests
    if importer_app is None:
        return "the shared core imports no app"
    if top == importer_app:
        return None
    if LAYER_OF[top] > LAYER_OF[importer_app]:
        return f"{top} is above {importer_app}"
    if LAYER_OF[top] == LAYER_OF[importer_app]:
        return f"{top} and {importer_app} are siblings"
    return None


def _violations(files: list[Path], importer_app: str | None) -> list[str]:
    lines = []
    for path in files:
        for lineno, imported in _imports(path):
            why = _refusal(importer_app, imported)
            if why:
                lines.append(f"{path.relative_to(BASE_DIR)}:{lineno} imports {imported} ({why})")
    return lines


def test_every_app_is_in_a_layer():
    on_disk = {p.parent.name for p in BASE_DIR.glob("*/apps.py")}
    assert on_disk == set(APPS), "an app without a layer (or a layer without an app): update LAYERS"


def test_the_known_shared_core_exists():
    core = {_module_name(p) for p in _shared_core()}
    assert core >= KNOWN_CORE, f"missing from config/: {sorted(KNOWN_CORE - core)}"


def test_the_check_sees_every_kind_of_import():
    """The parser and the rule themselves: function-level, relative (one and two dots), `from package import
    module`, the composition root."""
    source = (
        "import rewards.models\n"
        "from ..views import home\n"
        "from . import helpers\n"
        "def f():\n"
        "    from feedback.services import surveys\n"
        "    import config.settings\n"
        "    from config import celery_app\n"
    )
    assert _imports_in(source, module="loyalty.sub.mod", is_package=False) == [
        (1, "rewards.models"), (2, "loyalty.views.home"), (3, "loyalty.sub.helpers"), (5, "feedback.services.surveys"),
        (6, "config.settings"), (7, "config.celery_app"),
    ]
    assert _imports_in("from .models import Member\n", module="members", is_package=True) == [
        (1, "members.models.Member")]
    assert _refusal("loyalty", "rewards.models") == "rewards is above loyalty"
    assert _refusal("loyalty", "gamification.services.challenges") == "gamification is above loyalty"
    assert _refusal("gamification", "loyalty.ledger") is None
    assert _refusal("rewards", "feedback.services.surveys") == "feedback and rewards are siblings"
    assert _refusal("loyalty", "loyalty.views.home") is None
    assert _refusal("backoffice", "feedback.services.surveys") is None
    assert _refusal("feedback", "members.models.Member") is None
    assert _refusal("members", "config.settings") == "config.settings is the composition root"
    assert _refusal("members", "config.celery_app") == "config is the composition root"
    assert _refusal("members", "config.exceptions.DomainError") is None
    assert _refusal(None, "members.models") == "the shared core imports no app"
    assert _refusal(None, "config.exceptions.DomainError") is None


def test_apps_import_only_downwards():
    problems = [line for app in APPS for line in _violations(_py_files(app), app)]
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_the_shared_core_imports_no_app():
    problems = _violations(_shared_core(), None)
    assert not problems, "the shared core imports an app or the composition root:\n" + "\n".join(problems)
