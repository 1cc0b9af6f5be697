"""E-mail previews for staff: every transactional message (members.mail.MESSAGES) in every language, rendered
from its sample context with the templates the members receive. Needs `backoffice.view_newsletter`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from members.mail import MESSAGES, mail_render, preview_context

PERMISSION = "backoffice.view_newsletter"


def _check(request, *, language: str | None = None, message: str | None = None) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    if language is not None and language not in dict(settings.LANGUAGES):
        raise Http404(_("No such language."))
    if message is not None and message not in MESSAGES:
        raise Http404(_("No such message."))


def emails_view(request):
    _check(request)
    return render(request, "backoffice/emails.html", {
        **admin.site.each_context(request), "title": _("E-mail previews"), "messages_list": MESSAGES.values(),
        "languages": settings.LANGUAGES})


def email_preview_view(request, language: str, message: str):
    _check(request, language=language, message=message)
    rendered = mail_render(message, preview_context(message), language=language)
    return render(request, "backoffice/email_preview.html", {
        **admin.site.each_context(request), "title": _("E-mail preview"), "message": MESSAGES[message],
        "language": language, "language_name": dict(settings.LANGUAGES)[language], "rendered": rendered,
        "languages": settings.LANGUAGES})


def email_preview_html_view(request, language: str, message: str):
    """The HTML part alone, as a mail client shows it (its own page: the CSP forbids framing)."""
    _check(request, language=language, message=message)
    rendered = mail_render(message, preview_context(message), language=language)
    return HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
