"""The example third-party app against the bank: both as real servers on loopback, driven like a
customer's browser would (an HTTP client with cookies): connect, consent, see the accounts, a
refresh on every page, a revocation at the bank, and a deny."""

import re
import sys
from datetime import UTC, datetime
from html import unescape
from urllib.parse import quote, urljoin

import httpx
import pytest

from bank.management.commands.seed_demo import DEMO_FAPI_CLIENT_ID, DEMO_FAPI_JWKS, DEMO_SIGNING_SECRET
from bank.models import AccountType
from bench.servers import BIN, clean_env, database_url_of_this_run, free_port, running
from connections import scopes
from connections.models import AccessToken, Connection, Delivery, NotificationFilter, RefreshToken
from connections.services.callbacks import signing_secret_set
from connections.services.connections import connection_revoke
from connections.tasks import outbox_relay
from connections.webhooks import signature_headers
from tests.connections.oauth_helpers import make_application
from tests.factories import PASSWORD, make_account, pay

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENT_ID, CLIENT_SECRET = "demo-budget-app", "demo-budget-secret"


def form_fields(html: str) -> dict[str, list[str]]:
    """What a browser would post from the page's form (every box stays ticked)."""
    fields: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]+>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields.setdefault(name.group(1), []).append(unescape(value.group(1)) if value else "")
    return fields


def consent(browser: httpx.Client, authorize_url: str, *, allow: bool) -> str:
    """Log in at the bank if asked, then answer the consent screen; returns where the bank sends us."""
    page = browser.get(authorize_url)
    if "/accounts/login/" in str(page.url):
        fields = form_fields(page.text)
        page = browser.post(
            str(page.url),
            data={**fields, "username": "alice", "password": PASSWORD},
            headers={"Referer": str(page.url)},
        )
    assert page.status_code == 200 and "Connect" in page.text, page.text[:500]
    data = form_fields(page.text) | ({"allow": ["true"]} if allow else {})
    answer = browser.post(str(page.url), data=data, headers={"Referer": str(page.url)}, follow_redirects=False)
    assert answer.status_code == 303
    return answer.headers["Location"]


@pytest.fixture
def servers(alice):
    make_account(alice, balance="2500.00", description="Main")
    make_account(alice, type=AccountType.SAVINGS, description="Savings")
    outbox_relay()  # the opening deposit's events, before anyone listens
    bank_port, app_port = free_port(), free_port()
    bank_url, app_url = f"http://127.0.0.1:{bank_port}", f"http://127.0.0.1:{app_port}"
    budget_buddy = make_application(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=f"{app_url}/callback",
        allowed_scopes=" ".join(scopes.ALL),
    )
    signing_secret_set(application=budget_buddy, secret=DEMO_SIGNING_SECRET)
    make_application(  # Budget Buddy (FAPI), as seed_demo registers it
        client_id=DEMO_FAPI_CLIENT_ID,
        client_secret="",
        name="Budget Buddy (FAPI)",
        redirect_uris=f"{app_url}/fapi/callback",
        token_endpoint_auth_method="private_key_jwt",
        jwks=DEMO_FAPI_JWKS,
        dpop_bound_access_tokens=True,
        require_pushed_authorization_requests=True,
    )
    bank_env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=database_url_of_this_run(), OAUTH2_ISSUER=bank_url
    )
    app_env = clean_env(
        BANK_URL=bank_url,
        BUDGET_BUDDY_CLIENT_ID=CLIENT_ID,
        BUDGET_BUDDY_CLIENT_SECRET=CLIENT_SECRET,
        BUDGET_BUDDY_REDIRECT_URI=f"{app_url}/callback",
        BUDGET_BUDDY_FAPI_REDIRECT_URI=f"{app_url}/fapi/callback",
        BUDGET_BUDDY_REFRESH_LEEWAY="3600",  # every page load refreshes: rotation is exercised
    )
    with (
        running(
            [str(BIN / "gunicorn"), "config.wsgi:application", "-b", f"127.0.0.1:{bank_port}", "-w", "2"],
            env=bank_env,
            ready_url=f"{bank_url}/healthz",
        ),
        running(
            [sys.executable, "-m", "flask", "--app", "examples/budget_buddy/app", "run", "--port", str(app_port)],
            env=app_env,
            ready_url=app_url,
        ),
    ):
        yield bank_url, app_url


def test_connect_see_accounts_refresh_and_survive_a_revocation(alice, servers):
    bank_url, app_url = servers
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        home = browser.get(app_url)
        assert "Connect your bank" in home.text

        to_bank = browser.get(f"{app_url}/connect", follow_redirects=False)
        authorize_url = to_bank.headers["Location"]
        assert authorize_url.startswith(f"{bank_url}/o/authorize/?")
        assert "code_challenge_method=S256" in authorize_url

        back = consent(browser, authorize_url, allow=True)
        assert back.startswith(f"{app_url}/callback?code=") and f"iss={quote(bank_url, safe='')}" in back
        page = browser.get(back)

        assert "Your bank is connected." in page.text
        assert "Connected to Demo Bank as <strong>Alice Jansen</strong>" in page.text
        assert "Main" in page.text and "€2500.00" in page.text and "Savings" in page.text
        connection = Connection.objects.get(user=alice)
        assert set(connection.scope_list) == {"accounts:read", "payments:read"}

        # The app refreshes before each call (leeway 3600 s): each page rotates the refresh token.
        rotated_before = RefreshToken.objects.filter(connection=connection, revoked__isnull=False).count()
        assert "€2500.00" in browser.get(app_url).text
        assert RefreshToken.objects.filter(connection=connection, revoked__isnull=False).count() > rotated_before

        # The app asked to be called about payments; one arrives, signed, and shows on its page.
        assert NotificationFilter.objects.get(connection=connection).notification_target == f"{app_url}/webhooks/bank"
        main, savings = alice.owned_accounts.order_by("id")
        pay(alice, main, "12.34", savings.iban, description="Coffee beans")
        outbox_relay()  # the scheduler's relay; the tasks run at once under the test settings
        assert Delivery.objects.filter(status="DELIVERED").count() == 2  # both legs, delivered after commit
        assert "€-12.34: Coffee beans" in browser.get(app_url).text

        connection_revoke(connection=connection, by="customer", actor=alice)
        after = browser.get(app_url)
        assert "Your bank ended this connection" in after.text
        assert "Connect your bank" in after.text


def test_a_callback_with_a_bad_signature_or_body_is_refused(servers):
    _bank_url, app_url = servers
    body = '{"id":"e1","type":"payment.created","created":"2026-11-30T12:00:00+00:00","data":{"id":1}}'
    now = datetime.now(UTC)
    headers = signature_headers(secret=DEMO_SIGNING_SECRET, message_id="msg_1", timestamp=now, body=body)
    with httpx.Client(timeout=10) as app:
        tampered = app.post(f"{app_url}/webhooks/bank", content=body.replace('"id":1', '"id":2'), headers=headers)
        forged = app.post(f"{app_url}/webhooks/bank", content=body, headers={**headers, "webhook-signature": "v1,AAAA"})
        unsigned = app.post(f"{app_url}/webhooks/bank", content=body)
        genuine = app.post(f"{app_url}/webhooks/bank", content=body, headers=headers)
        replayed = app.post(f"{app_url}/webhooks/bank", content=body, headers=headers)
    assert (tampered.status_code, forged.status_code, unsigned.status_code) == (400, 400, 400)
    assert (genuine.status_code, replayed.status_code) == (204, 204)


def test_deny_brings_the_customer_back_with_a_clear_message(alice, servers):
    _bank_url, app_url = servers
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        authorize_url = browser.get(f"{app_url}/connect", follow_redirects=False).headers["Location"]
        back = consent(browser, authorize_url, allow=False)
        page = browser.get(urljoin(app_url, back))

    assert "error=access_denied" in back
    assert "You did not connect your bank." in page.text
    assert not Connection.objects.exists()


def test_disconnect_in_the_app_ends_the_connection_at_the_bank(alice, servers):
    _bank_url, app_url = servers
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        authorize_url = browser.get(f"{app_url}/connect", follow_redirects=False).headers["Location"]
        page = browser.get(consent(browser, authorize_url, allow=True))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        assert browser.post(f"{app_url}/disconnect", data={"csrf": "forged"}).status_code == 403
        done = browser.post(f"{app_url}/disconnect", data={"csrf": csrf.group(1)})

    assert "Disconnected." in done.text
    connection = Connection.objects.get(user=alice)
    assert (connection.is_active, connection.revoked_by) == (False, "app")


def test_the_fapi_mode_connects_with_par_private_key_jwt_and_dpop(alice, servers):
    bank_url, app_url = servers
    with httpx.Client(follow_redirects=True, timeout=15) as browser:
        assert "FAPI 2.0 mode" in browser.get(f"{app_url}/fapi/").text

        to_bank = browser.get(f"{app_url}/fapi/connect", follow_redirects=False)
        authorize_url = to_bank.headers["Location"]
        # Only the pushed request's handle travels through the browser: no scope, PKCE or redirect URI.
        assert authorize_url.startswith(f"{bank_url}/o/authorize/?")
        assert "request_uri=urn" in authorize_url and "code_challenge" not in authorize_url

        back = consent(browser, authorize_url, allow=True)
        page = browser.get(back)

        assert "Your bank is connected, with DPoP-bound tokens." in page.text, page.text
        assert "Token type: DPoP" in page.text and "€2500.00" in page.text
        connection = Connection.objects.get(user=alice, application__client_id=DEMO_FAPI_CLIENT_ID)
        assert AccessToken.objects.get(connection=connection).dpop_jkt

        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        assert browser.post(f"{app_url}/fapi/disconnect", data={"csrf": "forged"}).status_code == 403
        done = browser.post(f"{app_url}/fapi/disconnect", data={"csrf": csrf.group(1)})
        assert "Disconnected." in done.text
        connection.refresh_from_db()
        assert (connection.is_active, connection.revoked_by) == (False, "app")

        # Connected again, then revoked by the customer at the bank: the app notices on its next call.
        page = browser.get(
            consent(
                browser, browser.get(f"{app_url}/fapi/connect", follow_redirects=False).headers["Location"], allow=True
            )
        )
        assert "Token type: DPoP" in page.text
        connection_revoke(connection=Connection.objects.get(revoked_at__isnull=True), by="customer", actor=alice)
        after = browser.get(f"{app_url}/fapi/")
        assert "Your bank ended this connection" in after.text and "Connect your bank" in after.text
