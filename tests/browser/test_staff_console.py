"""What the bank's operations team does in the admin, in a real browser: find a customer and
everything of theirs, review and verify a new app with a second approver for a money-moving scope,
suspend an app and revoke a connection with a reason, filter and export the audit log. The audit
trail of each act is checked, and axe runs on every page of the console."""

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from bank.models import AuditEvent
from bank.services.cards import card_order
from connections.models import Application, Connection
from connections.services.connections import connection_grant
from tests.connections.oauth_helpers import make_application
from tests.factories import PASSWORD, StaffFactory, make_account, register_app

from .conftest import check_page

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def staff_log_in(page: Page, username: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="What do you need to do?")).to_be_visible()


def staff_log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()


@pytest.fixture
def world(alice, bob):
    StaffFactory(username="ops-anna", first_name="Anna", last_name="Ops")
    StaffFactory(username="ops-ben", first_name="Ben", last_name="Ops")
    main = make_account(alice, balance="250.00", description="Main")
    make_account(bob, balance="10.00")
    card_order(customer=alice, type="VIRTUAL", name_on_card="Alice", primary_account=main, actor=alice)
    app = make_application()
    connection_grant(user=alice, application=app, scopes=["accounts:read", "payments:read"], accounts=[main])
    return main


def test_find_a_customer_and_everything_of_theirs(page, world):
    main = world
    staff_log_in(page, "ops-anna")
    check_page(page, "admin-home")
    page.get_by_role("link", name="Customers").click()
    page.locator("#searchbar").fill(main.iban)
    page.get_by_role("button", name="Search").click()
    check_page(page, "admin-customers")
    expect(page.get_by_text("1 result")).to_be_visible()
    page.get_by_role("link", name="Alice Jansen").click()
    expect(page.get_by_text("250.00 EUR").first).to_be_visible()
    expect(page.get_by_role("link", name="Budget Buddy").first).to_be_visible()
    expect(page.get_by_text("Virtual card")).to_be_visible()
    check_page(page, "admin-customer")

    page.get_by_role("link", name="All of this customer's connections, with filters").click()
    expect(page.get_by_text("1 connection")).to_be_visible()
    check_page(page, "admin-connections")


def test_review_and_verify_a_new_app_with_a_second_approver_for_money(page, world, alice):
    application, _ = register_app(alice, "Pocket Planner", site="https://planner.example")
    staff_log_in(page, "ops-anna")
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("link", name="Pocket Planner")).to_be_visible()
    check_page(page, "admin-review-queue")
    page.get_by_role("link", name="Pocket Planner").click()
    check_page(page, "admin-review")
    page.get_by_label("Verified: the bank has checked who the developer is").check()
    page.get_by_label("payments:internal Move money between your own accounts").check()
    page.get_by_label("Reason").first.fill("Company register checked; partner contract signed")
    page.get_by_role("button", name="Record the review").click()
    expect(page.get_by_text("another member of staff must approve it")).to_be_visible()
    # The proposer cannot approve their own proposal.
    page.locator("#reason-1, textarea[name=reason]").last.fill("Me again")
    page.get_by_role("button", name="Approve request").click()
    expect(page.get_by_text("A scope that moves money needs a second member of staff")).to_be_visible()
    application.refresh_from_db()
    assert application.verified and "payments:internal" not in application.allowed_scope_list()
    staff_log_out(page)

    staff_log_in(page, "ops-ben")
    page.goto(f"/admin/connections/awaitingreview/{application.pk}/change/")
    page.locator("textarea[name=reason]").last.fill("Contract seen")
    page.get_by_role("button", name="Approve request").click()
    expect(page.get_by_text("Scope request approved")).to_be_visible()

    application.refresh_from_db()
    assert "payments:internal" in application.allowed_scope_list()
    assert application.verified_by.username == "ops-anna" and application.verified_at is not None
    trail = list(
        AuditEvent.objects.filter(application=application).order_by("id").values_list("action", "actor__username")
    )
    assert ("application.policy_changed", "ops-anna") in trail
    assert ("scope_request.created", "ops-anna") in trail
    assert ("scope_request.approved", "ops-ben") in trail


def test_suspend_an_app_with_a_reason(page, world):
    application = Application.objects.get(name="Budget Buddy")
    staff_log_in(page, "ops-anna")
    page.goto(f"/admin/connections/application/{application.pk}/change/")
    check_page(page, "admin-application")
    page.get_by_role("link", name="Suspend…").click()
    expect(page.get_by_text("Every connection to these apps ends at once (1 live now)")).to_be_visible()
    check_page(page, "admin-suspend-confirmation")
    page.get_by_label("Reason").fill("Phishing reports from three customers")
    page.get_by_role("button", name="Suspend applications").click()
    expect(page.get_by_text("Budget Buddy suspended; 1 connection(s) ended.")).to_be_visible()
    event = AuditEvent.objects.get(action="application.suspended")
    assert event.data["reason"] == "Phishing reports from three customers" and event.actor.username == "ops-anna"
    assert not Connection.objects.get().is_active


def test_revoke_a_connection_with_confirmation(page, world):
    connection = Connection.objects.get()
    staff_log_in(page, "ops-anna")
    page.goto(f"/admin/connections/connection/{connection.pk}/change/")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    check_page(page, "admin-connection")
    page.get_by_role("link", name="Revoke this connection…").click()
    page.get_by_label("Reason").fill("Customer asked by phone")
    page.get_by_role("button", name="Revoke connections").click()
    expect(page.get_by_text("Revoked:")).to_be_visible()
    event = AuditEvent.objects.get(action="connection.revoked")
    assert (event.actor_type, event.data["reason"]) == ("staff", "Customer asked by phone")


def test_filter_the_audit_log_by_typing_a_name_and_export_it(page, world, alice):
    staff_log_in(page, "ops-anna")
    page.goto("/admin/bank/auditevent/")
    check_page(page, "admin-audit-log")
    # The customer filter lists nobody until staff type.
    page.locator("#changelist-filter .select2-selection").first.click()
    page.locator(".select2-search__field").fill("alice")
    page.get_by_role("option", name="alice").click()
    page.wait_for_url(f"**customer__id__exact={alice.pk}**")
    shown = AuditEvent.objects.filter(customer=alice).count()
    expect(page.get_by_text(f"{shown} audit event")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Export these events (CSV)").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert len(rows) - 1 == shown and {row[4] for row in rows[1:]} == {"alice"}
    assert AuditEvent.objects.filter(action="audit.exported", actor__username="ops-anna").count() == 1
