"""Where a page sends the browser back to comes from the form: only a path on this site is
followed; anything else (another host, a URL name, a header break) goes to the connection."""

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.parametrize(
    "back_to",
    [
        "\r\nSet-Cookie: session=stolen",
        "/admin/\r\nSet-Cookie: session=stolen",
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "admin:index",
        "",
    ],
)
def test_refresh_goes_back_only_to_a_path_on_this_site(connection, admin_user, back_to):
    browser = Client(raise_request_exception=False)
    browser.force_login(admin_user)

    response = browser.post(
        reverse("admin:intacct_refresh", args=[connection.pk]), {"next": back_to}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:intacct_connection_change", args=[connection.pk])


def test_refresh_goes_back_to_the_step_it_was_asked_from(connection, admin_client):
    step = reverse("admin:intacct_wizard_advanced", args=[connection.pk])

    response = admin_client.post(
        reverse("admin:intacct_refresh", args=[connection.pk]), {"next": step}
    )

    assert response["Location"] == step
