"""Rate limits per connection: 429 with Retry-After; each app has its own budget."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import make_account

pytestmark = pytest.mark.django_db

LIMITED = {"connection": "3/min", "connection_writes": "1/min"}


@pytest.fixture
def limited(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", LIMITED)


def test_past_the_limit_is_429_with_retry_after_and_other_apps_are_unaffected(alice, connect, limited):
    main = make_account(alice)
    app = connect(alice, scopes=["accounts:read"], accounts=[main])
    other = connect(alice, scopes=["accounts:read"], accounts=[main], app="other")

    statuses = [app.get("/api/v1/monetary-accounts/").status_code for _ in range(4)]
    throttled = app.get("/api/v1/monetary-accounts/")

    assert statuses == [200, 200, 200, 429]
    assert throttled["Content-Type"] == "application/problem+json"
    assert throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert other.get("/api/v1/monetary-accounts/").status_code == 200


def test_writes_have_a_tighter_budget(alice, connect, limited):
    main = make_account(alice)
    app = connect(alice, scopes=["accounts:create", "accounts:read"], accounts=[main])

    first = app.post("/api/v1/monetary-accounts/", {"type": "BANK", "description": "One"})
    second = app.post("/api/v1/monetary-accounts/", {"type": "BANK", "description": "Two"})

    assert (first.status_code, second.status_code) == (201, 429)
    assert app.get("/api/v1/monetary-accounts/").status_code == 200
