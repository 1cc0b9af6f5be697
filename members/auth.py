"""API authentication for integration clients (the shop's server, POS, chat tool).

Header: ``Authorization: Bearer <token>`` (``Token <token>`` is accepted too). The request's user is an
:class:`IntegrationPrincipal`, never a login user, so customer endpoints cannot be reached with a token.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from members.models import IntegrationToken
from members.services import integration_token_authenticate


class IntegrationPrincipal:
    """Stands in for request.user on token-authenticated requests."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: IntegrationToken):
        self.token = token

    def __str__(self) -> str:
        return f"integration:{self.token.name}"

    def has_perm(self, perm, obj=None) -> bool:
        return False

    def get_username(self) -> str:
        return str(self)


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header: use 'Bearer <token>'."))
        try:
            raw = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token contains invalid characters.")) from exc
        token = integration_token_authenticate(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API token."))
        if token.is_expired():
            raise exceptions.AuthenticationFailed(
                _("This API token expired at %(expired_at)s; ask for a new one.")
                % {"expired_at": token.expires_at.isoformat()}, code="token_expired")
        return IntegrationPrincipal(token), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
