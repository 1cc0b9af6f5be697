"""Settings for the benchmark web server: Fidelio's real settings, plus the minimal baseline view's URL.

Used only by `bench/run.py` (gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings), so both the
purchase API and the baseline view are served by the same processes with the same settings.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405 - the conventional baseline's unmanaged models
