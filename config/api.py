"""API plumbing: the error format, pagination and the JSON fallbacks for Django's own 404/500.

Every error leaves the API as ``{"code": "...", "detail": "...", "field": "..."}`` (``field`` only when
one field is to blame; validation errors also carry ``errors``: every field with its messages).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import connections
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from config.exceptions import DomainError

if TYPE_CHECKING:
    from django.http import HttpRequest

log = logging.getLogger(__name__)

# DRF exception class -> stable code. Anything else keeps DRF's own default_code.
_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


def error_body(code: str, detail: object, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The error body. `detail` becomes a str here: a lazy text (a DomainError's gettext_lazy default_detail)
    is translated into the language active now — the request's — and never reaches the JSON encoder lazy."""
    body: dict[str, Any] = {"code": code, "detail": str(detail)}
    if field:
        body["field"] = field
    body.update(extra)
    return body


def first_validation_message(data: Any) -> tuple[str | None, str]:
    """(field, message) of the first validation message, walking nested dicts and lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            sub_field, message = first_validation_message(value)
            if key in ("non_field_errors", "detail"):
                return sub_field, message
            return (f"{key}.{sub_field}" if sub_field else key), message
    if isinstance(data, list) and data:
        return first_validation_message(data[0])
    return None, str(data)


def _rollback(context: Mapping[str, Any]) -> None:
    """ATOMIC_REQUESTS: a refused request writes nothing — roll back the request's transaction. Views marked
    non_atomic_requests (they run their own short transactions) have none to roll back; any atomic block
    around them belongs to their caller (a test, for one) and is left alone."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    non_atomic: Collection[str] = getattr(match.func, "_non_atomic_requests", set()) if match else set()
    for db in connections.all():
        if db.settings_dict["ATOMIC_REQUESTS"] and db.in_atomic_block and db.alias not in non_atomic:
            db.set_rollback(True)


def _drf_response(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's own exception_handler, with our rollback rule."""
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    # Only some exceptions carry these (NotAuthenticated's auth_header, Throttled's wait).
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if wait := getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(wait))
    data = exc.detail if isinstance(exc.detail, (list, dict)) else {"detail": exc.detail}
    _rollback(context)
    return Response(data, status=exc.status_code, headers=headers)


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        _rollback(context)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:  # a rate limit (config.throttling.RateLimited)
            return Response(error_body(exc.code, exc.detail, exc.field, retry_after=retry_after),
                            status=exc.status_code, headers={"Retry-After": str(retry_after)})
        return Response(error_body(exc.code, exc.detail, exc.field, **exc.extra), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        _rollback(context)
        return Response(
            error_body("payload_too_large",
                       _("The request body is larger than 1 MB; send fewer items per call."), "body"),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = _drf_response(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):  # the one means the other
        return None  # unexpected: Django's handler500 answers (JSON under /api/)

    code = next((c for cls, c in _CODES.items() if type(exc) is cls), None) or exc.default_code
    # A code given where the exception was raised (a permission's `code`, e.g. insufficient_scope) wins.
    own = getattr(exc.detail, "code", None) if isinstance(exc.detail, exceptions.ErrorDetail) else None
    if own and own != getattr(exc, "default_code", None):
        code = own
    if isinstance(exc, exceptions.ValidationError):
        field, message = first_validation_message(exc.detail)
        body = error_body("invalid", message, field, errors=exc.detail)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(code, _("The request body could not be parsed: %(reason)s") % {"reason": exc.detail})
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = error_body(code, detail)
        wait = getattr(exc, "wait", None)  # Throttled's, missing from its stubs
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            body["retry_after"] = int(wait)
    response.data = body
    return response


class Pagination(PageNumberPagination):
    """`?page_size=` is a whole number from 1 (larger ones are cut to max_page_size); anything else is 400
    `invalid_page_size`, not silently the default (the schema says integer, and schemathesis checks it)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise DomainError(_("page_size is a whole number from 1 to %(max)d.") % {"max": self.max_page_size},
                              field=self.page_size_query_param, code="invalid_page_size")
        return super().get_page_size(request)


# --- Django-level fallbacks (URLs no view matched, crashes) --------------------------------------------
def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/healthz/")) or request.path == "/healthz"


def api_not_found(request, *args, **kwargs):
    """Any path under /api/ that no endpoint matches: the JSON 404 in every mode (with DEBUG on, Django would
    answer its HTML debug page instead of handler404)."""
    return JsonResponse(error_body("not_found", _("No such endpoint.")), status=status.HTTP_404_NOT_FOUND)


def json_or_html_404(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", _("No such endpoint.")), status=status.HTTP_404_NOT_FOUND)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception, template_name="404.html")


def json_or_html_500(request):
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side. It has been logged.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error

    return server_error(request, template_name="500.html")


def json_or_html_400(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("bad_request", _("Bad request.")), status=400)
    from django.views.defaults import bad_request

    return bad_request(request, exception, template_name="400.html")


def json_or_html_403(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("permission_denied", _("You may not do this.")), status=403)
    from django.views.defaults import permission_denied

    return permission_denied(request, exception, template_name="403.html")
