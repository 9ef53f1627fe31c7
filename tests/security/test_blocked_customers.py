"""A customer that staff blocked (Active unticked) loses every app at once: API calls answer 401,
refresh and code exchange `invalid_grant`, and no consent screen is shown."""

import pytest
from django.test import Client

from connections.models import Connection
from tests.connections import oauth_helpers as oauth
from tests.factories import StaffFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client, alice):
    make_account(alice, balance="10.00")
    oauth.make_application()
    tokens = oauth.exchange(client, oauth.consent(client, alice)).json()
    return tokens


def block_in_the_admin(customer) -> None:
    """What staff do: untick Active on the user's admin page and save."""
    staff = Client()
    staff.force_login(StaffFactory())
    page = staff.get(f"/admin/auth/user/{customer.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "date_joined_0": customer.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": customer.date_joined.strftime("%H:%M:%S"),
            "last_login_0": "",
            "last_login_1": "",
            "groups": [],
            "user_permissions": [],
        }
    )
    data = {key: value for key, value in data.items() if value is not None and key not in ("date_joined", "last_login")}
    response = staff.post(f"/admin/auth/user/{customer.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    customer.refresh_from_db()
    assert not customer.is_active


def test_a_blocked_customers_access_token_answers_401(client, alice, setup):
    assert oauth.api_get(client, "/api/v1/me/", setup["access_token"]).status_code == 200
    block_in_the_admin(alice)
    response = oauth.api_get(client, "/api/v1/me/", setup["access_token"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_blocked_customers_refresh_token_is_invalid_grant(client, alice, setup):
    block_in_the_admin(alice)
    response = oauth.refresh(client, setup["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_blocked_customers_code_is_invalid_grant(client, alice):
    make_account(alice, balance="10.00")
    oauth.make_application()
    auth = oauth.consent(client, alice)
    block_in_the_admin(alice)
    response = oauth.exchange(client, auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_blocked_customer_gets_no_consent_screen(client, alice):
    make_account(alice, balance="10.00")
    oauth.make_application()
    client.force_login(alice)
    block_in_the_admin(alice)
    _, challenge = oauth.pkce_pair()
    page = client.get(oauth.authorize_url(challenge=challenge, scope="accounts:read"))
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert Connection.objects.count() == 0
