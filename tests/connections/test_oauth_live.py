"""The flow with a real OAuth client library against a live server, and concurrent code redemption."""

import re

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.test import Client

from connections.models import Connection
from tests.concurrency import at_once
from tests.connections.oauth_helpers import CLIENT_ID, CLIENT_SECRET, consent, exchange, make_application
from tests.factories import PASSWORD

LOOPBACK_REDIRECT = "http://127.0.0.1:8001/callback"


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


# Transactional tests need PostgreSQL: Django flushes SQLite with DELETE, which the ledger's
# append-only triggers refuse (PostgreSQL's TRUNCATE does not fire them).
@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_authlib_client_completes_the_flow_and_refreshes(live_server, alice, account_for):
    main = account_for(alice, balance="10.00")
    make_application(redirect_uris=LOOPBACK_REDIRECT)
    oauth = OAuth2Session(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="accounts:read payments:read",
        redirect_uri=LOOPBACK_REDIRECT,
        code_challenge_method="S256",
    )
    verifier = "v" * 64
    url, _state = oauth.create_authorization_url(live_server.url + "/o/authorize/", code_verifier=verifier)

    browser = requests.Session()  # the customer's browser
    login = browser.get(live_server.url + "/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    browser.post(
        live_server.url + "/accounts/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
        headers={"Referer": live_server.url + "/accounts/login/"},
    )
    page = browser.get(url)
    assert page.status_code == 200 and "Budget Buddy" in page.text
    form = hidden_fields(page.text)
    form.update({"allow": "true", "scope": ["accounts:read", "payments:read"], "accounts": [str(main.pk)]})  # type: ignore[dict-item]
    answer = browser.post(url, data=form, headers={"Referer": url}, allow_redirects=False)
    assert answer.status_code == 303
    callback = answer.headers["Location"]
    assert callback.startswith(LOOPBACK_REDIRECT)

    token = oauth.fetch_token(live_server.url + "/o/token/", authorization_response=callback, code_verifier=verifier)
    assert token["scope"] == "accounts:read payments:read"
    me = oauth.get(live_server.url + "/api/v1/me/")
    assert me.status_code == 200 and me.json()["account_ids"] == [main.pk]
    refreshed = oauth.refresh_token(live_server.url + "/o/token/")
    assert refreshed["access_token"] != token["access_token"]
    assert oauth.get(live_server.url + "/api/v1/me/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemption_of_one_code_issues_exactly_one_token(alice, account_for):
    account_for(alice)
    make_application()
    auth = consent(Client(), alice)
    statuses, _ = at_once(4, lambda _: exchange(Client(), auth).status_code)
    assert sorted(statuses) == [200, 400, 400, 400]
    # Any second use is a replay: the connection, and the one token issued, are revoked.
    assert Connection.objects.get().revoked_by == "code_replay"
