from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.selectors import health_get


@never_cache
@require_GET
def healthz(request):
    """Database, broker and last heartbeat. 200 when all are fine, 503 otherwise. No secrets exposed."""
    report = health_get()
    return JsonResponse(report, status=200 if report["status"] == "healthy" else 503)
