"""Supply chain: requirements/base.txt (production) and requirements/dev.txt (make run, make test, CI) pin every
declared dependency inside its range, with hashes and nothing local; base and dev agree; the audit's
allow-list and its reading of pip-audit's report (requirements/audit.py)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
REQUIREMENTS = BASE_DIR / "requirements"
PYPROJECT = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))
DEPENDENCIES = PYPROJECT["project"]["dependencies"]
DEV_EXTRA = PYPROJECT["project"]["optional-dependencies"]["dev"]
BUILD_REQUIRES = PYPROJECT["build-system"]["requires"]
BUILD_IN = [
    line.split("#", 1)[0].strip()
    for line in (REQUIREMENTS / "build.in").read_text(encoding="utf-8").splitlines()
    if line.split("#", 1)[0].strip()
]
# What each lock must cover: base.txt the production install (and the build of `pip install --no-deps .`),
# dev.txt the same plus the dev extra.
DECLARED = {
    "base.txt": DEPENDENCIES + BUILD_REQUIRES + BUILD_IN,
    "dev.txt": DEPENDENCIES + DEV_EXTRA + BUILD_REQUIRES + BUILD_IN,
}

_REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[(?P<extras>[^\]]*)\])?\s*(?P<spec>[^;]*)")
_CLAUSE = re.compile(r"^\s*(?P<op>~=|==|!=|<=|>=|<|>)\s*(?P<version>[0-9][A-Za-z0-9.+!*-]*)\s*$")
_RELEASE = re.compile(r"^(?:\d+!)?(?P<release>\d+(?:\.\d+)*)(?P<rest>.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, list[tuple[str, str]]]:
    """`celery[redis]>=5.4,<5.8` -> ("celery", [(">=", "5.4"), ("<", "5.8")]). Markers are not used here."""
    match = _REQUIREMENT.match(text)
    assert match, f"cannot read the requirement {text!r}"
    clauses = []
    for clause in filter(None, (part.strip() for part in match["spec"].split(","))):
        parsed = _CLAUSE.match(clause)
        assert parsed, f"cannot read {clause!r} in {text!r}"
        clauses.append((parsed["op"], parsed["version"]))
    return canonical(match["name"]), clauses


def release(version: str) -> tuple[int, ...]:
    match = _RELEASE.match(version)
    assert match, f"not a version: {version!r}"
    return tuple(int(part) for part in match["release"].split("."))


def is_prerelease(version: str) -> bool:
    return bool(re.search(r"(a|b|c|rc|alpha|beta|pre|preview|dev)\d*", _RELEASE.match(version)["rest"].lower()))


def satisfies(version: str, op: str, bound: str) -> bool:
    """Release-segment comparison (enough for the final releases a lock holds and the ranges we declare)."""
    if bound.endswith(".*"):
        prefix = release(bound[:-2])
        same = release(version)[: len(prefix)] == prefix
        return same if op == "==" else not same
    have, want = release(version), release(bound)
    width = max(len(have), len(want))
    have, want = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
    if op == "~=":
        return have >= want and have[: len(release(bound)) - 1] == want[: len(release(bound)) - 1]
    post = _RELEASE.match(version)["rest"].lower().lstrip(".").startswith("post")
    return {
        "==": have == want and not post,
        "!=": have != want or post,
        ">=": have >= want,
        ">": have > want or (have == want and post),
        "<=": have <= want and not (have == want and post),
        "<": have < want,
    }[op]


def read_lock(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A lock file: {canonical name: (version, hashes)}; asserts that every entry is `name==version --hash=…`."""
    text = (REQUIREMENTS / name).read_text(encoding="utf-8")
    entries: dict[str, tuple[str, frozenset[str]]] = {}
    for block in re.sub(r"\\\n", " ", text).splitlines():
        line = block.split("#", 1)[0].strip()
        if not line:
            continue
        assert not line.startswith("-"), f"{name}: options or local files have no place in a lock: {line!r}"
        assert "://" not in line and " @ " not in line, f"{name}: a URL or local path in the lock: {line!r}"
        match = re.match(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<options>.*)$", line)
        assert match, f"{name}: not an exact pin: {line!r}"
        hashes = frozenset(re.findall(r"--hash=(sha256:[0-9a-f]{64})", match["options"]))
        leftover = re.sub(r"--hash=sha256:[0-9a-f]{64}", "", match["options"]).strip()
        assert not leftover, f"{name}: unexpected {leftover!r} after {match['name']}=={match['version']}"
        assert hashes, f"{name}: {match['name']}=={match['version']} has no --hash"
        key = canonical(match["name"])
        assert key not in entries, f"{name}: {key} is pinned twice"
        entries[key] = (match["version"], hashes)
    return entries


LOCKS = {name: read_lock(name) for name in DECLARED}


@pytest.mark.parametrize("lock", sorted(DECLARED))
def test_every_declared_dependency_is_pinned_inside_its_range(lock):
    pins = LOCKS[lock]
    problems = []
    for requirement in DECLARED[lock]:
        name, clauses = parse_requirement(requirement)
        if name not in pins:
            problems.append(f"{requirement!r} is not pinned")
            continue
        version = pins[name][0]
        outside = [f"{op}{bound}" for op, bound in clauses if not satisfies(version, op, bound)]
        if outside:
            problems.append(f"{name}=={version} is outside {requirement!r} ({', '.join(outside)})")
    assert not problems, f"requirements/{lock} is stale, run `make lock`:\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", sorted(DECLARED))
def test_every_pin_is_a_final_release_with_hashes(lock):
    assert LOCKS[lock], f"requirements/{lock} pins nothing"
    assert not [f"{n}=={v}" for n, (v, _) in LOCKS[lock].items() if is_prerelease(v)]
    assert all(hashes for _, hashes in LOCKS[lock].values())


def test_the_dev_lock_has_the_same_pins_and_hashes_as_the_base_lock():
    base, dev = LOCKS["base.txt"], LOCKS["dev.txt"]
    assert not sorted(set(base) - set(dev)), "dev.txt lacks pins of base.txt"
    differ = [f"{name}: base {base[name][0]}, dev {dev[name][0]}" for name in base if dev[name][0] != base[name][0]]
    assert not differ, "base.txt and dev.txt disagree; run `make lock`:\n" + "\n".join(differ)
    assert all(base[name][1] == dev[name][1] for name in base)


def test_the_extras_that_the_code_relies_on_are_locked():
    base = LOCKS["base.txt"]
    assert "psycopg-binary" in base  # psycopg[binary]
    # kombu's Redis transport imports `packaging`; it comes through celery[redis] -> kombu[redis].
    assert {"kombu", "redis", "packaging"} <= set(base)
    assert "pip-audit" in LOCKS["dev.txt"] and "uv" in LOCKS["dev.txt"]
    assert "pip-audit" not in base and "pytest" not in base


def test_what_is_imported_is_declared_and_what_is_not_is_not():
    declared = {parse_requirement(r)[0]: parse_requirement(r)[1] for r in DEPENDENCIES}
    dev = {parse_requirement(r)[0] for r in DEV_EXTRA}
    assert "fasteners" in declared  # config/embedded.py imports it
    assert "packaging" not in declared and "packaging" not in dev  # no first-party code imports it
    assert satisfies("13.0.0", "<", dict(declared["pillow"])["<"])  # the current Pillow major is allowed


def _first_party_imports() -> set[str]:
    names = set()
    for folder in ("members", "loyalty", "rewards", "feedback", "backoffice", "config", "tests", "bench"):
        for path in (BASE_DIR / folder).rglob("*.py"):
            for match in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)", path.read_text("utf-8"), re.M):
                names.add(match.group(1))
    return names


def test_no_first_party_code_imports_packaging():
    assert "packaging" not in _first_party_imports()
    assert "fasteners" in _first_party_imports()


# ------------------------------------------------------------------------------- the audit (requirements/audit.py)
def _audit_module():
    spec = importlib.util.spec_from_file_location("fidelio_lock_audit", REQUIREMENTS / "audit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_allow_list_reads_and_every_entry_says_why_and_until_when():
    audit = _audit_module()
    for entry in audit.read_allow_list():
        assert entry.reason and entry.until, entry


def test_an_allow_list_entry_needs_a_reason_and_a_date(tmp_path):
    audit = _audit_module()
    allow = tmp_path / "allow.txt"
    allow.write_text("# comment\n\nGHSA-aaaa-bbbb-cccc  # not reachable from our code; until 2027-03-31\n")
    (entry,) = audit.read_allow_list(allow)
    assert (entry.id, entry.until, entry.line) == ("GHSA-aaaa-bbbb-cccc", dt.date(2027, 3, 31), 3)
    for bad in ("PYSEC-2024-70\n", "PYSEC-2024-70  # harmless\n", "PYSEC-2024-70  # until 2027-01-01\n", "nope # x\n"):
        allow.write_text(bad)
        with pytest.raises(ValueError):
            audit.read_allow_list(allow)


def _report(*dependencies):
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


OK = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "django",
    "version": "4.2.0",
    "vulns": [{"id": "PYSEC-2024-70", "fix_versions": ["4.2.15"], "aliases": ["CVE-2024-42005"]}],
}
NOT_FOUND = {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2.19)"}
NOT_FOUND_2 = {"name": "redis", "skip_reason": "Dependency not found on PyPI and could not be audited: redis (8.1.0)"}


@pytest.mark.parametrize(
    ("report", "allow_unreachable", "exit_code"),
    [
        (_report(OK, {**OK, "name": "redis"}), False, 0),
        (_report(OK, VULNERABLE), False, 1),
        (_report(OK, VULNERABLE), True, 1),  # --allow-unreachable never lets a vulnerability through
        (_report(NOT_FOUND, NOT_FOUND_2), False, 1),  # pip-audit itself would say "No known vulnerabilities"
        (_report(NOT_FOUND, NOT_FOUND_2), True, 0),  # ... which make test turns into a loud warning
        (_report(OK, NOT_FOUND_2), True, 1),  # data reachable, one package not checked
        ("pip-audit crashed", True, 1),
    ],
)
def test_the_audit_reads_pip_audits_report(monkeypatch, tmp_path, report, allow_unreachable, exit_code):
    audit = _audit_module()
    allow = tmp_path / "allow.txt"
    allow.write_text("GHSA-aaaa-bbbb-cccc  # an example; until 2999-12-31\n")
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, stdout=report, stderr="")

    monkeypatch.setattr(audit.subprocess, "run", fake_run)
    argv = ["--allow-list", str(allow), str(REQUIREMENTS / "dev.txt")] + ["--allow-unreachable"] * allow_unreachable
    assert audit.main(argv) == exit_code
    (command,) = calls
    assert command[command.index("-r") + 1] == str(REQUIREMENTS / "dev.txt")
    assert command[command.index("--ignore-vuln") + 1] == "GHSA-aaaa-bbbb-cccc"
    assert "--disable-pip" in command and "--require-hashes" in command


def test_an_expired_acceptance_fails_the_audit_before_pip_audit_runs(monkeypatch, tmp_path):
    audit = _audit_module()
    allow = tmp_path / "allow.txt"
    allow.write_text("GHSA-aaaa-bbbb-cccc  # was harmless; until 2020-01-01\n")
    monkeypatch.setattr(audit.subprocess, "run", lambda *a, **k: pytest.fail("pip-audit ran"))
    assert audit.main(["--allow-list", str(allow), str(REQUIREMENTS / "dev.txt")]) == 1
