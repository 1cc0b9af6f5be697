"""Who may call what: customers (session) versus integration clients (token)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from members.auth import IntegrationPrincipal
from members.selectors import member_for_user


class IsMember(BasePermission):
    """A logged-in customer with a member record, on a session (never an integration token)."""

    message = "This endpoint is for logged-in members; integration tokens cannot use it."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, IntegrationPrincipal) or not user.is_authenticated:
            return False
        member = member_for_user(user=user)
        if member is None:
            self.message = "This account is not a loyalty member."
            return False
        request.member = member
        return True


class IsIntegration(BasePermission):
    """An integration client authenticated with an active API token."""

    message = "This endpoint is for integration clients with an API token."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, IntegrationPrincipal)
