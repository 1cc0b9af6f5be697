"""The platform the way `make run` starts it: migrate, seed_demo, a real Celery worker and beat through
Redis, and the web server answering /healthz, /healthz/live and /healthz/ready. Runs on a scratch database
on the test PostgreSQL."""

from __future__ import annotations

import email
import json
import os
import urllib.error
import urllib.request

import pytest

from tests.smoke_support import PY, env_for, free_port, manage, scratch_database, spawn, stop, wait_for

pytestmark = pytest.mark.smoke


def _heartbeat_runs(conn) -> int:
    row = conn.execute("SELECT runs FROM backoffice_heartbeat WHERE name = 'celery'").fetchone()
    return row[0] if row else 0


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _try_get(url: str):
    try:
        return _get(url)
    except OSError:  # not listening yet
        return None


def test_platform_runs_like_make_run(tmp_path):
    import psycopg

    name = f"fidelio_smoke_{os.getpid()}"
    with scratch_database(name) as url:
        mailbox = tmp_path / "mail"
        env = env_for(url, EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                      EMAIL_FILE_PATH=str(mailbox))

        for step in (["migrate", "--noinput"], ["seed_demo"], ["seed_demo"]):
            done = manage(*step, env=env)
            assert done.returncode == 0, done.stderr + done.stdout
        assert "customer@demo.fidelio.test" in done.stdout

        with psycopg.connect(url, autocommit=True) as conn:
            members = conn.execute("SELECT count(*) FROM members_member").fetchone()[0]
            assert members >= 50
            # Make the heartbeat due at once, so beat sends it on its first tick.
            conn.execute("UPDATE django_celery_beat_periodictask SET last_run_at = now() - interval '1 hour' "
                         "WHERE name = 'heartbeat'")
            assert _heartbeat_runs(conn) == 0

            port = free_port()
            worker = spawn([PY, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
                            "--loglevel", "INFO", "-n", f"smoke-{os.getpid()}@%h"],
                           env=env, log=tmp_path / "worker.log")
            beat = spawn([PY, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                          "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                          "--pidfile", str(tmp_path / "beat.pid")],
                         env=env, log=tmp_path / "beat.log")
            web = spawn([PY, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
                        env=env, log=tmp_path / "web.log")
            try:
                # A task sent through Redis and executed by the worker process.
                from config.celery import app

                result = app.send_task("backoffice.tasks.heartbeat")
                assert result.get(timeout=90)
                assert _heartbeat_runs(conn) >= 1

                # The rewards jobs run in the worker too, and a second run changes nothing.
                conn.execute("UPDATE rewards_voucher SET expires_at = now() - interval '1 day' "
                             "WHERE status = 'issued'")
                due = conn.execute("SELECT count(*) FROM rewards_voucher WHERE status = 'issued'").fetchone()[0]
                assert app.send_task("rewards.tasks.vouchers_expire_daily").get(timeout=60) == due
                assert app.send_task("rewards.tasks.vouchers_expire_daily").get(timeout=60) == 0
                issued = app.send_task("rewards.tasks.birthday_rewards_daily").get(timeout=60)
                assert app.send_task("rewards.tasks.birthday_rewards_daily").get(timeout=60)["issued"] == 0
                assert set(issued) == {"issued", "out_of_stock"}

                # Transactional mail is rendered where it is caused and sent by the worker, once per key.
                from members.mail import mail_render, preview_context

                rendered = mail_render("feedback/resolved", preview_context("feedback/resolved"), language="pl")
                payload = {"key": f"smoke-{os.getpid()}", "to": ["smoke@example.test"], "subject": rendered.subject,
                           "text": rendered.text, "html": rendered.html}
                assert app.send_task("members.tasks.mail_deliver", kwargs=payload).get(timeout=60) is True
                assert app.send_task("members.tasks.mail_deliver", kwargs=payload).get(timeout=60) is False
                [sent] = list(mailbox.iterdir())
                message = email.message_from_string(sent.read_text().split("\n-----", 1)[0].strip() + "\n")
                assert message["To"] == "smoke@example.test"
                html = next(p for p in message.walk() if p.get_content_type() == "text/html")
                assert '<html lang="pl">' in html.get_payload(decode=True).decode()

                # Beat sends the scheduled heartbeat too.
                first = _heartbeat_runs(conn)
                wait_for(lambda: _heartbeat_runs(conn) > first, timeout=60, what="a heartbeat sent by beat")

                status, body = wait_for(lambda: _try_get(f"http://127.0.0.1:{port}/healthz"),
                                        timeout=30, what="the web server")
                assert status == 200, body
                report = json.loads(body)
                assert report["status"] == "healthy"
                assert report["checks"]["worker"]["ok"] and report["checks"]["beat"]["ok"], report
                assert b"smoke-" not in body  # the worker's host name is for staff only
                assert _get(f"http://127.0.0.1:{port}/healthz/live") == (200, b'{"status": "ok"}')
                status, body = _get(f"http://127.0.0.1:{port}/healthz/ready")
                assert status == 200 and json.loads(body)["status"] == "ok", body

                status, body = _get(f"http://127.0.0.1:{port}/")
                assert status == 200 and b"Join for free" in body
                status, body = _get(f"http://127.0.0.1:{port}/api/v1/me/")
                assert status == 401 and json.loads(body)["code"] == "not_authenticated"
            except BaseException:
                for log in ("worker.log", "beat.log", "web.log"):
                    print(f"--- {log}\n{(tmp_path / log).read_text()[-4000:]}")
                raise
            finally:
                for proc in (web, beat, worker):
                    stop(proc)
