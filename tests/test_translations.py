"""The catalogues: every message of the code and templates is translated into Polish, Czech, Russian and Greek,
with nothing fuzzy and the plural forms each language needs (msgfmt --check), and none is missing from them
(a fresh extraction into a copy of locale/ adds no untranslated entry)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE = BASE_DIR / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]
PLURALS = {"pl": 4, "cs": 4, "ru": 4, "el": 2}  # as Django's own catalogues (the 4th: fractions)
IGNORE = [".venv/*", "var/*", "bench/*", "tests/*", "build/*", "test-artifacts/*"]


def _statistics(po: Path) -> str:
    done = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stderr.strip()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_checked(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"{po} is missing: run `make makemessages` and translate it"
    stats = _statistics(po)
    assert "untranslated" not in stats and "fuzzy" not in stats, f"{language}: {stats}"
    text = po.read_text()
    header = re.search(r'"Plural-Forms: nplurals=(\d+);', text)
    assert header and int(header.group(1)) == PLURALS[language], f"{language}: wrong Plural-Forms header"
    assert int(re.match(r"(\d+) translated", stats).group(1)) > 300


def test_the_catalogues_hold_every_message_of_the_code(tmp_path):
    """Extract the messages again into a copy of the catalogues: nothing new may appear untranslated."""
    copy = tmp_path / "locale"
    shutil.copytree(LOCALE, copy, ignore=shutil.ignore_patterns("*.mo"))
    env = {"PATH": "/usr/bin:/bin", "DJANGO_LOCALE_PATH": str(copy), "DATABASE_URL": "postgresql://x@127.0.0.1:9/x",
           "REDIS_URL": "redis://127.0.0.1:9/0", "FIDELIO_EMBEDDED": "0", "DJANGO_DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    args = [sys.executable, "manage.py", "makemessages", *[f"--locale={code}" for code in TRANSLATED],
            *[f"--ignore={pattern}" for pattern in IGNORE], "--no-obsolete", "-v", "0"]
    done = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    missing = {}
    for code in TRANSLATED:
        stats = _statistics(copy / code / "LC_MESSAGES" / "django.po")
        if "untranslated" in stats or "fuzzy" in stats:
            missing[code] = stats
    assert not missing, f"messages without a translation (run `make makemessages`, translate): {missing}"


def test_the_compiled_catalogues_are_used():
    """`make test` compiled the .mo files: a message of ours comes out translated."""
    for code in TRANSLATED:
        with translation.override(code):
            assert translation.gettext("Points history") != "Points history", code


FIDELIO_APPS = ["members", "loyalty", "rewards", "gamification", "feedback", "campaigns", "backoffice"]


def test_every_model_and_field_of_fidelio_has_a_translatable_name():
    """The admin follows the staff user's language: Django derives an English label from a field's or a model's
    name unless it is given one through gettext_lazy, which the catalogues then translate."""
    from django.apps import apps
    from django.utils.functional import Promise

    english = []
    for label in FIDELIO_APPS:
        for model in apps.get_app_config(label).get_models():
            options = model._meta.original_attrs
            for option in ("verbose_name", "verbose_name_plural"):
                if not isinstance(options.get(option), Promise):
                    english.append(f"{model._meta.label} Meta.{option}")
            for field in model._meta.get_fields():
                if field.auto_created or not hasattr(field, "verbose_name"):
                    continue  # reverse relations; the automatic primary key ("ID")
                if not isinstance(field.verbose_name, Promise):
                    english.append(f"{model._meta.label}.{field.name}")
    assert not english, f"names left in English (give them _('…')): {english}"


@pytest.mark.django_db
def test_the_admin_speaks_the_staff_users_language(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/admin/members/member/add/", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    for label in ("Numer uczestnika", "Saldo punktów", "Zgoda marketingowa", "Utworzono"):
        assert f">{label}" in html, label
    html = client.get("/admin/loyalty/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert "Záznamy v historii bodů" in html and "Dávky bodů" in html
