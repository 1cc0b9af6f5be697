"""Read-only admin for the Celery heartbeat (what /healthz reads)."""

from django.contrib import admin

from backoffice.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at", "worker", "runs"]
    readonly_fields = ["name", "last_run_at", "worker", "runs"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
