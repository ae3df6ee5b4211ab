from django.urls import path

from . import views

app_name = "intacct_notifications"
urlpatterns = [
    path("<int:connection_id>/<str:secret>/payments/", views.payment_notification, name="payments"),
    # The same endpoint with the secret in the X-Ledgerline-Secret header instead of the URL.
    path("<int:connection_id>/payments/", views.payment_notification, name="payments_header"),
]
