"""The web side: every URL needs a login unless it is on a short reviewed list, security headers on
every page, login brute force locked out and audited, state changes only by POST with CSRF, no
internals in errors, and no token, code or secret in any log or audit record."""

import json
import logging
import subprocess
import sys

import pytest
from django.test import Client

from bank.models import AuditEvent, DraftPayment, MonetaryAccount, Payment, RequestResponse
from bank.services.drafts import draft_payment_create
from bench.servers import ROOT, clean_env
from connections.models import Application, Connection
from tests.connections.oauth_helpers import CLIENT_SECRET, api_get, consent, exchange, make_application, refresh
from tests.factories import PASSWORD, make_account, request_money
from tests.routes import all_routes, concrete

pytestmark = pytest.mark.django_db

# Reviewed: these answer without a login. Everything else must not.
PUBLIC = {
    "accounts/login/": "the login page",
    "admin/login/": "the staff login page",
    "healthz": "the load balancer's health check (says only ok or unavailable)",
    "help/oauth/": "what connections are, for anyone deciding whether to connect an app",
    "api/schema/": "the public API contract",
    "api/docs/": "the public API documentation",
    ".well-known/oauth-authorization-server": "RFC 8414 metadata",
    "apps/logos/<str:sha256>.png": "apps' logos, addressed by their content, for the consent screen",
    "developers/guides/<slug:slug>/": "guides for integrators, from docs/guides/ in the repository",
    "developers/problems/": "every problem code of the API, explained (from bank.core.errors)",
    "developers/problems/<slug:code>/": "the page a problem's `type` URI opens; 404 for an unknown code",
}
# OAuth endpoints authenticate the client, not a session: they refuse without client credentials.
CLIENT_AUTHENTICATED = {"o/par/", "o/token/", "o/revoke_token/", "o/introspect/"}


def test_every_url_needs_a_login_unless_it_is_reviewed_public(client):
    routes = [route for route, _ in all_routes()]
    assert len(routes) > 60
    for route in routes:
        path = concrete(route)
        if route in PUBLIC or route.startswith("static/"):
            continue
        response = client.get(path)
        if route in CLIENT_AUTHENTICATED:
            assert response.status_code in (400, 401, 403, 405), (path, response.status_code)
            continue
        location = response.get("Location", "")
        refused = response.status_code in (401, 403, 405) or (
            response.status_code == 302 and (location.startswith(("/accounts/login/", "/admin/")))
        )
        assert refused, (path, response.status_code, location)
    for route in PUBLIC:
        if "<" not in route:
            assert client.get("/" + route).status_code == 200, route


def test_every_page_behind_the_login_is_never_cached_and_takes_only_its_methods(client, alice):
    """A page that shows a customer's money must not stay in a shared computer's cache after logout,
    and a page answers only the methods it was written for. No page takes PATCH, so asking with it
    shows both at once, changes nothing and needs no object to exist (bank.core.http.customer_page)."""
    client.force_login(alice)
    pages = [
        route
        for route, _ in all_routes()
        if route not in PUBLIC and route not in CLIENT_AUTHENTICATED and not route.startswith(("admin/", "api/"))
    ]
    assert len(pages) > 30
    for route in pages:
        response = client.patch(concrete(route))
        assert response.status_code == 405, (route, response.status_code)
        assert "no-store" in response.get("Cache-Control", ""), route
    # HEAD is GET's headers-only twin: a page that shows something takes it, a form's target does not.
    home = client.head("/")
    assert home.status_code == 200 and "no-store" in home["Cache-Control"]
    assert client.head("/profile/settings/security/passkeys/add/").status_code == 405


@pytest.fixture
def customer(client, alice, bob):
    main = make_account(alice, balance="100.00")
    bobs = make_account(bob, balance="10.00")
    draft_payment_create(
        customer=alice,
        source=main,
        entries=[{"amount": "1.00", "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"}}],
        actor=alice,
    )
    request_money(bob, bobs, "2.00", {"type": "EMAIL", "value": "alice@example.com"})
    make_application()
    consent(client, alice)
    client.force_login(alice)
    return main


PAGES = [
    "/",
    "/profile/",
    "/profile/settings/",
    "/profile/settings/security/",
    "/profile/settings/security/app-connections/",
    "/profile/settings/security/app-connections/history/",
    "/draft-payments/",
    "/payment-requests/",
    "/developers/",
    "/developers/new/",
    "/accounts/password/",
]


def test_security_headers_on_every_page(client, customer):
    connection = Connection.objects.get()
    pages = [*PAGES, f"/profile/settings/security/app-connections/{connection.pk}/"]
    for path in [*pages, f"/profile/settings/security/app-connections/{connection.pk}/revoke/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "script-src" not in csp, path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert "no-store" in response.get("Cache-Control", ""), path  # every one of them shows personal data
    public = Client().get("/help/oauth/")
    assert "frame-ancestors 'none'" in public["Content-Security-Policy"]


def test_production_cookies_and_hsts():
    script = (
        "from django.conf import settings as s; import json; print(json.dumps([s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
        "s.DATABASES['default']['CONN_MAX_AGE']]))"
    )
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="p" * 60,
        DJANGO_ALLOWED_HOSTS="bank.example",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == [True, True, True, True, "Lax", "__Host-sessionid", "__Host-csrftoken", 31536000, True, 60]


def test_get_never_changes_anything(client, customer):
    def snapshot() -> tuple:
        return (
            AuditEvent.objects.count(),
            list(MonetaryAccount.objects.values_list("balance", flat=True)),
            Payment.objects.count(),
            list(DraftPayment.objects.values_list("status", flat=True)),
            list(RequestResponse.objects.values_list("status", flat=True)),
            list(Connection.objects.values_list("revoked_at", flat=True)),
            list(Application.objects.values_list("client_secret", flat=True)),
        )

    connection, draft = Connection.objects.get(), DraftPayment.objects.get()
    response = RequestResponse.objects.get()
    before = snapshot()
    for path in [
        *PAGES,
        f"/profile/settings/security/app-connections/{connection.pk}/revoke/",
        f"/draft-payments/{draft.pk}/approve/",
        f"/draft-payments/{draft.pk}/reject/",
        f"/payment-requests/{response.pk}/pay/",
        f"/payment-requests/{response.pk}/reject/",
        "/invitations/1/",
        "/developers/1/rotate-secret/",
        "/accounts/logout/",
    ]:
        assert client.get(path).status_code in (200, 404, 405), path
    assert snapshot() == before


def test_every_state_change_needs_the_csrf_token(alice, customer):
    connection, draft = Connection.objects.get(), DraftPayment.objects.get()
    response = RequestResponse.objects.get()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    for path, data in [
        (f"/profile/settings/security/app-connections/{connection.pk}/revoke/", {}),
        (f"/profile/settings/security/app-connections/{connection.pk}/", {"accounts": [customer.pk]}),
        (f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD}),
        (f"/draft-payments/{draft.pk}/reject/", {}),
        (f"/payment-requests/{response.pk}/pay/", {"account": customer.pk, "password": PASSWORD}),
        (f"/payment-requests/{response.pk}/reject/", {}),
        ("/developers/new/", {"name": "x"}),
        ("/accounts/password/", {}),
    ]:
        assert strict.post(path, data).status_code == 403, path
    assert Connection.objects.get().is_active and DraftPayment.objects.get().status == "PENDING"


def test_login_is_locked_per_account_and_address_and_audited(client, alice):
    # Five failures lock the account *at that address*: an attacker elsewhere cannot lock the
    # customer out of their own address (tests/test_production.py walks the whole policy).
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "guess"}, REMOTE_ADDR="10.0.0.1")

    locked = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")

    assert locked.status_code == 429
    assert "Logging in is paused" in locked.content.decode()
    failures = AuditEvent.objects.filter(action="auth.login_failed", customer=alice)
    assert failures.count() == 6  # five wrong passwords, then the refused right one
    assert {event.data["username"] for event in failures} == {"alice"}
    assert all("guess" not in json.dumps(event.data) for event in failures)
    assert not AuditEvent.objects.filter(action="auth.login").exists()
    elsewhere = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.2")
    assert elsewhere.status_code == 302


def test_login_is_locked_per_address_across_accounts(client, alice, bob, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "5/15min"
    for number in range(5):
        client.post("/accounts/login/", {"username": f"nobody{number}", "password": "x"}, REMOTE_ADDR="10.0.0.9")

    locked = client.post("/accounts/login/", {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    elsewhere = client.post("/accounts/login/", {"username": "bob", "password": PASSWORD}, REMOTE_ADDR="10.0.0.3")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", customer=bob).count() == 1
    client.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", customer=bob).count() == 1


def test_an_unexpected_web_error_is_a_plain_page_without_internals(alice, monkeypatch):
    from bank.views import customer as views

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(views, "recent_payments", explode)
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    response = client.get("/")

    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"hunter2" not in response.content and b"Traceback" not in response.content


def test_no_token_code_or_secret_reaches_a_log_or_the_audit_log(client, alice, caplog):
    make_account(alice, balance="10.00")
    make_application()
    caplog.set_level(logging.DEBUG)

    auth = consent(client, alice)
    tokens = exchange(client, auth).json()
    refreshed = refresh(client, tokens["refresh_token"]).json()
    api_get(client, "/api/v1/monetary-accounts/", refreshed["access_token"])
    api_get(client, "/api/v1/me/", tokens["access_token"])  # refused: rotated away
    exchange(client, auth)  # a replayed code: refused, and the connection is revoked
    refresh(client, refreshed["refresh_token"])

    secrets_seen = [
        auth.code,
        auth.verifier,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        CLIENT_SECRET,
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    audited = json.dumps(list(AuditEvent.objects.values("action", "data", "target_id")))
    assert len(caplog.records) > 0 and AuditEvent.objects.count() > 5
    for secret in secrets_seen:
        assert secret not in logged
        assert secret not in audited
