"""Settings for the test suite: the real settings, with faster hashing and in-memory mail.

The database and Redis are real (DATABASE_URL / REDIS_URL, exported by `make test`, or your own).
"""

import os

# Tests run with development security defaults (no HTTPS redirect) whatever servers they use.
os.environ.setdefault("DJANGO_DEBUG", "True")

from config.settings import *  # noqa: F403
from config.settings import CACHES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
FIDELIO_MAIL_VIA_CELERY = False  # mail_queue sends at once in the test process (the smoke test uses Celery)
CACHES["default"]["KEY_PREFIX"] = "fidelio-test"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
