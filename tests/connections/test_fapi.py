"""FAPI 2.0 apps (SPEC §8): pushed authorization requests, private_key_jwt and DPoP-bound tokens, and
every attack on them refused with the RFC's error code, nothing issued, and an audit event."""

import base64
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from bank.models import AuditEvent
from bank.vocabulary import AuditAction
from connections.keys import key_thumbprint
from connections.models import AccessToken, Connection, PushedRequest, RefreshToken
from tests.connections.fapi_helpers import (
    ASSERTION_TYPE,
    FAPI_CLIENT_ID,
    ISSUER,
    SERVER,
    TOKEN_URL,
    Key,
    assertion,
    authenticated,
    consent_pushed,
    forged,
    form,
    hs256_with_public_key,
    make_fapi_application,
    proof,
    push,
    redeem,
    refresh_with,
)
from tests.connections.oauth_helpers import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, make_application

pytestmark = pytest.mark.django_db

ME = f"{SERVER}/api/v1/me/"


@pytest.fixture
def key():
    return Key()


@pytest.fixture
def dpop_key():
    return Key()


@pytest.fixture
def app(key, alice, account_for):
    account_for(alice, balance="10.00")
    return make_fapi_application(key)


def refusals(action: str = AuditAction.OAUTH_REFUSED) -> list[dict]:
    return [event.data for event in AuditEvent.objects.filter(action=action)]


@pytest.fixture
def tokens(client, app, alice, key, dpop_key):
    """A DPoP-bound token pair from the whole flow: PAR, consent, code, token."""
    pushed = push(client, key)
    code = consent_pushed(client, alice, pushed)
    response = redeem(client, key, code, pushed.verifier, dpop_key)
    assert response.status_code == 200, response.content
    client.logout()
    return response.json()


def api(token: str, *, scheme: str = "DPoP", dpop: str | None = None, path: str = "/api/v1/me/"):
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is not None:
        headers["DPoP"] = dpop
    return Client().get(path, headers=headers)


# --- the flow ------------------------------------------------------------------------------------


def test_a_fapi_app_gets_dpop_bound_tokens_through_par_and_private_key_jwt(client, app, alice, key, dpop_key):
    pushed = push(client, key)
    assert pushed.response.status_code == 201
    assert pushed.response.json()["expires_in"] == 60
    assert pushed.request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    assert pushed.response["Cache-Control"] == "no-store"

    code = consent_pushed(client, alice, pushed)
    response = redeem(client, key, code, pushed.verifier, dpop_key)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP"
    jkt = dpop_key.thumbprint
    access = AccessToken.objects.get()
    assert access.dpop_jkt == jkt and RefreshToken.objects.get().dpop_jkt == jkt
    me = api(body["access_token"], dpop=proof(dpop_key, htm="GET", htu=ME, token=body["access_token"]))
    assert me.status_code == 200, me.content


def test_a_refresh_proves_the_same_key_and_stays_bound(client, app, key, dpop_key, tokens):
    response = refresh_with(client, key, tokens["refresh_token"], dpop_key)

    assert response.status_code == 200, response.content
    renewed = response.json()
    assert renewed["token_type"] == "DPoP"
    me = api(renewed["access_token"], dpop=proof(dpop_key, htm="GET", htu=ME, token=renewed["access_token"]))
    assert me.status_code == 200


def test_the_app_revokes_with_its_assertion_and_the_connection_ends(client, app, key, dpop_key, tokens):
    response = form(client, "/o/revoke_token/", authenticated(key, {"token": tokens["refresh_token"]}))

    assert response.status_code == 200
    assert not Connection.objects.get().is_active
    token = tokens["access_token"]
    assert api(token, dpop=proof(dpop_key, htm="GET", htu=ME, token=token)).status_code == 401


def test_introspection_shows_the_key_a_token_is_bound_to(client, app, dpop_key, tokens):
    make_application(client_id="resource-server", client_secret="r" * 64, allowed_scopes="introspection")
    basic = base64.b64encode(b"resource-server:" + b"r" * 64).decode()
    answer = form(client, "/o/introspect/", {"token": tokens["access_token"]}, Authorization=f"Basic {basic}").json()

    assert answer["active"] is True and answer["token_type"] == "DPoP"
    assert answer["cnf"] == {"jkt": dpop_key.thumbprint}


def test_a_pushed_dpop_proof_binds_the_code_to_its_key(client, app, alice, key, dpop_key):
    pushed = push(client, key, dpop_key=dpop_key)
    code = consent_pushed(client, alice, pushed)

    assert redeem(client, key, code, pushed.verifier, Key()).json()["error"] == "invalid_grant"


def test_the_metadata_lists_par_dpop_and_private_key_jwt_and_only_what_is_accepted(client):
    data = client.get("/.well-known/oauth-authorization-server").json()

    assert data["pushed_authorization_request_endpoint"].endswith("/o/par/")
    assert data["dpop_signing_alg_values_supported"] == ["ES256", "PS256", "EdDSA"]
    assert data["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "PS256", "EdDSA"]
    assert set(data["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }
    assert data["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]
    assert data["authorization_response_iss_parameter_supported"] is True
    assert data["code_challenge_methods_supported"] == ["S256"]


def test_a_dpop_key_is_named_by_its_rfc_7638_thumbprint():
    # RFC 7638 §3.1's example key and thumbprint, with an extra member that must not count.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV"
        "4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
        "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEg"
        "U8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "PS256",
        "kid": "2011-04-29",
    }
    assert key_thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    key = Key()
    assert key_thumbprint(key.public_jwk) == key.thumbprint  # kid, use and alg do not count either


# --- pushed requests -----------------------------------------------------------------------------


def authorize(client, user, request_uri: str, client_id: str = FAPI_CLIENT_ID, **extra: str):
    client.force_login(user)
    return client.get("/o/authorize/?" + urlencode({"client_id": client_id, "request_uri": request_uri, **extra}))


def assert_refused_page(response, error: str) -> None:
    assert response.status_code == 400
    assert response.context["error"].error == error
    assert "form" not in response.context or response.context.get("form") is None


def test_a_request_uri_works_once(client, app, alice, key):
    pushed = push(client, key)
    consent_pushed(client, alice, pushed)

    assert_refused_page(authorize(client, alice, pushed.request_uri), "invalid_request_uri")
    assert {"endpoint": "authorize", "error": "invalid_request_uri"} in refusals()


def test_another_clients_request_uri_is_refused(client, app, alice, key):
    make_application(client_id="other-client", client_secret="o" * 64, name="Other")
    pushed = push(client, key)

    assert_refused_page(authorize(client, alice, pushed.request_uri, client_id="other-client"), "invalid_request_uri")
    assert PushedRequest.objects.get().used_at is None  # the real owner can still use it


def test_an_expired_request_uri_is_refused(client, app, alice, key):
    pushed = push(client, key)
    PushedRequest.objects.update(expires_at=PushedRequest.objects.get().created)

    assert_refused_page(authorize(client, alice, pushed.request_uri), "invalid_request_uri")


def test_an_app_that_requires_par_gets_no_consent_screen_without_it(client, app, alice):
    client.force_login(alice)
    query = {
        "client_id": FAPI_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "accounts:read",
    }
    response = client.get("/o/authorize/?" + urlencode(query))

    assert_refused_page(response, "invalid_request")
    assert {"endpoint": "authorize", "error": "invalid_request"} in refusals()


def test_parameters_that_differ_from_the_pushed_ones_are_an_error(client, app, alice, key):
    pushed = push(client, key)

    response = authorize(client, alice, pushed.request_uri, scope="accounts:read payments:create")

    assert_refused_page(response, "invalid_request")
    assert "scope" in response.context["error"].description


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "accounts:read nonsense"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"dpop_jkt": "not-a-thumbprint"}, "invalid_request"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "invalid_request"),
    ],
)
def test_a_bad_authorization_request_is_refused_when_pushed(client, app, key, params, error):
    response = push(client, key, **params).response

    assert response.status_code == 400, response.content
    assert response.json()["error"] == error
    assert not PushedRequest.objects.exists()
    assert {"endpoint": "par", "error": error} in refusals()


def test_a_bearer_app_may_push_with_its_secret(client, alice, account_for):
    make_application()
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    data = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "accounts:read",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    assert form(client, "/o/par/", data, Authorization=f"Basic {basic}").status_code == 201


# --- private_key_jwt -----------------------------------------------------------------------------


def now() -> int:
    return int(time.time())


def claims(**overrides):
    base = {"iss": FAPI_CLIENT_ID, "sub": FAPI_CLIENT_ID, "aud": ISSUER, "exp": now() + 60, "jti": "j" * 20}
    return {**base, **overrides}


ASSERTION_ATTACKS = {
    "key not in the jwks": lambda key: assertion(Key(kid=key.kid)),
    "alg none": lambda key: forged({"alg": "none", "kid": key.kid}, claims()),
    "HS256 keyed with the public key": lambda key: hs256_with_public_key(key, claims()),
    "wrong aud": lambda key: assertion(key, aud="https://other-bank.example"),
    "expired": lambda key: assertion(key, iat=now() - 600, exp=now() - 300),
    "far-future exp": lambda key: assertion(key, exp=now() + 3600),
    "iss is not sub": lambda key: assertion(key, sub="someone-else"),
    "no jti": lambda key: assertion(key, jti=None),
    "garbage": lambda key: "not-a-jwt",
}


@pytest.mark.parametrize("attack", ASSERTION_ATTACKS)
def test_a_bad_client_assertion_is_invalid_client_everywhere(client, app, alice, key, dpop_key, attack):
    pushed = push(client, key)
    code = consent_pushed(client, alice, pushed)
    client.logout()
    bad = {"client_assertion_type": ASSERTION_TYPE}
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    exchange.update(code_verifier=pushed.verifier, client_id=FAPI_CLIENT_ID)

    at_token = form(client, "/o/token/", {**exchange, **bad, "client_assertion": ASSERTION_ATTACKS[attack](key)})
    at_par = form(
        client, "/o/par/", {"client_id": FAPI_CLIENT_ID, **bad, "client_assertion": ASSERTION_ATTACKS[attack](key)}
    )

    for response in (at_token, at_par):
        assert response.status_code == 401, response.content
        assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()
    assert {"endpoint": "par", "error": "invalid_client"} in refusals()
    assert refusals(AuditAction.TOKEN_REFUSED)[0]["error"] == "invalid_client"
    # The refused attempt did not spend the code: the app itself can still redeem it.
    assert redeem(client, key, code, pushed.verifier, dpop_key).status_code == 200


def test_a_client_assertion_works_once(client, app, key):
    signed = assertion(key)
    data = {
        "client_id": FAPI_CLIENT_ID,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }

    first = form(client, "/o/revoke_token/", {**data, "client_assertion": signed, "token": "x"})
    second = form(client, "/o/revoke_token/", {**data, "client_assertion": signed, "token": "x"})

    assert first.status_code == 200
    assert second.status_code == 401 and second.json()["error"] == "invalid_client"


def test_the_endpoint_url_is_an_accepted_audience(client, app, key):
    data = {
        "client_id": FAPI_CLIENT_ID,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    signed = assertion(key, aud=f"{SERVER}/o/revoke_token/")
    assert form(client, "/o/revoke_token/", {**data, "client_assertion": signed, "token": "x"}).status_code == 200


def test_a_jwt_client_cannot_fall_back_to_a_secret_nor_a_secret_client_to_a_jwt(client, app, key):
    app.client_secret = "f" * 64
    app.save()
    basic = base64.b64encode(f"{FAPI_CLIENT_ID}:{'f' * 64}".encode()).decode()
    assert form(client, "/o/revoke_token/", {"token": "x"}, Authorization=f"Basic {basic}").status_code == 401

    make_application(jwks=key.jwks)  # a secret client that registered keys all the same
    data = {"client_assertion_type": ASSERTION_TYPE}
    signed = assertion(key, client_id=CLIENT_ID)
    assert form(client, "/o/revoke_token/", {**data, "client_assertion": signed, "token": "x"}).status_code == 401


# --- DPoP at the token endpoint ------------------------------------------------------------------

TOKEN_PROOF_ATTACKS = {
    "wrong htm": lambda key: proof(key, htm="GET"),
    "wrong htu": lambda key: proof(key, htu=f"{SERVER}/o/par/"),
    "old iat": lambda key: proof(key, iat=now() - 300),
    "private key in the header": lambda key: proof(key, jwk=key.private.as_dict(private=True)),
    "not a dpop+jwt": lambda key: key.sign({"htm": "POST", "htu": TOKEN_URL, "iat": now(), "jti": "x"}),
    "no jti": lambda key: proof(key, jti=None),
}


@pytest.mark.parametrize("attack", TOKEN_PROOF_ATTACKS)
def test_a_bad_proof_at_the_token_endpoint_is_invalid_dpop_proof(client, app, alice, key, dpop_key, attack):
    pushed = push(client, key)
    code = consent_pushed(client, alice, pushed)
    client.logout()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    data["code_verifier"] = pushed.verifier

    response = form(client, "/o/token/", authenticated(key, data), DPoP=TOKEN_PROOF_ATTACKS[attack](dpop_key))

    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
    assert not AccessToken.objects.exists()
    assert refusals(AuditAction.TOKEN_REFUSED)[0]["error"] == "invalid_dpop_proof"


def test_a_replayed_proof_at_the_token_endpoint_is_refused(client, app, key, dpop_key, tokens):
    used = proof(dpop_key)
    first = form(
        client, "/o/token/", authenticated(key, {"grant_type": "refresh_token", "refresh_token": "x"}), DPoP=used
    )
    second = form(
        client, "/o/token/", authenticated(key, {"grant_type": "refresh_token", "refresh_token": "x"}), DPoP=used
    )

    assert first.json()["error"] == "invalid_grant"  # the proof was fine; the refresh token is not
    assert second.status_code == 400 and second.json()["error"] == "invalid_dpop_proof"


def test_a_dpop_app_gets_no_token_without_a_proof(client, app, alice, key):
    pushed = push(client, key)
    code = consent_pushed(client, alice, pushed)

    response = redeem(client, key, code, pushed.verifier, None)

    assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
    assert not AccessToken.objects.exists()


def test_a_refresh_with_another_key_is_refused_and_issues_nothing(client, app, key, tokens):
    before = AccessToken.objects.count()

    response = refresh_with(client, key, tokens["refresh_token"], Key())

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == before
    assert refusals(AuditAction.TOKEN_REFUSED)[0]["error"] == "invalid_grant"


def test_a_code_bound_by_dpop_jkt_is_not_redeemed_with_another_key(client, app, alice, key, dpop_key):
    jkt = dpop_key.thumbprint
    pushed = push(client, key, dpop_jkt=jkt)
    code = consent_pushed(client, alice, pushed)

    response = redeem(client, key, code, pushed.verifier, Key())

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


# --- DPoP at the API -----------------------------------------------------------------------------

API_PROOF_ATTACKS = {
    "no proof": lambda key, token: None,
    "missing ath": lambda key, token: proof(key, htm="GET", htu=ME),
    "wrong ath": lambda key, token: proof(key, htm="GET", htu=ME, token="another-token"),
    "wrong htm": lambda key, token: proof(key, htm="POST", htu=ME, token=token),
    "wrong htu": lambda key, token: proof(key, htm="GET", htu=f"{SERVER}/api/v1/accounts/", token=token),
    "old iat": lambda key, token: proof(key, htm="GET", htu=ME, token=token, iat=now() - 120),
    "private key in the header": lambda key, token: proof(
        key, htm="GET", htu=ME, token=token, jwk=key.private.as_dict(private=True)
    ),
    "another key than the token's": lambda key, token: proof(Key(), htm="GET", htu=ME, token=token),
}


@pytest.mark.parametrize("attack", API_PROOF_ATTACKS)
def test_a_bad_proof_at_the_api_is_401_with_a_dpop_challenge(app, dpop_key, tokens, attack):
    token = tokens["access_token"]

    response = api(token, dpop=API_PROOF_ATTACKS[attack](dpop_key, token))

    assert response.status_code == 401
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith("DPoP error=") and 'algs="ES256 PS256 EdDSA"' in challenge
    error = challenge.split('"')[1]
    assert error in ("invalid_token", "invalid_dpop_proof")
    assert {"endpoint": "api", "error": error} in refusals()


def test_a_replayed_proof_at_the_api_is_refused(app, dpop_key, tokens):
    token = tokens["access_token"]
    used = proof(dpop_key, htm="GET", htu=ME, token=token)

    assert api(token, dpop=used).status_code == 200
    replay = api(token, dpop=used)

    assert replay.status_code == 401 and 'error="invalid_dpop_proof"' in replay["WWW-Authenticate"]


def test_a_bound_token_sent_as_bearer_is_refused(app, dpop_key, tokens):
    token = tokens["access_token"]

    response = api(token, scheme="Bearer", dpop=proof(dpop_key, htm="GET", htu=ME, token=token))

    assert response.status_code == 401 and 'DPoP error="invalid_token"' in response["WWW-Authenticate"]


def test_a_bearer_token_sent_as_dpop_is_refused(connect, alice, account_for):
    token = connect(alice, scopes=["accounts:read"], accounts=[account_for(alice)]).token
    key = Key()

    response = api(token, dpop=proof(key, htm="GET", htu=ME, token=token))

    assert response.status_code == 401 and 'DPoP error="invalid_token"' in response["WWW-Authenticate"]


def test_bearer_apps_keep_working(connect, alice, account_for):
    connected = connect(alice, scopes=["accounts:read"], accounts=[account_for(alice)])
    assert connected.get("/api/v1/me/").status_code == 200


def test_a_suspended_or_deleted_fapi_app_cannot_authenticate_with_its_key(client, app, key):
    """A private_key_jwt client is held to the same rule as a secret one: suspended, it is told why;
    deleted, it no longer exists for the bank."""
    app.suspended_at = app.created
    app.save(update_fields=["suspended_at"])
    suspended = push(client, key).response
    assert suspended.status_code == 401
    assert suspended.json() == {
        "error": "invalid_client",
        "error_description": "The bank has suspended this app; contact the bank.",
    }

    app.deleted_at = app.created
    app.save(update_fields=["deleted_at"])
    deleted = push(client, key).response
    assert deleted.status_code == 401 and deleted.json()["error"] == "invalid_client"
    assert "suspended" not in deleted.json().get("error_description", "")
    assert not PushedRequest.objects.exists()
