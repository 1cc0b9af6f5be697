"""Who may call what: customers (session) versus integration clients (token, with scopes) versus staff."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

from members.auth import IntegrationPrincipal
from members.selectors import member_for_user


class IsMember(BasePermission):
    """A logged-in customer with a member record, on a session (never an integration token)."""

    message = gettext_lazy("This endpoint is for logged-in members; integration tokens cannot use it.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, IntegrationPrincipal) or not user.is_authenticated:
            return False
        member = member_for_user(user=user)
        if member is None:
            self.message = _("This account is not a loyalty member.")
            return False
        request.member = member
        return True


def required_scope(view, method: str) -> str | None:
    """The scope the view's `token_scopes` names for this HTTP method (HEAD and OPTIONS as GET)."""
    scopes = getattr(view, "token_scopes", None) or {}
    if method in ("HEAD", "OPTIONS"):
        method = "GET" if "GET" in scopes else next(iter(scopes), method)
    return scopes.get(method)


class IsIntegration(BasePermission):
    """An integration client authenticated with an active API token that holds the scope the view names for
    the request's method (`token_scopes = {"GET": Scope.MEMBERS_READ, ...}`). A method the view names no scope
    for is refused: a new endpoint cannot be reached by a token until it says which scope it needs."""

    message = gettext_lazy("This endpoint is for integration clients with an API token.")

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.user, IntegrationPrincipal):
            return False
        scope = required_scope(view, request.method)
        if scope is None or not request.user.token.has_scope(scope):
            self.message = (_("This API token lacks the “%(scope)s” scope.") % {"scope": scope} if scope
                            else _("No API token may call this method."))
            self.code = "insufficient_scope"
            return False
        return True


class IsStaffWithPermission(BasePermission):
    """A staff user (session) holding the Django permission the view names in `staff_permission`."""

    message = gettext_lazy("You do not have permission to see this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, IntegrationPrincipal) or not (user and user.is_authenticated and user.is_staff):
            return False
        perm = getattr(view, "staff_permission", None)
        return bool(perm) and user.has_perm(perm)


class IsStaffWithPermissionOrIntegration(BasePermission):
    """A staff user holding the view's `staff_permission`, or an integration token holding the scope the view's
    `token_scopes` names (the metrics and campaign-results endpoints). A refusal carries the message (and code) of
    the check that refused."""

    def has_permission(self, request, view) -> bool:
        checker = IsIntegration() if isinstance(request.user, IntegrationPrincipal) else IsStaffWithPermission()
        allowed = checker.has_permission(request, view)
        if not allowed:
            self.message = checker.message
            self.code = getattr(checker, "code", None)
        return allowed
