"""A vetted app cannot be silently repurposed: changing what customers judge it by (name, redirect
URIs, client type, website) sends it back to review, with only the read-only scopes, and the scopes
it lost stop working on its next call. Verified apps' names are reserved, look-alikes included."""

import pytest
from django.test import Client

from bank.models import AuditEvent
from connections import scopes
from connections.models import AccessToken, Application, Connection
from connections.services.connections import connection_grant
from tests.connections.oauth_helpers import make_application
from tests.factories import UserFactory, main_and_savings, register_app, transfer_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer(db):
    return UserFactory(username="dev")


@pytest.fixture
def vetted(developer):
    return make_application(user=developer, name="Budget Buddy", allowed_scopes=" ".join(scopes.ALL), verified=True)


def edit(application: Application, developer, **changes: str):
    client = Client()
    client.force_login(developer)
    data = {
        "name": application.name,
        "website": application.website,
        "redirect_uris": application.redirect_uris,
        "client_type": application.client_type,
    }
    data.update(changes)
    return client.post(f"/developers/{application.pk}/", data)


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Budget Buddy Pro"},
        {"redirect_uris": "https://app.example/callback\nhttps://other.example/cb"},
        {"client_type": "public"},
        {"website": "https://elsewhere.example"},
    ],
)
def test_changing_what_customers_judge_an_app_by_sends_it_back_to_review(vetted, developer, change):
    assert edit(vetted, developer, **change).status_code == 303
    vetted.refresh_from_db()
    assert not vetted.verified
    assert vetted.allowed_scope_list() == list(scopes.READ_ONLY)
    assert vetted.review_requested_at is not None
    event = AuditEvent.objects.get(action="application.sent_to_review")
    assert event.data["before"]["verified"] is True
    assert "payments:internal" in event.data["before"]["allowed_scopes"]
    assert event.data["after"]["allowed_scopes"] == list(scopes.READ_ONLY)


def test_the_lost_scopes_stop_working_on_the_next_call(vetted, developer, alice, connect):
    main, savings = main_and_savings(alice, "50.00")
    connection = connection_grant(user=alice, application=vetted, scopes=scopes.ALL, accounts=[main, savings])
    from bench.tokens import issue_token

    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(connection)}")
    transfer = transfer_body("1.00", savings, name="Alice")
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    assert client.post(path, transfer, content_type="application/json").status_code == 201

    edit(vetted, developer, name="Budget Buddy 2")

    refused = client.post(path, transfer, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert client.get("/api/v1/monetary-accounts/").status_code == 200  # read-only still works


def test_a_change_customers_do_not_judge_it_by_keeps_the_review(vetted, developer):
    edit(vetted, developer)  # the same values: nothing changed
    vetted.refresh_from_db()
    assert vetted.verified and "payments:internal" in vetted.allowed_scope_list()


CYRILLIC_VE = "\u0412"  # looks like a Latin B


@pytest.mark.parametrize(
    "name", ["Budget Buddy", "budget buddy", "BUDGET  BUDDY", f"{CYRILLIC_VE}udget Buddy", f"Budget {CYRILLIC_VE}uddy!"]
)
def test_a_verified_apps_name_is_reserved(vetted, name):
    with pytest.raises(Exception, match="name belongs to a verified app"):
        register_app(UserFactory(), name, site="https://copycat.example")


def test_a_reserved_name_cannot_be_taken_by_renaming_either(vetted):
    other_developer = UserFactory()
    copycat = make_application(client_id="copycat", name="Copycat", user=other_developer, verified=False)
    response = edit(copycat, other_developer, name="Budget Buddy")
    assert response.status_code == 200 and "name belongs to a verified app" in response.content.decode()
    copycat.refresh_from_db()
    assert copycat.name == "Copycat"


def test_an_unverified_apps_name_is_not_reserved(developer):
    make_application(user=developer, name="Quiet App", verified=False)
    application, _ = register_app(UserFactory(), "Quiet App", site="https://x.example")
    assert application.pk


def test_no_edited_row_can_widen_what_an_app_may_do(alice, connect):
    main, savings = main_and_savings(alice, "50.00")
    app = connect(alice, scopes=["accounts:read"], accounts=[main, savings])
    transfer = transfer_body("1.00", savings, name="Alice")
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"

    AccessToken.objects.update(scope="accounts:read payments:internal")  # a forged token row
    assert app.post(path, transfer).status_code == 403
    AccessToken.objects.update(scope="accounts:read")
    Connection.objects.update(scope="accounts:read payments:internal")  # or a forged connection row
    assert app.post(path, transfer).status_code == 403
    Application.objects.update(allowed_scopes="accounts:read")  # the app itself loses a scope
    AccessToken.objects.update(scope="accounts:read")
    Connection.objects.update(scope="accounts:read")
    assert app.get("/api/v1/monetary-accounts/").status_code == 200
    Application.objects.update(allowed_scopes="payments:read")
    assert app.get("/api/v1/monetary-accounts/").status_code == 403
