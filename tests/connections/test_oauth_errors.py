"""Errors that say why: every refusal at the token endpoint and of a bearer token carries an
error_description a developer can act on; and a refresh token used twice ends the connection, which
the customer then sees as ended."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from connections.models import Application, Connection, Grant, RevokedBy
from connections.services.connections import connection_revoke
from tests.connections.oauth_helpers import api_get, consent, exchange, make_application, refresh
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorized(alice):
    make_account(alice)
    make_application()
    return consent(Client(), alice)


def description_of(response) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_grant"
    return body["error_description"]


def test_a_code_used_twice_says_so_and_ends_the_connection(authorized):
    assert exchange(Client(), authorized).status_code == 200

    why = description_of(exchange(Client(), authorized))

    assert "already redeemed" in why and "Ask the customer to connect again" in why
    assert Connection.objects.get().revoked_by == RevokedBy.CODE_REPLAY


def test_an_expired_code_says_how_long_codes_live(authorized):
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert "expired" in description_of(exchange(Client(), authorized))


def test_a_wrong_verifier_says_so_and_that_the_code_is_used(authorized):
    why = description_of(exchange(Client(), authorized, code_verifier="x" * 50))

    assert "code_verifier does not match" in why and "used up" in why
    assert "already redeemed" in description_of(exchange(Client(), authorized))


def test_a_code_of_another_client_or_none_at_all(authorized):
    assert "unknown to this client" in description_of(exchange(Client(), authorized, code="nonsense"))


def test_a_code_of_a_connection_the_customer_ended_says_it_was_withdrawn(authorized, alice):
    connection_revoke(connection=Connection.objects.get(), by=RevokedBy.CUSTOMER, actor=alice)

    why = description_of(exchange(Client(), authorized))

    assert "withdrawn when its connection ended" in why


def test_a_refresh_token_used_twice_ends_the_connection_for_the_customer_to_see(authorized, alice):
    tokens = exchange(Client(), authorized).json()
    assert refresh(Client(), tokens["refresh_token"]).status_code == 200

    why = description_of(refresh(Client(), tokens["refresh_token"]))

    assert "already used" in why and "connection has ended" in why
    connection = Connection.objects.get()
    assert connection.revoked_by == RevokedBy.REFRESH_REPLAY
    customer = Client()
    customer.force_login(alice)
    history = customer.get("/profile/settings/security/app-connections/history/").content.decode()
    assert "a used refresh key was presented again" in history
    # And the app's next call, with any token of it, says why.
    again = description_of(refresh(Client(), tokens["refresh_token"]))
    assert "an already used refresh token of it was presented again" in again


def test_a_refresh_after_the_customer_revoked_says_so_without_more(authorized, alice):
    tokens = exchange(Client(), authorized).json()
    connection_revoke(connection=Connection.objects.get(), by=RevokedBy.CUSTOMER, actor=alice)

    assert "the customer revoked it" in description_of(refresh(Client(), tokens["refresh_token"]))
    assert Connection.objects.get().revoked_by == RevokedBy.CUSTOMER


def test_a_suspended_app_is_told(authorized):
    tokens = exchange(Client(), authorized).json()
    Application.objects.update(suspended_at=timezone.now())

    refused = refresh(Client(), tokens["refresh_token"])
    assert refused.status_code == 401 and "suspended" in refused.json()["error_description"]


def test_a_refresh_token_of_another_client_ends_nothing(authorized):
    tokens = exchange(Client(), authorized).json()
    make_application(client_id="other-client", client_secret="other-secret", name="Other")

    refused = refresh(Client(), tokens["refresh_token"], client_id="other-client", secret="other-secret")

    assert "not one this client was given" in description_of(refused)
    assert Connection.objects.get().is_active


def test_an_api_call_with_a_token_of_an_ended_connection_says_who_ended_it(authorized, alice):
    tokens = exchange(Client(), authorized).json()
    connection_revoke(connection=Connection.objects.get(), by=RevokedBy.STAFF, actor=alice)

    response = api_get(Client(), "/api/v1/me/", tokens["access_token"])

    assert response.status_code == 401
    assert "its connection ended (the refresh token then says why)" in response.json()["detail"]
    assert "the bank's staff revoked it" in description_of(refresh(Client(), tokens["refresh_token"]))
