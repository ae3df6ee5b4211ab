from django.urls import path

from . import views

app_name = "intacct_sandbox"
urlpatterns = [
    path("xmlgw.phtml", views.gateway, name="gateway"),
]
