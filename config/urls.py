from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config import health, views
from intacct.monitoring.views import status_json

admin.site.site_header = "Ledgerline"
admin.site.site_title = "Ledgerline"
admin.site.index_title = "Accounting and Sage Intacct"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("intacct/status.json", status_json, name="intacct_status"),
    path("intacct/notify/", include("intacct.notifications.urls")),
    # Browsers and tools that ask for /favicon.ico get the project's icon, not a 404 warning.
    path("favicon.ico", views.favicon),
]

handler403 = "config.views.permission_denied"

if settings.INTACCT_SANDBOX:
    urlpatterns.append(path("intacct-sandbox/", include("intacct.sandbox.urls")))
