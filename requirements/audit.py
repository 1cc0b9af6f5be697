"""pip-audit over a lock file, with the vulnerabilities accepted in requirements/pip-audit-allow.txt.

    python requirements/audit.py [--allow-unreachable] requirements/dev.txt

Exits 1 on a known vulnerability of a locked release that the allow-list does not accept, on an allow-list
entry without a reason or past its date, on a locked package that could not be checked, and when PyPI's
vulnerability data cannot be reached at all. pip-audit's own non-strict mode would report the last case as
"No known vulnerabilities found"; `make test` passes --allow-unreachable, which turns that one case (and only
that one) into a warning, for machines whose network serves PyPI's packages but not its per-release data.
A vulnerability whose fix is a release inside our range is fixed by bumping the pin
(`make lock LOCK_ARGS="--upgrade-package NAME"`), not by accepting it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ALLOW_LIST = Path(__file__).with_name("pip-audit-allow.txt")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9-]+$")  # PYSEC-2024-70, GHSA-xxxx-xxxx-xxxx, CVE-2024-1
_UNTIL = re.compile(r"\buntil (\d{4}-\d{2}-\d{2})\b")
_NOT_ON_PYPI = "not found on PyPI"


@dataclass(frozen=True)
class Accepted:
    id: str
    reason: str
    until: dt.date
    line: int


def read_allow_list(path: Path = ALLOW_LIST) -> list[Accepted]:
    """`ID  # why it is accepted ... until YYYY-MM-DD`, one a line; blank lines and `#` lines are comments."""
    entries, errors = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vuln_id, _, reason = (part.strip() for part in line.partition("#"))
        until = _UNTIL.search(reason)
        if not _ID.match(vuln_id):
            errors.append(f"{path.name}:{number}: {vuln_id!r} is not a vulnerability ID")
        elif not until or not _UNTIL.sub("", reason).strip(" ,;.-"):
            errors.append(f"{path.name}:{number}: {vuln_id} needs a comment: why it is accepted, 'until YYYY-MM-DD'")
        else:
            try:
                entries.append(Accepted(vuln_id, reason, dt.date.fromisoformat(until.group(1)), number))
            except ValueError:
                errors.append(f"{path.name}:{number}: {vuln_id}: {until.group(1)} is not a date")
    if errors:
        raise ValueError("\n".join(errors))
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="a lock file with hashes, e.g. requirements/dev.txt")
    parser.add_argument("--allow-list", type=Path, default=ALLOW_LIST)
    parser.add_argument(
        "--allow-unreachable", action="store_true", help="only warn when no vulnerability data can be reached"
    )
    parser.add_argument("pip_audit_args", nargs="*", help="after --: more pip-audit options (e.g. another service)")
    args = parser.parse_args(argv)

    try:
        accepted = read_allow_list(args.allow_list)
    except ValueError as error:
        print(f"audit: {error}", file=sys.stderr)
        return 1
    today = dt.datetime.now(dt.UTC).date()
    expired = [entry for entry in accepted if entry.until < today]
    for entry in expired:
        print(
            f"audit: {args.allow_list.name}:{entry.line}: the acceptance of {entry.id} ran out on {entry.until}: "
            "bump the pin if a fix exists, or re-assess it and give it a new date",
            file=sys.stderr,
        )
    if expired:
        return 1

    command = [sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes", "-r", str(args.lock)]
    command += ["--format", "json", "--aliases", "on", "--desc", "off", "--progress-spinner", "off"]
    for entry in accepted:
        command += ["--ignore-vuln", entry.id]
    command += args.pip_audit_args
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our own pip-audit)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        sys.stderr.write(result.stderr)
        print(f"audit: pip-audit failed (exit {result.returncode}) without a report", file=sys.stderr)
        return 1

    dependencies = report["dependencies"]
    skipped = [dep for dep in dependencies if "skip_reason" in dep]
    found = [(dep, vuln) for dep in dependencies for vuln in dep.get("vulns", [])]
    for dep, vuln in found:
        aliases = ", ".join(vuln.get("aliases", []))
        fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
        print(f"audit: {dep['name']} {dep['version']}: {vuln['id']}" + (f" ({aliases})" if aliases else ""))
        print(f"       fixed in: {fixed}")
    if found:
        print(
            f"audit: {len(found)} known vulnerabilities in {args.lock}. Bump the pin "
            '(make lock LOCK_ARGS="--upgrade-package NAME"), or accept it with a reason and a date in '
            f"{args.allow_list}",
            file=sys.stderr,
        )
        return 1
    if skipped and len(skipped) == len(dependencies) and all(_NOT_ON_PYPI in dep["skip_reason"] for dep in skipped):
        message = (
            f"none of the {len(dependencies)} locked releases could be looked up: this machine does not reach "
            "PyPI's per-release vulnerability data, so nothing was audited"
        )
        if args.allow_unreachable:
            print(f"audit: WARNING: {message}; run `make audit` where it is reachable", file=sys.stderr)
            return 0
        print(f"audit: {message}", file=sys.stderr)
        return 1
    for dep in skipped:
        print(f"audit: not audited: {dep['skip_reason']}", file=sys.stderr)
    if skipped:
        return 1
    print(
        f"audit: {len(dependencies)} locked releases in {args.lock}: no known vulnerabilities"
        + (f" ({len(accepted)} accepted in {args.allow_list.name})" if accepted else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
