"""Back-office pages, one module per sub-domain: `health` (the health endpoints), `newsletters` (the unsubscribe
page) and `dashboard` (the staff metrics dashboard, with its `urlpatterns`). The views are re-exported here."""

from backoffice.views.dashboard import dashboard_view, segment_view
from backoffice.views.health import healthz, healthz_live, healthz_ready
from backoffice.views.newsletters import newsletter_unsubscribe

__all__ = [
    "dashboard_view",
    "healthz",
    "healthz_live",
    "healthz_ready",
    "newsletter_unsubscribe",
    "segment_view",
]
