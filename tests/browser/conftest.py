"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

Never a browser that Playwright downloads: Chromium is Debian's (/usr/bin/chromium, installed by `make test`
when it is missing). One Chromium for all the browser tests, a fresh context (cookies, storage) per test.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="package")
def browser() -> Browser:
    """One Chromium for the browser tests (this package), stopped when they are done.

    While Playwright's sync API is running, the test thread has a running asyncio loop, so Django refuses ORM
    calls there (SynchronousOnlyOperation). The factories and the checks in the database do need them, so
    DJANGO_ALLOW_ASYNC_UNSAFE is set for exactly as long as Playwright runs, and then put back as it was, so
    the rest of the suite keeps Django's check and runs without that loop.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (or: apt-get install chromium)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _program(settings):
    """No welcome bonus: balances are what the test funds (the live server shares these settings)."""
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 12


class PageWatch:
    """What went wrong while a test's pages ran: server errors (5xx) and uncaught JavaScript errors."""

    def __init__(self) -> None:
        self.server_errors: list[str] = []
        self.js_errors: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("response", lambda r: r.status >= 500 and self.server_errors.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda exc: self.js_errors.append(str(exc)))
        return page

    def check(self) -> None:
        assert self.server_errors == [], f"server errors: {self.server_errors}"
        assert self.js_errors == [], f"JavaScript errors: {self.js_errors}"


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def new_page(browser, live_server, watch):
    """Opens pages in fresh contexts on the live server (desktop size unless told otherwise); checks at the
    end that no page met a server error or a JavaScript error."""
    contexts = []

    def open_page(**context_options) -> Page:
        context_options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return watch.attach(context.new_page())

    yield open_page
    for context in contexts:
        context.close()
    watch.check()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


def log_in(page: Page, member, *, next_url: str = "") -> None:
    """Log in through allauth's real form (e-mail and password), as a member would."""
    page.goto("/accounts/login/" + (f"?next={next_url}" if next_url else ""))
    page.locator("input[name=login]").fill(member.user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(next_url or "/") + r"$"))


def shown_points(page: Page, selector: str = "[data-testid=balance]") -> int:
    """A points figure as the page shows it ("1,200" → 1200)."""
    return int(re.sub(r"[^\d-]", "", page.locator(selector).first.inner_text()))
