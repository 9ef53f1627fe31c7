"""The connection's life: accounts changed by the customer, revocation by staff, app suspension."""

from decimal import Decimal

import pytest

from bank.models import AuditEvent, DraftStatus
from connections.models import Application, Connection
from tests.connections.oauth_helpers import api_get, consent, exchange, make_application
from tests.factories import StaffFactory, prepare_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(client, alice, account_for):
    main = account_for(alice, balance="50.00", description="Main")
    savings = account_for(alice, type="SAVINGS", description="Savings")
    make_application()
    body = exchange(client, consent(client, alice)).json()
    return Connection.objects.get(), body, main, savings


def test_revoking_cancels_the_apps_pending_drafts_and_is_audited(alice, granted):
    from connections.services.connections import connection_revoke

    connection, _body, main, _ = granted
    shop = {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "Shop"}
    draft = prepare_draft(alice, main, Decimal("5.00"), shop, connection=connection)
    own_draft = prepare_draft(alice, main, Decimal("5.00"), shop)
    connection_revoke(connection=connection, by="customer", actor=alice)
    draft.refresh_from_db()
    own_draft.refresh_from_db()
    assert draft.status == DraftStatus.CANCELLED and draft.reason == "The app's access was revoked."
    assert own_draft.status == DraftStatus.PENDING
    event = AuditEvent.objects.get(action="connection.revoked")
    assert (event.actor_type, event.actor, event.connection) == ("customer", alice, connection)
    assert event.data == {"by": "customer", "access_tokens": 1, "refresh_tokens": 1, "drafts_cancelled": 1}


def test_changing_shared_accounts_takes_effect_on_the_next_call(client, alice, bob, account_for, granted):
    from bank.core.errors import DomainError
    from connections.services.connections import connection_set_accounts

    connection, body, main, savings = granted
    assert api_get(client, "/api/v1/me/", body["access_token"]).json()["account_ids"] == sorted([main.pk, savings.pk])
    connection_set_accounts(connection=connection, user=alice, accounts=[savings])
    assert api_get(client, "/api/v1/me/", body["access_token"]).json()["account_ids"] == [savings.pk]
    for accounts in ([], [account_for(bob)]):
        with pytest.raises(DomainError) as info:
            connection_set_accounts(connection=connection, user=alice, accounts=accounts)
        assert info.value.code == "invalid_accounts"
    assert list(connection.accounts.all()) == [savings]


def test_staff_revoke_action_goes_through_the_service_and_is_recorded_as_staff(client, alice, granted):
    connection, body, _, _ = granted
    staff = StaffFactory()
    client.force_login(staff)
    action = {"action": "revoke", "_selected_action": [connection.pk]}
    confirmation = client.post("/admin/connections/connection/", action)
    assert confirmation.status_code == 200 and "What will happen" in confirmation.content.decode()
    assert Connection.objects.get().is_active  # nothing yet
    response = client.post(
        "/admin/connections/connection/", {**action, "confirmed": "yes", "reason": "Customer called: phone stolen"}
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.revoked_by, connection.revoked_by_user) == ("staff", staff)
    revoked = AuditEvent.objects.get(action="connection.revoked")
    assert revoked.actor_type == "staff" and revoked.data["reason"] == "Customer called: phone stolen"
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 401


def test_staff_suspend_and_unsuspend_actions(client, alice, granted):
    connection, body, _, _ = granted
    app = Application.objects.get()
    client.force_login(StaffFactory())
    confirm = {"confirmed": "yes", "reason": "Phishing reports"}
    client.post("/admin/connections/application/", {"action": "suspend", "_selected_action": [app.pk], **confirm})
    app.refresh_from_db()
    connection.refresh_from_db()
    assert app.suspended_at is not None and connection.revoked_by == "app_suspended"
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 401
    client.force_login(StaffFactory())
    client.post("/admin/connections/application/", {"action": "unsuspend", "_selected_action": [app.pk], **confirm})
    app.refresh_from_db()
    assert app.suspended_at is None
    assert list(AuditEvent.objects.filter(action__startswith="application.").values_list("action", flat=True)) == [
        "application.unsuspended",
        "application.suspended",
    ]


def test_staff_find_a_customers_connections_and_their_audit_log(client, alice, bob, account_for, granted):
    connection, _body, _, _ = granted
    account_for(bob)  # bob has events too: they must not show
    client.force_login(StaffFactory())

    listing = client.get("/admin/connections/connection/", {"q": "alice"}).content.decode()
    assert "Budget Buddy" in listing and "Events</a>" in listing

    url = f"/admin/bank/auditevent/?customer__id__exact={alice.pk}&application__id__exact={connection.application_id}"
    log = client.get(url)
    assert log.status_code == 200
    shown = {event.pk for event in log.context["cl"].result_list}
    expected = set(
        AuditEvent.objects.filter(customer=alice, application=connection.application).values_list("pk", flat=True)
    )
    assert shown == expected and expected
    assert not AuditEvent.objects.filter(pk__in=shown, customer=bob).exists()
