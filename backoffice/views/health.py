"""Health endpoints (no login, no request-wide transaction: each must answer while the database is down).

- /healthz/live: the process answers. No database, no cache. For a process supervisor.
- /healthz/ready: database and cache reachable, 200 or 503. For the load balancer.
- /healthz: everything, with the worker and beat heartbeats apart, 200 or 503. For monitoring.
"""

from django.db import DatabaseError, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from backoffice.selectors import health_get, health_ready_get


def _may_see_hosts(request) -> bool:
    """Staff who may view heartbeats see the worker's host name; anyone else sees none."""
    try:
        user = request.user  # the session lookup needs the database, which may be the thing that is down
        return bool(user.is_authenticated and user.is_staff and user.has_perm("backoffice.view_heartbeat"))
    except DatabaseError:
        return False


@transaction.non_atomic_requests
@never_cache
@require_safe
def healthz_live(request):
    """The process answers: 200 {"status": "ok"}. Touches neither the database nor the cache."""
    return JsonResponse({"status": "ok"})


@transaction.non_atomic_requests
@never_cache
@require_safe
def healthz_ready(request):
    """Database and cache reachable: 200, else 503. Stale Celery heartbeats do not count."""
    report = health_ready_get()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@transaction.non_atomic_requests
@never_cache
@require_safe
def healthz(request):
    """Database, cache, broker, worker heartbeat and beat heartbeat: 200 when all are fine, 503 otherwise."""
    report = health_get(include_hosts=_may_see_hosts(request))
    return JsonResponse(report, status=200 if report["status"] == "healthy" else 503)
