"""The unsubscribe page a newsletter links to. The signed link is the credential: no login needed."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from backoffice.services import newsletters
from config.exceptions import DomainError


@csrf_exempt  # RFC 8058 one-click POSTs come from mail providers without a CSRF token; the signed link suffices
@require_http_methods(["GET", "POST"])
def newsletter_unsubscribe(request, token: str):
    """GET shows a confirmation (link scanners must not unsubscribe anyone); POST — the form or a mail
    client's `List-Unsubscribe=One-Click` — withdraws marketing consent."""
    try:
        if request.method == "POST":
            newsletters.newsletter_unsubscribe(token=token)
            done = True
        else:
            newsletters.unsubscribe_target_get(token=token)
            done = False
    except newsletters.UnsubscribeLinkExpired as exc:  # 410, with how to stop newsletters without the link
        return render(request, "portal/newsletter_unsubscribe.html", {"error": exc, "expired": True},
                      status=exc.status_code)
    except DomainError as exc:
        return render(request, "portal/newsletter_unsubscribe.html", {"error": exc}, status=exc.status_code)
    # Whoever holds the link (a forwarded mail, a link scanner) learns nothing about the member: no address.
    return render(request, "portal/newsletter_unsubscribe.html", {"done": done})
