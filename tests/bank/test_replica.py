"""A real streaming replica (tools/replica/start; CI sets DATABASE_REPLICA_URL): the API's lists and
the customers' pages read from it, the token check and every write stay on the primary, and a
customer who just paid sees the payment at once, however far the replica lags."""

import os
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bank.core.replica import REPLICA, ReplicaRouter, replica_reads
from bank.models import Payment
from tests.factories import transfer_body

pytestmark = [
    pytest.mark.skipif(not os.environ.get("DATABASE_REPLICA_URL"), reason="needs DATABASE_REPLICA_URL (CI sets it)"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", REPLICA]),
]


@pytest.fixture
def replica(settings):
    settings.REPLICA_READS = True
    settings.REPLICA_STICKY_SECONDS = 2
    return settings


def replayed(check: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until the replica has replayed what `check` looks for."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


def on_replica(model, **lookup) -> bool:
    return model.objects.using(REPLICA).filter(**lookup).exists()


def test_api_lists_read_the_replica_and_a_customers_own_payment_is_seen_at_once(replica, alice, account_for, connect):
    main = account_for(alice, balance="100.00")
    savings = account_for(alice, type="SAVINGS", description="Savings")
    app = connect(alice, accounts=[main, savings])
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    replayed(lambda: on_replica(type(app.connection), pk=app.connection.pk))

    with CaptureQueriesContext(connections[REPLICA]) as read, CaptureQueriesContext(connections["default"]) as primary:
        assert app.get(path).status_code == 200
    assert any("bank_payment" in q["sql"] for q in read.captured_queries)
    assert not any("bank_payment" in q["sql"] for q in primary.captured_queries)
    assert any("connections_accesstoken" in q["sql"] for q in primary.captured_queries)  # the token check

    paid = app.post(
        path,
        transfer_body("12.50", savings, name="Alice"),
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert paid.status_code == 201, paid.content
    with CaptureQueriesContext(connections[REPLICA]) as read:
        listed = app.get(path).json()["results"]
    assert listed[0]["id"] == paid.json()["id"]  # its own write, read from the primary
    assert not read.captured_queries

    time.sleep(2.1)  # the sticky window ends: reads go back to the replica, which has caught up
    replayed(lambda: on_replica(Payment, pk=paid.json()["id"]))
    with CaptureQueriesContext(connections[REPLICA]) as read:
        assert app.get(path).json()["results"][0]["id"] == paid.json()["id"]
    assert any("bank_payment" in q["sql"] for q in read.captured_queries)


def test_the_customers_pages_read_the_replica(replica, alice, account_for):
    account_for(alice, balance="100.00", description="Everyday")
    replayed(lambda: on_replica(type(alice), pk=alice.pk))
    client = Client()
    client.force_login(alice)
    for page in ("/", "/profile/settings/security/app-connections/"):
        with CaptureQueriesContext(connections[REPLICA]) as read:
            assert client.get(page).status_code == 200
        assert read.captured_queries, page
    assert "Everyday" in client.get("/").content.decode()


def test_the_router_never_writes_to_the_replica_and_reads_it_only_when_asked(replica, alice):
    router = ReplicaRouter()
    assert router.db_for_read(Payment) is None
    with replica_reads(customer_id=alice.pk):
        assert router.db_for_read(Payment) == REPLICA
        assert router.db_for_write(Payment) == "default"
    replica.REPLICA_READS = False
    with replica_reads(customer_id=alice.pk):
        assert router.db_for_read(Payment) is None
    assert router.allow_migrate(REPLICA, "bank") is False
