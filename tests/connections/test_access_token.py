"""The API's token check (`connections.oauth.access`): its one query finds the same shared accounts
as the selectors' own rule, and refuses what the validator refuses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bank.models import CoOwner, CoOwnerStatus
from bench.tokens import issue_token
from connections.models import Connection
from connections.oauth.access import BLOCKED, EXPIRED, UNKNOWN, access_token_load, access_token_refusal
from connections.selectors import shared_accounts
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_the_loaded_account_ids_are_the_selectors_shared_accounts(alice, bob, connect):
    own = make_account(alice, description="Own")
    joint = make_account(bob, type="JOINT", description="Joint", co_owner_email="alice@example.com")
    CoOwner.objects.filter(account=joint).update(status=CoOwnerStatus.ACCEPTED)
    pending = make_account(bob, type="JOINT", description="Pending", co_owner_email="alice@example.com")
    unshared = make_account(alice, description="Not shared")
    connected = connect(alice, accounts=[own, joint])
    Connection.accounts.through.objects.create(connection=connected.connection, monetaryaccount=pending)

    token = access_token_load(connected.token)

    assert token is not None and token.connection is not None
    expected = frozenset(shared_accounts(connection=Connection.objects.get()).values_list("pk", flat=True))
    assert token.connection.shared_ids == expected == {own.pk, joint.pk}
    assert unshared.pk not in token.connection.shared_ids
    assert token.user == alice and token.connection.user is token.user
    assert token.application.pk == connected.connection.application_id
    assert token.resource == []  # JSON arrives through the ORM's own converter
    assert access_token_refusal(token) == ""


def test_what_the_check_refuses(alice, connect):
    connected = connect(alice, accounts=[make_account(alice)])
    assert access_token_refusal(access_token_load("not-a-token")) == UNKNOWN

    expired = issue_token(connected.connection, lifetime=timedelta(seconds=-1))
    assert access_token_refusal(access_token_load(expired)) == EXPIRED

    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert access_token_refusal(access_token_load(connected.token)) == BLOCKED

    Connection.objects.update(revoked_at=timezone.now(), revoked_by="customer")
    assert "the customer revoked it" in access_token_refusal(access_token_load(connected.token))
