"""Content Security Policy (django-csp): the header on every kind of response, and no inline script in templates.

The policy allows the site's own origin only: no 'unsafe-inline' or 'unsafe-eval' for scripts, no other origin
(host, scheme or wildcard) in any directive. tests/browser/test_csp_browser.py checks in Chromium that the pages
then really work (admin, dashboard, API docs, portal) without a single violation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import RewardFactory

pytestmark = pytest.mark.django_db

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# The only sources a directive may list: keywords, data: images and nothing that names another origin.
ALLOWED_SOURCES = {"'self'", "'none'", "data:", "'unsafe-inline'"}


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}; fails when it is missing."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy header on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_strict(response) -> dict[str, list[str]]:
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', 'unsafe-eval', nonce or hash
    assert directives["style-src"] == ["'self'"]  # <style> elements and sheets: files only
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    for name, sources in directives.items():
        assert set(sources) <= ALLOWED_SOURCES, f"{name} lists {sources}"
        assert name in {"style-src-attr"} or "'unsafe-inline'" not in sources, f"{name} allows inline code"
    assert directives["img-src"] == ["'self'", "data:"]
    return directives


def test_portal_page(client, member):
    RewardFactory()
    client.force_login(member.user)
    response = client.get("/rewards/")
    assert response.status_code == 200
    assert_strict(response)


def test_public_portal_page_and_login_form(client):
    assert_strict(client.get("/"))
    assert_strict(client.get("/accounts/login/"))


def test_admin_page(client, staff_user):
    client.force_login(staff_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert_strict(response)
    response = client.get("/admin/feedback/feedbackrecord/add/")
    assert response.status_code == 200
    assert_strict(response)


def test_api_docs_page_and_its_separate_init_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_strict(response)
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts), scripts  # nothing inline for the policy to block
    assert "<style" not in html
    init = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', html)
    assert init, "the Swagger UI init script is not a separate request"
    script = client.get(init.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()  # same origin: connect-src 'self' covers it


def test_api_json_response(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert_strict(response)


def test_not_found_pages(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert_strict(response)
    response = client.get("/api/v1/no-such-endpoint/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert_strict(response)


# --- templates: no inline script anywhere ----------------------------------------------------------------------
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
SRC_ATTR = re.compile(r"\ssrc\s*=", re.IGNORECASE)
JSON_TYPE = re.compile(r"""\stype\s*=\s*["']?application/json\b""", re.IGNORECASE)
HTML_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
EVENT_ATTR = re.compile(r"""\son[a-z]+\s*=""", re.IGNORECASE)
JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def inline_code(source: str) -> list[str]:
    """Inline scripts, inline event handlers and javascript: URLs in a template's source."""
    found = []
    for match in SCRIPT_TAG.finditer(source):
        attrs = match.group(1)
        if not SRC_ATTR.search(attrs) and not JSON_TYPE.search(attrs):
            found.append(match.group(0))
    found += [tag.group(0) for tag in HTML_TAG.finditer(source) if EVENT_ATTR.search(tag.group(0))]
    found += [m.group(0) for m in JS_URL.finditer(source)]
    return found


@pytest.mark.parametrize("snippet", [
    "<script>alert(1)</script>",
    '<script type="text/javascript">go()</script>',
    '<script type="module">go()</script>',
    '<button type="button" onclick="go()">Go</button>',
    "<form method=post onsubmit='return check()'>",
    '<input type="checkbox" class="toggle"\n       onchange="toggle(event)" checked>',
    '<a href="javascript:void(0)">x</a>',
])
def test_the_template_scan_finds_inline_code(snippet):
    assert inline_code(snippet)


@pytest.mark.parametrize("snippet", [
    '<script src="{% static \'js/dashboard.js\' %}"></script>',
    '<script id="x" src="/static/a.js" data-help="{{ help }}" defer></script>',
    '<script type="application/json" id="data">{}</script>',
    '{{ charts|json_script:"dashboard-data" }}',
    '<p class="muted">{{ c.description }}</p>',
    '<a href="/" {% if view_name == "portal:home" %}aria-current="page"{% endif %}>Home</a>',
])
def test_the_template_scan_passes_scripts_from_files_and_data(snippet):
    assert inline_code(snippet) == []


def test_no_template_has_inline_script_or_event_handler():
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert len(templates) > 20  # the scan sees the project's templates
    offenders = {str(path.relative_to(TEMPLATES_DIR)): found for path in templates
                 if (found := inline_code(path.read_text(encoding="utf-8")))}
    assert offenders == {}, "move these into static/js/ (data through json_script or data- attributes)"
