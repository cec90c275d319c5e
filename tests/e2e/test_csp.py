"""The Content-Security-Policy as Chromium enforces it: the pages, the admin and the Swagger
UI run with no violation, and the Swagger UI renders its operations offline (every request
to anything but loopback is refused and recorded)."""

import re

import pytest

from tests.e2e.helpers import sign_in
from tests.factories import TEST_PASSWORD, AdminFactory

pytestmark = pytest.mark.django_db(transaction=True)

LOOPBACK = re.compile(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/")


def watched(page) -> dict:
    """Records CSP violations and refuses (and records) every request off loopback."""
    seen = {"violations": [], "external": []}

    def refuse(route):
        seen["external"].append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])"), refuse)
    page.on(
        "console",
        lambda msg: "Content Security Policy" in msg.text and seen["violations"].append(msg.text),
    )
    return seen


def test_the_swagger_ui_renders_its_operations_offline(new_page, live_server):
    page = new_page()
    seen = watched(page)
    page.goto("/api/v1/docs/")
    operations = page.locator(".opblock")
    operations.first.wait_for(state="visible")
    assert operations.count() > 10
    assert page.locator(".opblock-summary-path", has_text="/api/v1/health").count() == 1
    assert seen == {"violations": [], "external": []}
    assert page.errors == []


@pytest.mark.usefixtures("stripe_pages")
def test_the_pages_and_the_admin_run_without_a_policy_violation(new_page):
    admin = AdminFactory(email="root@example.com")
    page = new_page()
    seen = watched(page)
    for path in ("/", "/login/", "/signup/", "/admin/login/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    sign_in(page, admin.email, TEST_PASSWORD)
    for path in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{admin.pk}/change/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.locator("#content").count() == 1
    assert seen == {"violations": [], "external": []}
    assert page.errors == []
