"""The staff console, without a browser: what staff can and cannot change, the audit trail of each
staff act, four eyes for money, and the pages that find a customer and everything of theirs."""

import csv
import io

import pytest
from django.test import Client

from bank.core.errors import DomainError
from bank.models import AuditEvent, Card, CardStatus, Payment
from bank.services.cards import card_order
from connections import scopes
from connections.models import AccessToken, Application, Connection, Grant, RefreshToken, ScopeRequest
from connections.services.connections import connection_grant
from connections.services.vetting import (
    application_review,
    application_suspend,
    application_unsuspend,
    scope_request_approve,
    scope_request_reject,
)
from tests.connections.oauth_helpers import consent, exchange, make_application
from tests.factories import StaffFactory, main_and_savings, make_account, register_app, transfer_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(StaffFactory(username="ops-anna", first_name="Anna", last_name="Ops"))
    return client


@pytest.fixture
def connected(alice):
    main = make_account(alice, balance="100.00", description="Main")
    client = Client()
    make_application()
    tokens = exchange(client, consent(client, alice)).json()
    return main, tokens


def new_app(developer) -> Application:
    application, _ = register_app(developer, "Pocket Planner", site="https://planner.example")
    return application


# --- credentials cannot be forged or widened -------------------------------------------------


@pytest.mark.parametrize(
    ("model", "path"),
    [
        (AccessToken, "accesstoken"),
        (RefreshToken, "refreshtoken"),
        (Grant, "grant"),
    ],
)
def test_no_admin_form_can_change_a_token_grant_or_refresh_token(staff, connected, model, path):
    row = model.objects.first()
    page = staff.get(f"/admin/connections/{path}/{row.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert (
        'name="scope"' not in text and 'name="token_checksum"' not in text and 'type="submit" value="Save' not in text
    )
    if hasattr(row, "token_checksum"):
        assert row.token_checksum not in text
    before = model.objects.get(pk=row.pk)
    forged = staff.post(f"/admin/connections/{path}/{row.pk}/change/", {"scope": " ".join(scopes.ALL)})
    assert forged.status_code == 403
    assert model.objects.get(pk=row.pk).__dict__.get("scope") == before.__dict__.get("scope")
    assert staff.get(f"/admin/connections/{path}/add/").status_code == 403
    assert staff.post(f"/admin/connections/{path}/{row.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_token_row_edited_in_the_database_cannot_widen_access(alice, connected):
    main, tokens = connected
    savings = make_account(alice, type="SAVINGS", description="Savings")
    AccessToken.objects.update(scope=" ".join(scopes.ALL))  # what a forged admin edit would have done
    response = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        transfer_body("1.00", savings, name="A"),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_application_credentials_are_read_only_and_the_page_works(staff, alice):
    application = new_app(alice)
    page = staff.get(f"/admin/connections/application/{application.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    for field in ("client_id", "authorization_grant_type", "hash_client_secret", "client_type", "redirect_uris"):
        assert f'name="{field}"' not in text
    assert "View on site" not in text
    assert "Review: verification and scopes" in text and "Suspend…" in text


# --- policy: audited, four eyes for money ------------------------------------------------------


def test_a_review_is_audited_with_before_after_and_reason(alice):
    application = new_app(alice)
    reviewer, wanted = StaffFactory(), [*scopes.READ_ONLY, "cards:order"]
    application_review(
        application=application,
        staff=reviewer,
        verified=True,
        allowed_scopes=wanted,
        reason="Checked the company register",
    )
    application.refresh_from_db()
    assert application.verified and application.verified_by == reviewer and application.verified_at
    assert application.review_requested_at is None
    event = AuditEvent.objects.get(action="application.policy_changed")
    assert event.data["before"] == {"verified": False, "allowed_scopes": list(scopes.READ_ONLY)}
    assert event.data["after"]["verified"] is True and "cards:order" in event.data["after"]["allowed_scopes"]
    assert event.data["reason"] == "Checked the company register" and event.actor == reviewer


def test_a_money_moving_scope_needs_a_second_member_of_staff(alice):
    application = new_app(alice)
    first, second = StaffFactory(), StaffFactory()
    wanted = [*scopes.READ_ONLY, "payments:internal"]
    proposal = application_review(
        application=application, staff=first, verified=True, allowed_scopes=wanted, reason="Partner contract signed"
    )
    application.refresh_from_db()
    assert proposal is not None and "payments:internal" not in application.allowed_scope_list()
    assert application.verified  # the rest of the review took effect

    with pytest.raises(DomainError, match="second member of staff"):
        scope_request_approve(request=proposal, staff=first, reason="Me again")
    scope_request_approve(request=proposal, staff=second, reason="Contract seen")

    application.refresh_from_db()
    assert "payments:internal" in application.allowed_scope_list()
    proposal.refresh_from_db()
    assert (proposal.status, proposal.endorsed_by, proposal.decided_by) == ("APPROVED", first, second)
    actions = list(AuditEvent.objects.filter(application=application).values_list("action", flat=True))
    assert "scope_request.created" in actions and "scope_request.approved" in actions


def test_a_developers_request_for_money_needs_two_staff_approvals(alice):
    from connections.services.vetting import scope_request_create

    application = new_app(alice)
    request = scope_request_create(
        application=application, requested_by=alice, scopes=["draft_payments:write"], reason="We pay bills"
    )
    first, second = StaffFactory(), StaffFactory()
    scope_request_approve(request=request, staff=first, reason="Looks right")
    application.refresh_from_db()
    assert "draft_payments:write" not in application.allowed_scope_list()
    scope_request_approve(request=request, staff=second, reason="Agreed")
    application.refresh_from_db()
    assert "draft_payments:write" in application.allowed_scope_list()


def test_suspension_is_refused_twice_and_lifting_needs_a_suspension(alice):
    application = new_app(alice)
    staff = StaffFactory()
    with pytest.raises(DomainError, match="not suspended"):
        application_unsuspend(application=application, actor=staff, reason="Just in case")
    application_suspend(application=application, actor=staff, reason="Phishing")
    first = Application.objects.get(pk=application.pk).suspended_at
    with pytest.raises(DomainError, match="suspended already"):
        application_suspend(application=application, actor=staff, reason="Again")
    assert Application.objects.get(pk=application.pk).suspended_at == first
    assert not AuditEvent.objects.filter(action="application.unsuspended").exists()
    with pytest.raises(DomainError, match="Say why"):
        application_unsuspend(application=application, actor=staff, reason="  ")


def test_the_review_page_verifies_and_proposes_money_scopes(staff, alice):
    application = new_app(alice)
    queue = staff.get("/admin/connections/awaitingreview/").content.decode()
    assert "Pocket Planner" in queue and "planner.example" in queue

    page = staff.get(f"/admin/connections/awaitingreview/{application.pk}/change/")
    assert page.status_code == 200 and "Moves money" in page.content.decode()
    staff.post(
        f"/admin/connections/awaitingreview/{application.pk}/change/",
        {
            "form": "review",
            "verified": "on",
            "allowed_scopes": [*scopes.READ_ONLY, "payments:internal"],
            "reason": "KYC done",
        },
    )
    application.refresh_from_db()
    assert application.verified and "payments:internal" not in application.allowed_scope_list()
    assert ScopeRequest.objects.get().status == "PENDING"
    assert "Pocket Planner" in staff.get("/admin/connections/awaitingreview/").content.decode()  # still waiting


# --- dangerous acts ask first, with a reason --------------------------------------------------


def test_revoking_from_the_connection_page_asks_first(staff, connected):
    connection = Connection.objects.get()
    detail = staff.get(f"/admin/connections/connection/{connection.pk}/change/").content.decode()
    assert "Revoke this connection" in detail and 'value="Save' not in detail
    asked = staff.get(f"/admin/connections/connection/{connection.pk}/revoke/")
    assert asked.status_code == 200 and "Pending draft payments" in asked.content.decode()
    refused = staff.post(f"/admin/connections/connection/{connection.pk}/revoke/", {"confirmed": "yes", "reason": ""})
    assert refused.status_code == 200 and Connection.objects.get().is_active
    done = staff.post(f"/admin/connections/connection/{connection.pk}/revoke/", {"confirmed": "yes", "reason": "Fraud"})
    assert done.status_code == 302 and not Connection.objects.get().is_active


def test_cancelling_a_card_asks_first_and_keeps_the_reason(staff, alice):
    main = make_account(alice)
    card = card_order(customer=alice, type="VIRTUAL", name_on_card="Alice", primary_account=main, actor=alice)
    action = {"action": "cancel", "_selected_action": [card.pk]}
    assert "cannot be undone" in staff.post("/admin/bank/card/", action).content.decode()
    assert Card.objects.get().status == CardStatus.ACTIVE
    staff.post("/admin/bank/card/", {**action, "confirmed": "yes", "reason": "Reported stolen"})
    assert Card.objects.get().status == CardStatus.CANCELLED
    assert AuditEvent.objects.get(action="card.updated").data["reason"] == "Reported stolen"


def test_connection_status_filter(staff, connected, alice):
    other = make_application(client_id="other", name="Other App")
    ended = connection_grant(user=alice, application=other, scopes=["accounts:read"], accounts=[connected[0]])
    from connections.services.connections import connection_revoke

    connection_revoke(connection=ended, by="staff")
    active = staff.get("/admin/connections/connection/?status=active").context["cl"].result_list
    revoked = staff.get("/admin/connections/connection/?status=revoked").context["cl"].result_list
    assert [c.application.name for c in active] == ["Budget Buddy"]
    assert [c.application.name for c in revoked] == ["Other App"]


# --- one view of a customer, and the audit log --------------------------------------------------


def test_one_page_shows_a_customer_and_everything_of_theirs(staff, alice, connected):
    main, _ = connected
    card_order(customer=alice, type="VIRTUAL", name_on_card="Alice", primary_account=main, actor=alice)
    found = staff.get("/admin/bank/customer/", {"q": main.iban}).context["cl"].result_list
    assert [customer.pk for customer in found] == [alice.pk]

    page = staff.get(f"/admin/bank/customer/{alice.pk}/change/").content.decode()
    for expected in (
        main.iban,
        "100.00 EUR",
        "Budget Buddy",
        "Active",
        "Virtual card",
        "Test deposit",
        "Connected an app",
    ):
        assert expected in page, expected
    assert 'name="username"' not in page and 'name="first_name"' not in page


def test_changing_a_customers_email_is_audited(staff, alice):
    staff.post(f"/admin/bank/customer/{alice.pk}/change/", {"email": "alice@new.example", "is_active": "on"})
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    event = AuditEvent.objects.get(action="customer.changed")
    assert event.data["before"]["email"] == "alice@example.com" and event.data["after"]["email"] == "alice@new.example"
    assert event.actor.username == "ops-anna"


def test_the_audit_log_is_readable_searchable_and_exportable(staff, alice, bob, connected):
    main, _ = connected
    make_account(bob)
    listing = staff.get("/admin/bank/auditevent/", {"customer__id__exact": alice.pk})
    text = listing.content.decode()
    assert 'data-filter-param="customer__id__exact"' in text  # the autocomplete filter, not a list
    assert "bob" not in text.split('id="changelist-filter"')[1].split("</nav>")[0]
    assert "CET" in text or "CEST" in text  # seconds and the time zone
    by_iban = staff.get("/admin/bank/auditevent/", {"q": main.iban}).context["cl"].result_list
    assert by_iban and all(event.customer == alice for event in by_iban)
    by_app = staff.get("/admin/bank/auditevent/", {"q": "Budget Buddy"}).context["cl"].result_list
    assert by_app and all(event.application.name == "Budget Buddy" for event in by_app)
    connection = Connection.objects.get()
    by_connection = staff.get("/admin/bank/auditevent/", {"q": str(connection.pk)}).context["cl"].result_list
    assert by_connection and all(event.connection_id == connection.pk for event in by_connection if event.connection_id)

    export = staff.get("/admin/bank/auditevent/export/", {"customer__id__exact": alice.pk})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:2] == ["time", "action"]
    expected = AuditEvent.objects.filter(customer=alice).exclude(action="audit.exported").count()
    assert len(rows) - 1 == expected and all(row[4] == "alice" for row in rows[1:])
    assert AuditEvent.objects.get(action="audit.exported").actor.username == "ops-anna"

    detail = staff.get(
        f"/admin/bank/auditevent/{AuditEvent.objects.filter(action='connection.granted').get().pk}/change/"
    )
    assert "<table>" in detail.content.decode() and "scopes" in detail.content.decode()


# --- the developer's side of a scope request -------------------------------------------------------


def test_a_developer_asks_for_more_permissions_and_sees_the_decision(alice, bob):
    application = new_app(alice)
    developer = Client()
    developer.force_login(alice)
    url = f"/developers/{application.pk}/scope-requests/"
    page = developer.get(f"/developers/{application.pk}/").content.decode()
    assert "Ask for more permissions" in page and 'value="cards:order"' in page
    assert 'value="accounts:read"' not in page.split('id="more-h"')[1].split("</form>")[0]  # already allowed

    nothing = developer.post(url, {"reason": "We show cards"}, follow=True).content.decode()
    no_reason = developer.post(url, {"scopes": ["cards:order"], "reason": " "}, follow=True).content.decode()
    assert "Tick at least one permission" in nothing and "Say why" in no_reason
    assert not ScopeRequest.objects.exists()

    developer.post(url, {"scopes": ["cards:order", "draft_payments:write"], "reason": "We show cards and bills"})
    request = ScopeRequest.objects.get()
    assert (request.scopes, request.status, request.requested_by) == (
        "draft_payments:write cards:order",
        "PENDING",
        alice,
    )
    assert "Waiting for staff" in developer.get(f"/developers/{application.pk}/").content.decode()

    scope_request_reject(request=request, staff=StaffFactory(), reason="Tell us more about the bills")
    page = developer.get(f"/developers/{application.pk}/").content.decode()
    assert "Rejected" in page and "Tell us more about the bills" in page

    stranger = Client()
    stranger.force_login(bob)
    assert stranger.post(url, {"scopes": ["cards:order"], "reason": "Mine now"}).status_code == 404
    assert ScopeRequest.objects.count() == 1


def test_a_payments_page_names_the_app_that_made_it_and_older_records_still_say(staff, alice, connect):
    main, savings = main_and_savings(alice, "100.00")
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])
    body = transfer_body("5.00", savings)
    made = app.post(f"/api/v1/monetary-accounts/{main.pk}/payments/", body).json()
    connection = Connection.objects.get(user=alice)

    for leg in Payment.objects.filter(movement__payments=made["id"]):  # either leg's page
        page = staff.get(f"/admin/bank/payment/{leg.pk}/change/").content.decode()
        assert connection.application.name in page and f"#{connection.pk}" in page

    # Until 2026-11-30 a payment's audit record named its first leg, not its movement: still found.
    deposit = Payment.objects.filter(monetary_account=main, amount__gt=0).get()
    assert "alice" not in staff.get(f"/admin/bank/payment/{deposit.pk}/change/").content.decode()
    AuditEvent.objects.create(
        action="payment.created", actor_type="customer", actor=alice, target_type="payment", target_id=str(deposit.pk)
    )
    assert "alice" in staff.get(f"/admin/bank/payment/{deposit.pk}/change/").content.decode()
