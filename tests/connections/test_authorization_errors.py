"""The authorization endpoint is no open redirector: an error for an app the bank has not verified is
shown on the bank's own page, naming the app; a verified app's errors go only to its validated
redirect URI, with `iss`. Deny never follows a posted redirect URI. Loopback URIs match exactly."""

from urllib.parse import parse_qs, urlsplit

import pytest

from bank.models import AuditEvent
from connections.models import Application
from tests.connections.oauth_helpers import authorize_url, consent, make_application, pkce_pair

pytestmark = pytest.mark.django_db

EVIL = "https://evil.example/steal"


@pytest.fixture
def customer(alice, account_for):
    account_for(alice, balance="10.00")
    return alice


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.parametrize(
    "broken", [{"challenge": None}, {"scope": "payments:internal"}, {"code_challenge_method": "plain"}]
)
def test_an_unverified_apps_broken_request_is_shown_on_the_banks_page(client, customer, broken):
    make_application(
        client_id="evil",
        name="Totally Legit Budgets",
        redirect_uris=EVIL,
        verified=False,
        allowed_scopes="accounts:read",
    )
    client.force_login(customer)
    _, challenge = pkce_pair()
    extra = {"scope": "accounts:read", **{k: v for k, v in broken.items() if k != "challenge"}}
    url = authorize_url(
        client_id="evil", redirect_uri=EVIL, challenge=None if "challenge" in broken else challenge, **extra
    )

    response = client.get(url)

    assert response.status_code == 400
    assert "Location" not in response
    page = response.content.decode()
    assert "Totally Legit Budgets" in page and "cannot be handled" in page
    assert 'href="https://evil.example' not in page


def test_a_verified_apps_error_goes_to_its_redirect_uri_with_iss(client, customer):
    app = make_application()
    client.force_login(customer)

    response = client.get(authorize_url(challenge=None, scope="accounts:read"))

    assert response.status_code in (302, 303)
    params = query_of(response["Location"])
    assert response["Location"].startswith(app.redirect_uris + "?")
    assert params["error"] == "invalid_request" and params["state"] == "xyz"
    assert params["iss"] == "http://127.0.0.1:8000"


def test_deny_goes_only_to_the_validated_redirect_uri(client, customer):
    make_application()
    auth = consent(client, customer, allow=False, extra_post={"redirect_uri": EVIL, "state": "forged"})

    assert auth.location.startswith("https://app.example/callback?")
    assert auth.params["error"] == "access_denied" and auth.params["state"] == "xyz"
    assert auth.params["iss"] == "http://127.0.0.1:8000"
    assert AuditEvent.objects.filter(action="oauth.consent_denied").count() == 1


def test_a_posted_redirect_uri_cannot_redirect_an_allow_either(client, customer):
    make_application()
    auth = consent(client, customer, extra_post={"redirect_uri": EVIL, "code_challenge": "x" * 43})
    assert auth.location.startswith("https://app.example/callback?") and auth.code


def test_a_loopback_clients_error_reaches_it(client, customer):
    make_application(client_id="native", redirect_uris="http://127.0.0.1:8001/callback")
    client.force_login(customer)

    response = client.get(
        authorize_url(client_id="native", redirect_uri="http://127.0.0.1:8001/callback", challenge=None)
    )

    assert response.status_code in (302, 303)
    assert response["Location"].startswith("http://127.0.0.1:8001/callback?error=invalid_request")


def test_loopback_redirect_uris_match_exactly_port_included(client, customer):
    make_application(client_id="native", redirect_uris="http://127.0.0.1:8001/callback")
    client.force_login(customer)
    _, challenge = pkce_pair()

    other_port = client.get(
        authorize_url(client_id="native", redirect_uri="http://127.0.0.1:9999/callback", challenge=challenge)
    )

    assert other_port.status_code == 400 and "Location" not in other_port
    assert not Application.objects.get(client_id="native").redirect_uri_allowed("http://127.0.0.1:9999/callback")


def test_the_consent_screen_names_the_host_actually_requested(client, customer):
    make_application(redirect_uris="https://first.example/cb https://second.example/cb")
    client.force_login(customer)
    _, challenge = pkce_pair()

    page = client.get(authorize_url(redirect_uri="https://second.example/cb", challenge=challenge))

    assert page.status_code == 200
    assert page.context["redirect_host"] == "second.example"
    assert "second.example" in page.content.decode()
