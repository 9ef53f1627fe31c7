"""The token endpoint under abuse: unsupported grants, garbage, floods and parallel refreshes are
answered in OAuth's JSON, never a 500, and cannot grow the audit log without bound."""

import threading
import time
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import connection as db_connection
from django.test import Client

from bank.models import AuditEvent
from bench.servers import database_url_of_this_run
from connections.models import RefreshToken
from tests.connections.oauth_helpers import consent, exchange, make_application, refresh, token_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(client, alice, account_for):
    account_for(alice, balance="10.00")
    make_application()
    response = exchange(client, consent(client, alice))
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    "grant_type",
    [
        "urn:ietf:params:oauth:grant-type:device_code",
        "password",
        "client_credentials",
        "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "nonsense",
    ],
)
def test_an_unsupported_grant_is_unsupported_grant_type_in_json(client, tokens, grant_type):
    response = token_request(client, {"grant_type": grant_type, "device_code": "x", "username": "alice"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "unsupported_grant_type"


def post_anonymously(body: dict[str, str], address: str = "203.0.113.7"):
    return Client().post(
        "/o/token/", urlencode(body), content_type="application/x-www-form-urlencoded", REMOTE_ADDR=address
    )


def test_garbage_from_unknown_clients_writes_no_audit_event(db):
    before = AuditEvent.objects.count()
    for n in range(50):
        response = post_anonymously({"grant_type": "authorization_code", "client_id": f"nobody-{n}", "code": "x"})
        assert response.status_code in (400, 401)
    assert AuditEvent.objects.count() == before


def test_refusals_of_a_known_client_are_audited_once_a_minute_per_kind(client, tokens):
    for _ in range(20):
        refresh(client, "not-a-refresh-token")
    refusals = AuditEvent.objects.filter(action="oauth.token_refused")
    assert refusals.count() == 1 and refusals.get().data["error"] == "invalid_grant"


def test_the_token_endpoint_is_rate_limited_per_address(db, settings):
    settings.OAUTH_TOKEN_RATE_PER_ADDRESS = "5/min"
    answers = [post_anonymously({"grant_type": "refresh_token", "refresh_token": "x"}).status_code for _ in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429]
    limited = post_anonymously({"grant_type": "refresh_token", "refresh_token": "x"})
    assert limited.json()["error"] == "slow_down" and int(limited["Retry-After"]) > 0
    # Another address is not affected.
    assert post_anonymously({"grant_type": "refresh_token"}, address="198.51.100.9").status_code != 429


def test_the_token_endpoint_is_rate_limited_per_client(client, tokens, settings):
    settings.OAUTH_TOKEN_RATE_PER_CLIENT = "4/min"  # the fixture's code exchange was the first
    answers = [refresh(client, "wrong").status_code for _ in range(5)]
    assert answers == [400, 400, 400, 429, 429]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_parallel_refreshes_one_wins_and_one_family_survives(alice, account_for):
    account_for(alice, balance="10.00")
    make_application()
    client = Client()
    first = exchange(client, consent(client, alice)).json()
    row = RefreshToken.objects.get(revoked__isnull=True)
    results: list[object] = []

    def use_it() -> None:
        try:
            results.append(refresh(Client(), first["refresh_token"]))
        finally:
            db_connection.close()

    # Hold the token's row from outside, so that both requests arrive while it is live and then
    # queue on its lock: a true race, whatever the threads' timing.
    with psycopg.connect(database_url_of_this_run(), autocommit=False) as holder:
        holder.execute("SELECT id FROM connections_refreshtoken WHERE id = %s FOR UPDATE", [row.pk])
        threads = [threading.Thread(target=use_it) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            waiting = holder.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if waiting and waiting[0] >= 2:
                break
            time.sleep(0.05)
        holder.rollback()
    for thread in threads:
        thread.join()

    assert sorted(response.status_code for response in results) == [200, 400]
    loser = next(response for response in results if response.status_code == 400)
    assert loser.json()["error"] == "invalid_grant"
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1  # the winner's, live


def test_a_refresh_token_reused_after_its_rotation_still_ends_the_family(client, tokens):
    assert refresh(client, tokens["refresh_token"]).status_code == 200
    assert refresh(client, tokens["refresh_token"]).status_code == 400
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
