"""OpenAPI generation (drf-spectacular): each integration operation says which token scope it needs, and every
operation documents the error responses it can give, with the one error body of config.api.error_body.

The error statuses are data, not hand-written per view: 401/403 wherever a caller is authenticated (a bad
token is 401 even on a public endpoint, a session without its CSRF token is 403), 429 everywhere (every view is
throttled), 400 where there is a request body or a query or header parameter, 415 where there is a body, 404
where the path has parameters or the list is paginated (`?page=` past the end). What a view's services can
refuse beyond that (404 for an unknown id named in the body, 409 conflicts, 410 expired) is the view's
`error_statuses = {"POST": (404, 409)}`.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "Invalid request (`invalid` with `errors` per field, or a rule's own code, e.g. `invalid_filter`).",
    401: "Not authenticated, or an unknown, revoked or expired token (`not_authenticated`, "
         "`authentication_failed`, `token_expired`).",
    403: "Not allowed (`permission_denied`, `insufficient_scope`, a missing CSRF token).",
    404: "Not found (`not_found` or the resource's own code, e.g. `member_not_found`).",
    409: "Conflicts with the current state (stock, balance, an idempotency key used with another body, "
         "`member_exists` with the existing member's `id`).",
    410: "Expired (`voucher_expired`, `link_expired`, ...).",
    415: "The body is not `application/json` (`unsupported_media_type`).",
    429: "Rate limited (`throttled`, `rate_limited`): `retry_after` seconds, also in `Retry-After`.",
}


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers (config.api.error_body)."""

    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. `insufficient_points`.")
    detail = serializers.CharField(help_text="Human-readable, in the caller's language.")
    field = serializers.CharField(required=False, help_text="The one field to blame, when there is one.")
    errors = serializers.DictField(child=serializers.JSONField(), required=False,
                                   help_text="Validation errors (400 `invalid`): every field with its messages.")
    retry_after = serializers.IntegerField(required=False, help_text="429: seconds until a retry may succeed.")
    id = serializers.IntegerField(required=False, help_text="409 `member_exists`: the existing member's id.")


def error_statuses(*, method: str, view, operation: dict) -> list[int]:
    """The error statuses an operation documents (see the module docstring)."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses = {429}
    if getattr(view, "authentication_classes", None):
        statuses |= {401, 403}
    if has_body or any(p.get("in") in ("query", "header") for p in parameters):
        statuses.add(400)
    if has_body:
        statuses.add(415)
    if any(p.get("in") == "path" for p in parameters) or any(
            p.get("in") == "query" and p.get("name") == "page" for p in parameters):
        statuses.add(404)
    statuses.update((getattr(view, "error_statuses", None) or {}).get(method, ()))
    return sorted(statuses)


class FidelioAutoSchema(AutoSchema):
    def get_description(self) -> str:
        description = super().get_description()
        scopes = getattr(self.view, "token_scopes", None) or {}
        scope = scopes.get(self.method.upper())
        if scope:
            note = (f"Integration tokens need the `{scope}` scope; without it the answer is 403 "
                    f"`insufficient_scope`.")
            description = f"{description}\n\n{note}" if description else note
        return description

    def _map_basic_serializer(self, serializer, direction):
        """A serializer's `schema_optional_fields` are left out of `required` (drf-spectacular requires every
        read-only field in a response; these are only there for some callers)."""
        schema = super()._map_basic_serializer(serializer, direction)
        optional = getattr(serializer, "schema_optional_fields", ())
        if optional and schema.get("required"):
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in error_statuses(method=self.method, view=self.view, operation=operation):
            if str(status) not in responses:
                response = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
                responses[str(status)] = self._get_response_for_code(response, str(status))
        if "429" in responses:
            responses["429"]["headers"] = {"Retry-After": {
                "schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait."}}
        return operation
