"""Hand-written SQL against the models (STYLE.md §12): every INSERT's column list names real columns of the
model that owns the table and leaves out no NOT NULL column the database cannot fill itself; no INSERT
writes a table no model owns; no choice value is spelled as a literal in SQL text; and no statement is
assembled with `.format(` from pieces another module supplies.

The SQL is found by parsing each module with `ast`: every string constant and f-string (module level and
inside functions), so a statement cannot hide from the check by where it is written.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED, AutoField, BigAutoField, SmallAutoField

BASE_DIR = Path(__file__).resolve().parent.parent

# Every module of every app (migrations aside): hand-written SQL cannot hide from the checks by where it lives.
APPS = ("members", "loyalty", "gamification", "rewards", "feedback", "campaigns", "backoffice")
MODULES = sorted(
    p.relative_to(BASE_DIR).as_posix() for app in APPS for p in (BASE_DIR / app).rglob("*.py")
    if "migrations" not in p.parts and "__pycache__" not in p.parts
)

# Tables named through Model._meta in an f-string (STYLE.md §12 allows that): placeholder -> model label.
DYNAMIC_TABLES = {("backoffice/services/newsletters.py", "{table}"): "backoffice.NewsletterDelivery"}

# `.format(` on a statement with pieces another module supplies: none is allowed (STYLE.md §12). Name one here
# only with the reason it has to stay.
FORMAT_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("campaigns/services/offers.py", "_ASSIGN"): "the audience is the module's own ORM query (audience_members), "
                                                 "compiled by Django, its values still parameters",
}

# Quoted literals in SQL that equal some model's choice value but are not that choice.
NOT_CHOICES = {("backoffice/services/metrics.py", "month")}  # date_trunc('month', …), not MetricSnapshot.period

_INSERT = re.compile(r"INSERT\s+INTO\s+(\{\w+\}|\w+)\s*\(([^)]*)\)")
_SQL_WORDS = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH)\b")
_LITERAL = re.compile(r"'([a-z][a-z_]*)'")


def _tree(module: str) -> ast.Module:
    return ast.parse((BASE_DIR / module).read_text(encoding="utf-8"), filename=module)


def _texts(module: str) -> list[str]:
    """Every string constant and f-string of the module; an f-string's fields read `{expression}`."""
    tree = _tree(module)
    inside_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            out.append("".join(part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
                               for part in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside_fstrings:
            out.append(node.value)
    return out


def _sql_texts(module: str) -> list[str]:
    return [t for t in _texts(module) if _SQL_WORDS.search(t)]


def _inserts() -> list[tuple[str, str, list[str]]]:
    return [(module, table, [c.strip() for c in columns.split(",") if c.strip()])
            for module in MODULES for text in _sql_texts(module) for table, columns in _INSERT.findall(text)]


def _models_by_table() -> dict:
    return {m._meta.db_table: m for m in apps.get_models()}


def _needs_value(field) -> bool:
    """A NOT NULL column the database gives no value of its own (Django's `default` is not a database one)."""
    if isinstance(field, AutoField | BigAutoField | SmallAutoField):
        return False
    return not field.null and field.db_default is NOT_PROVIDED


def test_every_app_is_read():
    assert {p.parent.name for p in BASE_DIR.glob("*/apps.py")} == set(APPS)


def test_every_insert_is_found():
    for module in MODULES:
        source = (BASE_DIR / module).read_text(encoding="utf-8")
        found = sum(len(_INSERT.findall(text)) for text in _sql_texts(module))
        assert found == source.count("INSERT INTO"), f"{module}: an INSERT INTO the parser did not read"
    assert len(_inserts()) >= 15


def test_insert_columns_match_the_models():
    by_table = _models_by_table()
    problems = []
    for module, table, columns in _inserts():
        model = (apps.get_model(DYNAMIC_TABLES[(module, table)]) if (module, table) in DYNAMIC_TABLES
                 else by_table.get(table))
        if model is None:
            problems.append(f"{module}: INSERT INTO {table}: no model has this table")
            continue
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            problems.append(f"{module}: INSERT INTO {table}: not columns of {model.__name__}: {unknown}")
        if len(set(columns)) != len(columns):
            problems.append(f"{module}: INSERT INTO {table}: a column listed twice: {columns}")
        missing = [name for name, f in fields.items() if _needs_value(f) and name not in columns]
        if missing:
            problems.append(f"{module}: INSERT INTO {table}: NOT NULL columns without a database default left "
                            f"out: {missing}")
    assert not problems, "\n".join(problems)


def test_the_column_check_catches_a_wrong_list():
    """The check itself: a renamed and a forgotten column are both reported."""
    fields = {f.column: f for f in apps.get_model("loyalty.LotDraw")._meta.concrete_fields}
    assert "lot" not in fields and "lot_id" in fields
    assert [n for n, f in fields.items() if _needs_value(f) and n not in ["entry_id", "points"]] == ["lot_id"]
    assert _INSERT.findall("INSERT INTO loyalty_lotdraw (entry_id,\n  lot, points) SELECT") == [
        ("loyalty_lotdraw", "entry_id,\n  lot, points")]


def _choice_values() -> set[str]:
    values = set()
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            for value, _label in f.flatchoices or ():
                if isinstance(value, str) and value:
                    values.add(value)
    return values


def test_no_choice_value_is_a_literal_in_sql():
    choices = _choice_values()
    found = sorted({(module, literal) for module in MODULES for text in _sql_texts(module)
                    for literal in _LITERAL.findall(text) if literal in choices} - NOT_CHOICES)
    assert not found, f"pass these choice values as parameters (Model.Choice.X): {found}"


def _module_strings(tree: ast.Module) -> set[str]:
    return {target.id for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant | ast.JoinedStr)
            for target in node.targets if isinstance(target, ast.Name)}


@pytest.mark.parametrize("module", MODULES)
def test_no_statement_is_formatted_from_foreign_pieces(module):
    """`CONSTANT.format(...)` only with this module's own string constants (or literals) as the pieces."""
    tree = _tree(module)
    own = _module_strings(tree)
    offenders = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
                and isinstance(node.func.value, ast.Name) and node.func.value.id in own):
            continue
        pieces = [*node.args, *(k.value for k in node.keywords)]
        if not all(isinstance(p, ast.Constant) or (isinstance(p, ast.Name) and p.id in own) for p in pieces):
            offenders.add((module, node.func.value.id))
    assert not offenders - FORMAT_EXCEPTIONS.keys(), f"SQL assembled from another module's pieces: {offenders}"
    stale = {k for k in FORMAT_EXCEPTIONS if k[0] == module} - offenders
    assert not stale, f"no longer formatted from foreign pieces; drop them from FORMAT_EXCEPTIONS: {stale}"
