from allauth.account.decorators import secure_admin_login
from django.contrib import admin

from backoffice.models import Heartbeat

admin.site.site_header = "Fidelio back office"
admin.site.site_title = "Fidelio back office"
admin.site.index_title = "Run the loyalty program"
admin.site.site_url = "/"
# Staff log in through allauth (rate limits, e-mail login); non-staff are refused.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.enable_nav_sidebar = True


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at", "worker", "runs"]
    readonly_fields = ["name", "last_run_at", "worker", "runs"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from backoffice.admin import metrics  # noqa: E402,F401,I001  (registers the MetricSnapshot admin)
from backoffice.admin import newsletters  # noqa: E402,F401  (registers the newsletter admin)
