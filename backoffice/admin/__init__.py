from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Fidelio back office")
admin.site.site_title = _("Fidelio back office")
admin.site.index_title = _("Run the loyalty program")
admin.site.site_url = "/"
# Staff log in through allauth (rate limits, e-mail login); non-staff are refused.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.enable_nav_sidebar = True


from backoffice.admin import health  # noqa: E402,F401,I001  (registers the Heartbeat admin)
from backoffice.admin import metrics  # noqa: E402,F401  (registers the MetricSnapshot admin)
from backoffice.admin import newsletters  # noqa: E402,F401  (registers the newsletter admin)
