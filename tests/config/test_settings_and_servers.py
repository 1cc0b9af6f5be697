"""Configuration: production settings pass `check --deploy`; the embedded launcher honours external
servers and cleans up after itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PY = sys.executable
LAUNCHER = str(BASE_DIR / "config" / "embedded.py")

PRODUCTION = {
    "DATABASE_URL": "postgresql://fidelio:secret@db.internal:5432/fidelio",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-0123456789",
    "DJANGO_ALLOWED_HOSTS": "loyalty.example.com",
    "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
    "FIDELIO_PUBLIC_URL": "https://loyalty.example.com",
}


def _run(argv, env, **kw):
    return subprocess.run(argv, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=120, **kw)


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "FIDELIO_", "EMAIL_", "CELERY_"))}
    env.update(extra)
    return env


def test_production_settings_pass_check_deploy():
    done = _run([PY, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                _clean_env(DJANGO_SETTINGS_MODULE="config.settings", **PRODUCTION))
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_production_settings_values():
    code = textwrap.dedent("""
        import json, django
        django.setup()
        from django.conf import settings as s
        print(json.dumps({"debug": s.DEBUG, "hsts": s.SECURE_HSTS_SECONDS, "ssl": s.SECURE_SSL_REDIRECT,
            "cookie": s.SESSION_COOKIE_SECURE, "csrf": s.CSRF_COOKIE_SECURE,
            "conn": s.DATABASES["default"]["CONN_MAX_AGE"],
            "broker": s.CELERY_BROKER_URL, "cache": s.CACHES["default"]["LOCATION"], "email": s.EMAIL_HOST,
            "tls": s.EMAIL_USE_TLS}))
    """)
    done = _run([PY, "-c", code], _clean_env(DJANGO_SETTINGS_MODULE="config.settings", **PRODUCTION))
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout)
    assert values == {"debug": False, "hsts": 31536000, "ssl": True, "cookie": True, "csrf": True, "conn": 60,
                      "broker": "redis://cache.internal:6379/0", "cache": "redis://cache.internal:6379/0",
                      "email": "smtp.example.com", "tls": True}


def test_refuses_to_start_without_secret_key_in_production():
    env = _clean_env(DJANGO_SETTINGS_MODULE="config.settings",
                     **{k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"})
    done = _run([PY, "manage.py", "check"], env)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in done.stderr


def test_refuses_a_non_postgres_database():
    env = _clean_env(DJANGO_SETTINGS_MODULE="config.settings", **dict(PRODUCTION, DATABASE_URL="sqlite:///x.db"))
    done = _run([PY, "manage.py", "check"], env)
    assert done.returncode != 0
    assert "PostgreSQL" in done.stderr


def test_launcher_uses_external_servers_when_given():
    """`DATABASE_URL=... REDIS_URL=... make test` runs the suite on those servers: the launcher starts
    nothing and hands the URLs through. Here the 'external' servers are the ones this suite runs on."""
    external = _clean_env(DATABASE_URL=os.environ["DATABASE_URL"], REDIS_URL=os.environ["REDIS_URL"])
    code = "import os, json; print(json.dumps({k: os.environ.get(k) for k in "\
           "('DATABASE_URL', 'REDIS_URL', 'FIDELIO_EMBEDDED')}))"
    done = _run([PY, LAUNCHER, "exec", "--throwaway", "--", PY, "-c", code], external)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"], "FIDELIO_EMBEDDED": None,
    }


@pytest.mark.django_db
def test_suite_is_on_the_servers_it_was_given():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int")
        assert cursor.fetchone()[0] >= 150000
    assert settings.SETTINGS_MODULE == "config.test_settings"
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


@pytest.mark.parametrize("exit_code", [0, 3])
def test_throwaway_servers_are_removed_after_success_and_failure(exit_code):
    code = ("import os, sys, psycopg, redis; "
            "psycopg.connect(os.environ['DATABASE_URL']).execute('select 1'); "
            "redis.Redis.from_url(os.environ['REDIS_URL']).ping(); "
            f"print(os.environ['REDIS_URL']); sys.exit({exit_code})")
    done = _run([PY, LAUNCHER, "exec", "--throwaway", "--", PY, "-c", code], _clean_env())
    assert done.returncode == exit_code, done.stderr
    sock = Path(done.stdout.strip().removeprefix("unix://"))
    workdir = sock.parent.parent
    assert workdir.name.startswith("fidelio-test-")
    assert not workdir.exists()
    ps = _run(["ps", "-eo", "args"], os.environ).stdout
    assert str(workdir) not in ps


def test_collectstatic_works_with_the_production_storage(tmp_path):
    """The hashed, compressed static storage of production resolves every reference in our CSS and JS
    (a vendored file pointing at a missing source map once broke it)."""
    done = _run([PY, "manage.py", "collectstatic", "--noinput"],
                _clean_env(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_STATIC_ROOT=str(tmp_path), **PRODUCTION))
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "staticfiles.json").exists()


# --- a half-configured environment is a start-up error, never a silent embedded server -------------------
_SETTINGS_PROBE = ("import django, json; django.setup(); from django.conf import settings as s; "
                   "print(json.dumps({'debug': s.DEBUG, 'embedded': s.EMBEDDED}))")


@pytest.mark.parametrize("missing, present", [("REDIS_URL", "DATABASE_URL"), ("DATABASE_URL", "REDIS_URL")])
def test_one_url_without_the_other_refuses_to_start(missing, present, tmp_path):
    env = _clean_env(DJANGO_SETTINGS_MODULE="config.settings",
                     **{k: v for k, v in PRODUCTION.items() if k != missing})
    done = _run([PY, "-c", _SETTINGS_PROBE], env)
    assert done.returncode != 0
    assert f"{missing} is not set but {present} is" in done.stderr
    # Nothing embedded was started on the way: no server under var/ was joined by this process.
    assert "fidelio-test-" not in done.stderr and "embedded" not in done.stdout


def test_half_configured_with_debug_on_still_refuses():
    """DJANGO_DEBUG=True does not turn a missing URL into an embedded server either."""
    env = _clean_env(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="True",
                     DATABASE_URL=PRODUCTION["DATABASE_URL"])
    done = _run([PY, "-c", _SETTINGS_PROBE], env)
    assert done.returncode != 0 and "REDIS_URL is not set" in done.stderr


def test_embedded_on_purpose_fills_in_the_missing_server():
    """FIDELIO_EMBEDDED=1 with only DATABASE_URL: Redis is embedded on purpose (development). Here the database is
    the one this suite runs on."""
    env = _clean_env(DJANGO_SETTINGS_MODULE="config.settings", FIDELIO_EMBEDDED="1",
                     DATABASE_URL=os.environ["DATABASE_URL"])
    code = ("import os, sys; sys.path.insert(0, '.'); from config import embedded; "
            "s = embedded.services_start(throwaway=True); os.environ.update(s.environ()); "
            "import django, json; django.setup(); from django.conf import settings as st; "
            "print(json.dumps({'debug': st.DEBUG, 'redis': st.REDIS_URL.startswith('unix://')})); s.stop()")
    done = _run([PY, "-c", code], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"debug": True, "redis": True}


@pytest.mark.parametrize("url, message", [
    (None, "FIDELIO_PUBLIC_URL must be set in production"),
    ("http://loyalty.example.com", "must be an https:// address"),
    ("loyalty.example.com", "must be an https:// address"),
])
def test_production_needs_an_https_public_url(url, message):
    env = _clean_env(DJANGO_SETTINGS_MODULE="config.settings",
                     **{k: v for k, v in PRODUCTION.items() if k != "FIDELIO_PUBLIC_URL"})
    if url is not None:
        env["FIDELIO_PUBLIC_URL"] = url
    done = _run([PY, "manage.py", "check"], env)
    assert done.returncode != 0
    assert message in done.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    from django.core.management import CommandError, call_command

    from members.models import User

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not User.objects.filter(email__endswith="@demo.fidelio.test").exists()
    call_command("seed_demo", "--force")
    assert User.objects.filter(email="customer@demo.fidelio.test").exists()


def test_stopping_after_the_first_start_stops_postgres_too(tmp_path):
    """`make run` on a new data directory restarts PostgreSQL once (more connections); Ctrl-C must stop that
    restarted server, not only the process that was started first."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, '.')
        from pathlib import Path
        from config import embedded
        s = embedded.services_start(throwaway=False, var_dir=Path({str(tmp_path)!r}))
        pid = int((Path({str(tmp_path)!r}) / 'postgres' / 'postmaster.pid').read_text().split()[0])
        remembered = s.postgres._server.get_pid()
        s.stop()
        print(pid, remembered)
    """)
    done = _run([PY, "-c", code], _clean_env())
    assert done.returncode == 0, done.stderr
    pid, remembered = map(int, done.stdout.strip().splitlines()[-1].split())
    # The library stops the server only when the process it remembers still runs. Where init reaps the first
    # postmaster at once (not on every machine: an init that does not reap leaves it a zombie, which counts as
    # running and hid this), remembering the first one leaves the restarted server running after Ctrl-C.
    assert remembered == pid, "the library remembers the postmaster from before the restart"
    state = _run(["ps", "-o", "stat=", "-p", str(pid)], os.environ).stdout.strip()
    # Gone, or a zombie waiting for its parent to collect it (the launcher of this suite reaps orphans).
    assert state == "" or state.startswith("Z"), f"PostgreSQL {pid} still runs after stop() ({state})"
