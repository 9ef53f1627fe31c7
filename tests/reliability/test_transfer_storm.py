"""The transfer storm of bench/transfer_storm.py, scaled down for CI (the full 10,000-transfer run is
`make storm`): 16 clients, 20 accounts, two server processes on one database, half the transfers
retried with the same Idempotency-Key; invariants checked after every batch, and every payment
announced by exactly one event."""

import pytest

from bank.models import Event, Payment
from bench.common import production_env
from bench.servers import database_url_of_this_run
from bench.transfer_storm import OPENING_BALANCE, invariants, prepare, report, storm, two_servers

TRANSFERS, CLIENTS, BATCHES = 1_600, 16, 4


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_storm_of_transfers_through_two_servers_loses_no_money():
    customers = prepare(customers=5, accounts_each=4)
    total = OPENING_BALANCE * 20

    with two_servers(production_env(database_url_of_this_run())) as urls:
        outcome, problems, seconds = storm(
            urls,
            customers,
            transfers=TRANSFERS,
            clients=CLIENTS,
            batches=BATCHES,
            check=lambda: invariants(total),
        )

    print(report(outcome, problems, seconds, TRANSFERS, CLIENTS))
    assert problems == []
    assert outcome.server_errors == []
    assert outcome.replay_mismatches == []
    assert outcome.replays >= TRANSFERS // 2  # every other transfer of each client, sent twice
    assert set(outcome.statuses) <= {201, 422}  # paid, or refused for lack of money: nothing else
    assert outcome.statuses[201] > TRANSFERS // 2
    # The outbox: exactly one payment.created event per payment booked, none lost, none twice.
    booked = list(Payment.objects.values_list("pk", flat=True))
    announced = [event.subject_id for event in Event.objects.filter(type="payment.created")]
    assert len(announced) == len(booked) and set(announced) == set(booked)
