"""Token introspection (RFC 7662) answers only resource servers that staff allowed the
`introspection` scope; any other client, including one a customer registered at /developers/,
learns nothing."""

import base64
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.connections.oauth_helpers import consent, exchange, make_application

pytestmark = pytest.mark.django_db

RESOURCE_SERVER = ("resource-server", "r" * 64)


@pytest.fixture
def token(client, alice, account_for):
    account_for(alice, balance="10.00")
    make_application()
    make_application(
        client_id=RESOURCE_SERVER[0],
        client_secret=RESOURCE_SERVER[1],
        name="Ledger API",
        allowed_scopes="introspection",
    )
    make_application(client_id="snoop", client_secret="n" * 64, name="Snoop", allowed_scopes="accounts:read")
    return exchange(client, consent(client, alice)).json()["access_token"]


def introspect(token: str, client_id: str | None, secret: str | None):
    headers = {}
    if client_id:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post(
        "/o/introspect/", urlencode({"token": token}), content_type="application/x-www-form-urlencoded", **headers
    )


def test_an_allowed_resource_server_learns_about_the_token(token):
    response = introspect(token, *RESOURCE_SERVER)
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True and body["client_id"] == "test-client" and "accounts:read" in body["scope"]


def test_another_authenticated_client_learns_nothing(token):
    response = introspect(token, "snoop", "n" * 64)
    assert response.status_code == 403
    assert "active" not in response.json() and "username" not in response.content.decode()


def test_no_or_wrong_client_authentication_is_401(token):
    for client_id, secret in [(None, None), ("resource-server", "wrong"), ("nobody", "x")]:
        response = introspect(token, client_id, secret)
        assert response.status_code == 401
        assert "active" not in response.json()


def test_a_customers_bearer_token_cannot_introspect(token):
    response = Client().post(
        "/o/introspect/",
        urlencode({"token": token}),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 403 and "active" not in response.json()
