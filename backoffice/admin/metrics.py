"""Read-only admin for metric snapshots, with a button that queues the rollup on demand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backoffice.models import MetricSnapshot
from backoffice.services import rollup_progress_get, rollup_progress_set
from backoffice.tasks import metrics_rollup_daily
from config.periods import local_date


@admin.register(MetricSnapshot)
class MetricSnapshotAdmin(admin.ModelAdmin):
    list_display = ["as_of", "period", "period_start", "period_end", "customers", "orders", "revenue", "created_at"]
    list_filter = ["period", "as_of"]
    date_hierarchy = "as_of"
    readonly_fields = ["as_of", "period", "period_start", "period_end", "metrics", "created_at"]

    @admin.display(description=_("customers"))
    def customers(self, obj):
        return obj.metrics.get("customers")

    @admin.display(description=_("orders"))
    def orders(self, obj):
        return obj.metrics.get("orders")

    @admin.display(description=_("revenue"))
    def revenue(self, obj):
        return obj.metrics.get("revenue")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_view), name="backoffice_metricsnapshot_run")
        return [run, *super().get_urls()]

    def run_view(self, request):
        """Queue the rollup for today (program time); the snapshots appear when the worker is done."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        day = local_date()
        rollup_progress_set(as_of=day, step="queued", done=0)
        metrics_rollup_daily.delay(as_of=day.isoformat())
        self.message_user(request, gettext("Metric rollup for %(day)s queued; this page shows its progress.")
                          % {"day": day}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:backoffice_metricsnapshot_changelist"))

    def changelist_view(self, request, extra_context=None):
        progress = rollup_progress_get()
        if progress and request.method == "GET":
            if progress["step"] == "finished":
                self.message_user(request, gettext("Last rollup (for %(day)s) finished in %(seconds).1f s.")
                                  % {"day": progress["as_of"], "seconds": progress["seconds"]}, messages.INFO)
            else:
                self.message_user(request, gettext("Rollup for %(day)s running: %(done)s of %(total)s steps done "
                                                   "(%(step)s). Refresh to follow.")
                                  % {"day": progress["as_of"], "done": progress["done"], "total": progress["total"],
                                     "step": progress["step"]}, messages.WARNING)
        return super().changelist_view(request, extra_context)
