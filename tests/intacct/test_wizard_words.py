"""The wizard's labels in the seeds' words (../shared/seeds, article 2, "Steps" and "How to
use a template")."""

from django.utils.html import escape

from .test_wizard import credentials, freight, url

__all__ = ["freight"]


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_each_step_uses_the_seeds_labels(sandbox, freight, admin_client):
    admin_client.post(url("wizard_start"), {"subsidiary": freight.pk})
    connection = freight.intacct_connection
    destination = text(admin_client.get(url("wizard_destination", connection.pk)))
    assert "Matching child entities (Recommended)" in destination
    assert "Top-level entity" in destination

    admin_client.post(
        url("wizard_destination", connection.pk), {"posting_destination": "matching_entity"}
    )
    credentials_page = text(admin_client.get(url("wizard_credentials", connection.pk)))
    assert "From an existing integration" in credentials_page
    assert "Existing integration to use as a template" in credentials_page

    credentials(admin_client, connection)
    assert "<h1>Connect Sage Intacct: AP Settings</h1>" in text(
        admin_client.get(url("wizard_ap", connection.pk))
    )
    assert "<h1>Connect Sage Intacct: AR Settings</h1>" in text(
        admin_client.get(url("wizard_ar", connection.pk))
    )
    advanced = text(admin_client.get(url("wizard_advanced", connection.pk)))
    for label in (
        "Default Payment Terms",
        "Cross Subsidiary Billing",
        "Custom Payment Terms",
        "Dimension Mappings",
        "Custom Field Mappings",
    ):
        assert escape(label) in advanced, label
