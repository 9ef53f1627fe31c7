"""The FAPI 2.0 flow end to end, as an integrator's app and a customer would go through it: a real
client library (requests-oauth2client) against the production command speaking TLS, and the
customer's consent in the real browser.

PAR → log in and consent in Chromium → code → DPoP-bound token with private_key_jwt → API call with
a DPoP proof → refresh (same key) → revoke → the token no longer works."""

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc.jwk import ECKey
from playwright.sync_api import Browser, Route
from requests_oauth2client import DPoPKey, DPoPToken, OAuth2Client, PrivateKeyJwt
from requests_oauth2client.dpop import add_dpop_proof

from bench.servers import self_signed_certificate
from connections import scopes
from connections.models import AccessToken, Connection, TokenEndpointAuthMethod
from tests.connections.oauth_helpers import make_application
from tests.factories import PASSWORD, make_account
from tests.test_production import production_servers, with_production_password

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "fapi-e2e"
REDIRECT_URI = "https://budget.example/fapi/callback"  # the browser's visit there is caught, not sent


@pytest.fixture
def fapi_app() -> dict[str, Any]:
    """A FAPI app with a key pair of its own; returns the private JWK (the app's secret)."""
    private = ECKey.generate_key("P-256", private=True)
    public = {**private.as_dict(private=False), "kid": "e2e-1", "use": "sig", "alg": "ES256"}
    make_application(
        client_id=CLIENT_ID,
        client_secret="",
        name="Budget Buddy (FAPI)",
        redirect_uris=REDIRECT_URI,
        allowed_scopes=" ".join(scopes.ALL),
        token_endpoint_auth_method=TokenEndpointAuthMethod.PRIVATE_KEY_JWT,
        jwks=json.dumps({"keys": [public]}),
        dpop_bound_access_tokens=True,
        require_pushed_authorization_requests=True,
    )
    return {**private.as_dict(private=True), "kid": "e2e-1", "alg": "ES256"}


def consent_in_the_browser(browser: Browser, authorize_url: str) -> str:
    """Chromium opens the bank's authorization URL, logs in as alice, allows; returns the callback URL."""
    context = browser.new_context(ignore_https_errors=True)  # the test's self-signed certificate
    context.set_default_timeout(15_000)
    callback: list[str] = []

    def catch(route: Route) -> None:
        callback.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="Budget Buddy got the code.")

    context.route("https://budget.example/**", catch)
    page = context.new_page()
    page.goto(authorize_url)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url("https://budget.example/**")
    context.close()
    return callback[0]


def test_a_fapi_app_connects_calls_refreshes_and_revokes(alice, fapi_app, browser, tmp_path: Path):
    make_account(alice, balance="321.00", description="Main")
    with_production_password(alice)
    certificate = self_signed_certificate(tmp_path)

    with production_servers(1, tls=certificate) as (bank,):
        http = requests.Session()
        http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
        http.verify = str(certificate[0])
        client = OAuth2Client.from_discovery_endpoint(
            f"{bank}/.well-known/oauth-authorization-server",
            auth=PrivateKeyJwt(CLIENT_ID, fapi_app, alg="ES256"),
            redirect_uri=REDIRECT_URI,
            session=http,
            dpop_bound_access_tokens=True,
        )
        assert client.pushed_authorization_request_endpoint == f"{bank}/o/par/"

        authorization = client.authorization_request(
            scope="accounts:read payments:read", dpop_key=DPoPKey.generate(alg="ES256")
        )
        pushed = client.pushed_authorization_request(authorization)
        callback = consent_in_the_browser(browser, str(pushed.uri))
        response = authorization.validate_callback(callback)  # state and iss (RFC 9207) checked
        token = client.authorization_code(response)

        assert isinstance(token, DPoPToken) and token.token_type == "DPoP"
        me = http.get(f"{bank}/api/v1/me/", auth=token)
        assert me.status_code == 200 and me.json()["display_name"] == "Alice Jansen"
        accounts = http.get(f"{bank}/api/v1/monetary-accounts/", auth=token).json()["results"]
        assert accounts[0]["balance"] == {"value": "321.00", "currency": "EUR"}
        as_bearer = http.get(f"{bank}/api/v1/me/", headers={"Authorization": f"Bearer {token.access_token}"})
        assert as_bearer.status_code == 401 and as_bearer.headers["WWW-Authenticate"].startswith("DPoP ")

        renewed = client.refresh_token(token)  # a proof of the same key
        assert isinstance(renewed, DPoPToken) and renewed.access_token != token.access_token
        assert http.get(f"{bank}/api/v1/me/", auth=renewed).status_code == 200
        jkt = authorization.dpop_key.dpop_jkt
        assert set(AccessToken.objects.filter(user=alice).values_list("dpop_jkt", flat=True)) == {jkt}

        assert client.revoke_refresh_token(renewed.refresh_token)
        # Sent by hand: the library takes any DPoP challenge on a 401 for a request of a nonce.
        after = requests.Request("GET", f"{bank}/api/v1/me/", headers={"Authorization": f"DPoP {renewed.access_token}"})
        prepared = after.prepare()
        add_dpop_proof(prepared, dpop_key=renewed.dpop_key, access_token=renewed.access_token, header_name="DPoP")
        refused = http.send(prepared)
        assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]

    connection = Connection.objects.get(user=alice)
    assert (connection.is_active, connection.revoked_by) == (False, "app")
    assert not AccessToken.objects.filter(user=alice).exists()
