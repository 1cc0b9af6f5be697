"""The language of a logged-in member's pages.

Django's LocaleMiddleware picks the language from the language cookie (the switcher on every page sets it) or the
browser's Accept-Language. A member who chose a language is served in it on any browser: at log-in their
`Member.language` goes into the session (members.adapters.on_logged_in), and this middleware, after
authentication, prefers it to Accept-Language. No query: the session is read for authentication anyway.

API calls that send Accept-Language get their error texts in that language; without the header, a member's
session falls back to their language.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

MEMBER_LANGUAGE_SESSION_KEY = "member_language"


class MemberLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and not (
                request.path.startswith("/api/") and "HTTP_ACCEPT_LANGUAGE" in request.META):
            session = getattr(request, "session", None)
            language = session.get(MEMBER_LANGUAGE_SESSION_KEY) if session is not None else None
            if language in self.languages:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
