"""The authorization server: the flow, the consent screen and every hardening rule (SPEC §3)."""

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bank.models import AuditEvent
from connections import scopes
from connections.models import AccessToken, Application, Connection, Grant, RefreshToken
from tests.connections.oauth_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    api_get,
    authorize_url,
    consent,
    exchange,
    make_application,
    pkce_pair,
    refresh,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def app():
    return make_application()


@pytest.fixture
def customer(alice, account_for):
    account_for(alice, balance="100.00", description="Main")
    account_for(alice, type="SAVINGS", description="Savings")
    return alice


def tokens_for(client, customer, **kwargs):
    auth = consent(client, customer, **kwargs)
    response = exchange(client, auth)
    assert response.status_code == 200, response.content
    return response.json()


# --- the flow ----------------------------------------------------------------------------------------


def test_full_flow_gives_a_token_bound_to_a_connection(client, app, customer):
    auth = consent(client, customer)
    assert auth.response.status_code == 303
    assert auth.location.startswith(REDIRECT_URI + "?")
    assert auth.params["state"] == "xyz" and auth.params["iss"] == "http://127.0.0.1:8000"
    response = exchange(client, auth)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert body["scope"] == "accounts:read payments:read" and body["refresh_token"]
    me = api_get(client, "/api/v1/me/", body["access_token"])
    assert me.status_code == 200
    connection = Connection.objects.get()
    assert me.json() == {
        "id": customer.pk,
        "display_name": "Alice Jansen",
        "scopes": ["accounts:read", "payments:read"],
        "account_ids": sorted(customer.owned_accounts.values_list("pk", flat=True)),
        "expires_at": connection.expires_at.isoformat().replace("+00:00", "Z"),
    }
    assert connection.expires_at - connection.created == timedelta(days=90)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"connection.granted", "oauth.token_issued"} <= actions


def test_consent_screen_shows_the_app_scopes_and_accounts(client, app, customer):
    client.force_login(customer)
    _, challenge = pkce_pair()
    page = client.get(authorize_url(challenge=challenge, scope="accounts:read payments:internal"))
    html = page.content.decode()
    assert (
        "Budget Buddy" in html
        and "Budget Buddy Ltd" in html
        and "app.example" in html
        and "Verified by the bank" in html
    )
    assert 'name="scope" value="accounts:read" checked' in html
    assert 'name="scope" value="payments:internal" checked' in html and "Moves money" in html
    for account in customer.owned_accounts.all():
        assert f'name="accounts" value="{account.pk}" checked' in html
    assert page["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in page["Content-Security-Policy"]
    # same-origin: the authorize URL never reaches another site, yet the browser still sends the
    # Origin header with the consent form (with no-referrer it sends "Origin: null", and the CSRF
    # check refuses the customer's own Allow; the browser tests show it).
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]


def test_unticked_scope_and_account_are_not_granted(client, app, customer):
    savings = customer.owned_accounts.get(type="SAVINGS")
    body = tokens_for(
        client, customer, scope="accounts:read payments:read", tick_scopes=["accounts:read"], tick_accounts=[savings.pk]
    )
    assert body["scope"] == "accounts:read"
    connection = Connection.objects.get()
    assert connection.scope_list == ["accounts:read"]
    assert list(connection.accounts.all()) == [savings]


def test_a_posted_scope_cannot_widen_the_grant(client, app, customer):
    body = tokens_for(client, customer, scope="accounts:read", tick_scopes=["accounts:read", "payments:internal"])
    assert body["scope"] == "accounts:read"
    assert Connection.objects.get().scope_list == ["accounts:read"]


def test_tampered_signed_request_field_is_refused(client, app, customer):
    auth = consent(client, customer, scope="accounts:read", extra_post={"requested": "forged"})
    assert auth.response.status_code == 400 and not Connection.objects.exists()


def test_no_account_ticked_gives_an_error_and_no_connection(client, app, customer):
    auth = consent(client, customer, tick_accounts=[])
    assert (
        auth.response.status_code == 400
        and "Choose at least one of your own accounts" in auth.response.content.decode()
    )
    assert not Connection.objects.exists() and not Grant.objects.exists()


def test_another_customers_account_cannot_be_ticked(client, app, customer, bob, account_for):
    bobs = account_for(bob)
    auth = consent(client, customer, tick_accounts=[bobs.pk])
    assert auth.response.status_code == 400 and not Connection.objects.exists()


def test_no_scope_gets_the_read_only_set(client, app, customer):
    body = tokens_for(client, customer, scope=None)
    assert body["scope"].split() == list(scopes.READ_ONLY)


def test_scope_beyond_the_apps_list_is_invalid_scope(client, customer):
    make_application(allowed_scopes=" ".join(scopes.READ_ONLY))
    client.force_login(customer)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge=challenge, scope="accounts:read payments:internal"))
    assert response.status_code in (302, 303) and "error=invalid_scope" in response["Location"]
    assert response["Location"].startswith(REDIRECT_URI + "?")  # only ever the registered URI


def test_new_applications_get_only_read_only_scopes():
    app = Application(name="x")
    assert app.allowed_scope_list() == list(scopes.READ_ONLY)


def test_deny_redirects_with_access_denied(client, app, customer):
    auth = consent(client, customer, allow=False)
    assert auth.response.status_code == 303 and auth.params["error"] == "access_denied"
    assert not Connection.objects.exists()


def test_approval_prompt_auto_cannot_skip_the_screen(client, app, customer):
    tokens_for(client, customer)
    client.force_login(customer)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge=challenge, scope="accounts:read", approval_prompt="auto"))
    assert response.status_code == 200 and b"Allow" in response.content


def test_new_consent_replaces_the_connection_and_revokes_its_tokens(client, app, customer):
    first = tokens_for(client, customer)
    second = tokens_for(client, customer)
    assert api_get(client, "/api/v1/me/", first["access_token"]).status_code == 401
    assert api_get(client, "/api/v1/me/", second["access_token"]).status_code == 200
    assert refresh(client, first["refresh_token"]).status_code == 400
    old, new = Connection.objects.order_by("created")
    assert old.revoked_by == "replaced" and new.revoked_at is None


# --- PKCE ---------------------------------------------------------------------------------------------


def test_pkce_missing_is_refused(client, app, customer):
    client.force_login(customer)
    response = client.get(authorize_url(challenge=None, scope="accounts:read"))
    assert "error=invalid_request" in response.get("Location", "") or response.status_code == 400
    assert not Grant.objects.exists()


def test_pkce_plain_is_refused(client, app, customer):
    client.force_login(customer)
    response = client.get(authorize_url(scope="accounts:read", code_challenge="a" * 50, code_challenge_method="plain"))
    assert response.status_code in (302, 303, 400)
    assert response.status_code == 400 or "error=" in response["Location"]
    assert not Grant.objects.exists()


def test_wrong_verifier_is_refused(client, app, customer):
    auth = consent(client, customer)
    response = exchange(client, auth, code_verifier="wrong" * 10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


# --- redirect URIs and clients --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT_URI + "?extra=1",
        REDIRECT_URI + "/",
        "https://app.example:8443/callback",
        "https://evil.example/callback",
        REDIRECT_URI + "#fragment",
        "http://app.example/callback",
    ],
)
def test_redirect_uri_must_match_exactly_and_never_redirects(client, app, customer, redirect_uri):
    client.force_login(customer)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(redirect_uri=redirect_uri, challenge=challenge, scope="accounts:read"))
    assert response.status_code == 400 and "Location" not in response


def test_unknown_client_never_redirects(client, app, customer):
    client.force_login(customer)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(client_id="nobody", challenge=challenge, scope="accounts:read"))
    assert response.status_code == 400 and "Location" not in response


def test_only_https_or_loopback_redirect_uris_can_be_registered():
    from django.core.exceptions import ValidationError

    for good in ("https://app.example/cb", "http://127.0.0.1:8001/callback", "http://localhost:9000/cb"):
        Application(
            name="a", redirect_uris=good, authorization_grant_type="authorization-code", client_type="public"
        ).clean()
    for bad in ("http://app.example/cb", "http://127.0.0.1/cb", "ftp://x/cb"):
        with pytest.raises(ValidationError):
            Application(
                name="a", redirect_uris=bad, authorization_grant_type="authorization-code", client_type="public"
            ).clean()
    assert not Application(redirect_uris="http://app.example/cb").redirect_uri_allowed("http://app.example/cb")


# --- codes ----------------------------------------------------------------------------------------------


def test_code_replay_is_refused_and_revokes_the_tokens_issued_from_it(client, app, customer):
    auth = consent(client, customer)
    first = exchange(client, auth)
    assert first.status_code == 200
    replay = exchange(client, auth)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert api_get(client, "/api/v1/me/", first.json()["access_token"]).status_code == 401
    assert refresh(client, first.json()["refresh_token"]).status_code == 400
    assert Connection.objects.get().revoked_by == "code_replay"


def test_expired_code_is_refused(client, app, customer):
    auth = consent(client, customer)
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert exchange(client, auth).status_code == 400


def test_codes_live_at_most_sixty_seconds(client, app, customer):
    consent(client, customer)
    grant = Grant.objects.get()
    assert grant.expires - timezone.now() <= timedelta(seconds=60)


def test_another_clients_code_is_refused(client, app, customer):
    make_application(client_id="other", client_secret="o" * 64, name="Other")
    auth = consent(client, customer)
    response = exchange(client, auth, client_id="other", client_secret="o" * 64)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_refused_and_audited(client, app, customer):
    auth = consent(client, customer)
    response = exchange(client, auth, client_secret="wrong")
    assert response.status_code == 401
    event = AuditEvent.objects.get(action="oauth.token_refused")
    assert event.data["error"] == "invalid_client" and "wrong" not in str(event.data)


# --- refresh tokens ---------------------------------------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_the_family(client, app, customer):
    first = tokens_for(client, customer)
    rotated = refresh(client, first["refresh_token"])
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert api_get(client, "/api/v1/me/", second["access_token"]).status_code == 200
    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 400
    assert refresh(client, second["refresh_token"]).status_code == 400  # the whole family is revoked


def test_another_clients_refresh_token_is_refused(client, app, customer):
    make_application(client_id="other", client_secret="o" * 64, name="Other")
    first = tokens_for(client, customer)
    assert refresh(client, first["refresh_token"], client_id="other", secret="o" * 64).status_code == 400


def test_refresh_fails_after_the_connection_expires(client, app, customer):
    first = tokens_for(client, customer)
    Connection.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh(client, first["refresh_token"]).status_code == 400
    assert api_get(client, "/api/v1/me/", first["access_token"]).status_code == 401


def test_refresh_cannot_widen_scope(client, app, customer):
    first = tokens_for(client, customer, scope="accounts:read")
    from tests.connections.oauth_helpers import token_request

    response = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "scope": "accounts:read payments:internal",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


# --- tokens at the API ----------------------------------------------------------------------------------------


def test_missing_and_bad_tokens_answer_401_with_www_authenticate(client):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    response = api_get(client, "/api/v1/me/", "forged-token")
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]


def test_token_in_query_string_is_refused(client, app, customer):
    body = tokens_for(client, customer)
    client.logout()
    assert client.get(f"/api/v1/me/?access_token={body['access_token']}").status_code == 401


def test_suspended_app_tokens_stop_at_once_and_it_cannot_authorize(client, app, customer):
    from connections.services.vetting import application_suspend

    body = tokens_for(client, customer)
    application_suspend(application=app, actor=None, reason="test")
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 401
    client.force_login(customer)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge=challenge, scope="accounts:read"))
    assert response.status_code == 400 and "Location" not in response
    assert Connection.objects.get().revoked_by == "app_suspended"


def test_revoked_connection_tokens_answer_401_and_refresh_fails(client, app, customer):
    from connections.services.connections import connection_revoke

    body = tokens_for(client, customer)
    connection_revoke(connection=Connection.objects.get(), by="customer", actor=customer)
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 401
    assert refresh(client, body["refresh_token"]).status_code == 400
    assert not AccessToken.objects.exists() and not RefreshToken.objects.filter(revoked__isnull=True).exists()


@pytest.mark.postgres  # the token and the shared account ids in one query (ARRAY) on PostgreSQL
def test_last_used_is_recorded_without_a_write_per_request(client, app, customer, django_assert_num_queries):
    body = tokens_for(client, customer)
    api_get(client, "/api/v1/me/", body["access_token"])
    first = Connection.objects.get().last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the token with its connection and shared account ids: no UPDATE
        client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert Connection.objects.get().last_used_at == first


# --- storage, endpoints, metadata -------------------------------------------------------------------------------


def test_tokens_and_secrets_are_stored_hashed(client, app, customer):
    body = tokens_for(client, customer)
    token = AccessToken.objects.get()
    assert token.token == "" and body["access_token"] not in token.token_checksum
    assert RefreshToken.objects.get().token == ""
    app.refresh_from_db()
    assert app.client_secret.startswith("bank-client-secret-sha256$") and CLIENT_SECRET not in app.client_secret


def test_revocation_endpoint_revokes(client, app, customer):
    body = tokens_for(client, customer)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    response = client.post(
        "/o/revoke_token/",
        f"token={body['access_token']}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 401


def revoke(client, token, client_id=CLIENT_ID, secret=CLIENT_SECRET):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/o/revoke_token/",
        f"token={token}&token_type_hint=refresh_token",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def test_authorization_codes_are_stored_hashed(client, app, customer):
    auth = consent(client, customer)

    stored = Grant.objects.get().code
    assert stored.startswith("sha256$") and auth.code not in stored
    assert Grant.objects.filter(code=auth.code).exists()  # a lookup by the raw code still finds it
    assert exchange(client, auth).status_code == 200
    assert exchange(client, auth).status_code == 400  # and the replay is still recognised


def test_revoking_the_refresh_token_ends_the_connection_as_the_app(client, app, customer):
    body = tokens_for(client, customer)

    assert revoke(client, body["refresh_token"]).status_code == 200

    connection = Connection.objects.get()
    assert (connection.is_active, connection.revoked_by) == (False, "app")
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 401
    assert refresh(client, body["refresh_token"]).status_code == 400
    assert AuditEvent.objects.filter(action="connection.revoked", connection=connection).exists()


def test_an_app_cannot_revoke_another_apps_refresh_token(client, app, customer):
    make_application(client_id="other-client", client_secret="o" * 64, name="Other")
    body = tokens_for(client, customer)

    assert revoke(client, body["refresh_token"], client_id="other-client", secret="o" * 64).status_code == 200

    assert Connection.objects.get().is_active
    assert api_get(client, "/api/v1/me/", body["access_token"]).status_code == 200


def test_introspection_needs_the_introspection_scope(client, app, customer):
    body = tokens_for(client, customer)
    response = Client().post(
        "/o/introspect/",
        f"token={body['access_token']}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {body['access_token']}",
    )
    assert response.status_code == 403


def test_metadata_lists_exactly_what_is_supported(client):
    data = client.get("/.well-known/oauth-authorization-server").json()
    assert data["issuer"] == "http://127.0.0.1:8000"
    assert data["response_types_supported"] == ["code"]
    assert data["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["authorization_response_iss_parameter_supported"] is True
    assert set(data["scopes_supported"]) == set(scopes.ALL)
    for key, path in [
        ("authorization_endpoint", "/o/authorize/"),
        ("token_endpoint", "/o/token/"),
        ("revocation_endpoint", "/o/revoke_token/"),
        ("introspection_endpoint", "/o/introspect/"),
    ]:
        assert data[key].endswith(path)
    assert "registration_endpoint" not in data


@pytest.mark.parametrize(
    "path", ["/o/applications/", "/o/applications/register/", "/o/authorized_tokens/", "/o/device-authorization/"]
)
def test_self_service_registration_and_device_views_are_not_mounted(client, customer, path):
    client.force_login(customer)
    assert client.get(path).status_code == 404


def test_client_secret_check_uses_the_fast_hasher():
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(CLIENT_SECRET, hasher="bank-client-secret-sha256")
    assert check_password(CLIENT_SECRET, encoded) and not check_password("x", encoded)


def test_consent_is_never_skipped_even_if_an_app_says_so(app):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=app.pk).update(skip_authorization=True)
