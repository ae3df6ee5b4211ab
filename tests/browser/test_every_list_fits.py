"""Every list page of the admin, and the page of one object of each, with the demo company in
it, fits a 1366 px window: nothing scrolls sideways and no list or inline table hides its
right-hand columns."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page

from accounting.services import demo_seed
from intacct.sandbox.services import sandbox_seed

from .conftest import loud_lines
from .test_demo_walkthrough import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_list_and_object_page_fits_the_window(live_server, page: Page, widths, console):
    demo_seed(loads=40)
    sandbox_seed()
    get_user_model().objects.create_superuser("admin", "admin@example.com", PASSWORD)
    log_in(page, live_server.url, "admin")
    lists = sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    )

    objects = sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[first])
        for model in admin.site._registry
        if (first := model._default_manager.order_by("pk").values_list("pk", flat=True).first())
    )
    assert len(objects) > 20

    for path in [*lists, *objects]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path

    page.wait_for_timeout(200)  # the last page's width report
    assert widths.paths() >= {*lists, *objects}
    if widths.too_wide():
        pytest.fail("Pages wider than the window:\n" + "\n".join(widths.too_wide()))
    assert not loud_lines(console.getvalue()), console.getvalue()
