"""The customer's own acts: approving drafts with a password step-up, answering payment requests and
joint-account invitations, the home page's waiting count, and the public help page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bank.models import CoOwner, CoOwnerStatus, DraftPayment, DraftStatus, Payment, RequestResponse, RequestStatus
from bank.selectors import Waiting, waiting_for
from bank.services.drafts import draft_payment_create
from connections import scopes
from tests.factories import PASSWORD, make_account, request_money

pytestmark = pytest.mark.django_db

SHOP = {"type": "IBAN", "value": "DE89370400440532013000", "name": "Corner Shop"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def main(alice, client):
    client.force_login(alice)
    return make_account(alice, balance="100.00", description="Main")


def make_draft(customer, account, *amounts: str, pointer=SHOP) -> DraftPayment:
    return draft_payment_create(
        customer=customer,
        source=account,
        entries=[{"amount": amount, "counterparty_alias": pointer, "description": "Groceries"} for amount in amounts],
        actor=customer,
    )


def test_the_approvals_page_shows_what_the_customer_decides_on(client, alice, main):
    make_draft(alice, main, "10.00", "15.50")

    html = client.get("/draft-payments/").content.decode()

    assert "Corner Shop" in html and "DE89370400440532013000" in html and "Groceries" in html
    assert "€25.50" in html  # the total
    assert "€74.50" in html  # the balance after
    assert "New payee" in html
    assert 'autocomplete="current-password"' in html


def test_approve_needs_the_password_and_pays_every_entry_once(client, alice, main):
    draft = make_draft(alice, main, "10.00", "15.50")

    wrong = client.post(f"/draft-payments/{draft.pk}/approve/", {"password": "nope"}, follow=True)
    assert "That password is not right; nothing was paid." in wrong.content.decode()
    assert DraftPayment.objects.get().status == DraftStatus.PENDING

    right = client.post(f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD})
    again = client.post(f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD}, follow=True)

    assert right.status_code == 303
    assert "already accepted" in again.content.decode()
    main.refresh_from_db()
    assert main.balance == Decimal("74.50")
    assert Payment.objects.filter(monetary_account=main, amount__lt=0).count() == 2
    assert "Approved and paid" in client.get("/draft-payments/").content.decode()


def test_the_step_up_locks_after_five_wrong_passwords(client, alice, main):
    draft = make_draft(alice, main, "10.00")
    for _ in range(5):
        client.post(f"/draft-payments/{draft.pk}/approve/", {"password": "guess"})

    locked = client.post(f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD}, follow=True)

    assert "paying is paused for 15 minutes" in locked.content.decode()
    assert DraftPayment.objects.get().status == DraftStatus.PENDING


def test_reject_with_a_reason(client, alice, main):
    draft = make_draft(alice, main, "10.00")

    response = client.post(f"/draft-payments/{draft.pk}/reject/", {"reason": "Not this month"}, follow=True)

    assert "Rejected. Nothing was paid" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.reason) == (DraftStatus.REJECTED, "Not this month")
    too_long = client.post(f"/draft-payments/{make_draft(alice, main, '1.00').pk}/reject/", {"reason": "x" * 201})
    assert too_long.status_code == 303
    assert DraftPayment.objects.filter(status=DraftStatus.PENDING).count() == 1


def test_another_customers_draft_is_404(client, alice, bob, main):
    bobs = make_account(bob, balance="50.00")
    draft = make_draft(bob, bobs, "10.00")

    assert "No draft payment waits for you." in client.get("/draft-payments/").content.decode()
    assert client.post(f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD}).status_code == 404
    assert client.post(f"/draft-payments/{draft.pk}/reject/", {"reason": "x"}).status_code == 404
    assert DraftPayment.objects.get().status == DraftStatus.PENDING


@pytest.fixture
def asked(alice, bob, main):
    """Bob asks Alice for 20.00."""
    bobs = make_account(bob, balance="5.00")
    request_money(bob, bobs, "20.00", {"type": "EMAIL", "value": "alice@example.com"}, description="Concert tickets")
    return RequestResponse.objects.get(), bobs


def test_pay_a_request_from_a_chosen_account(client, alice, main, asked):
    response, bobs = asked
    html = client.get("/payment-requests/").content.decode()
    assert "Bob de Vries" in html and "Concert tickets" in html and "€20.00" in html

    paid = client.post(f"/payment-requests/{response.pk}/pay/", {"account": main.pk, "password": PASSWORD}, follow=True)

    assert "Paid €20.00 from Main" in paid.content.decode()
    main.refresh_from_db()
    bobs.refresh_from_db()
    assert (main.balance, bobs.balance) == (Decimal("80.00"), Decimal("25.00"))
    assert RequestResponse.objects.get().status == RequestStatus.ACCEPTED


def test_paying_needs_the_password_and_an_own_account(client, alice, bob, main, asked):
    response, bobs = asked

    no_password = client.post(
        f"/payment-requests/{response.pk}/pay/", {"account": main.pk, "password": "x"}, follow=True
    )
    foreign = client.post(
        f"/payment-requests/{response.pk}/pay/", {"account": bobs.pk, "password": PASSWORD}, follow=True
    )

    assert "nothing was paid" in no_password.content.decode()
    assert "Choose one of your accounts to pay from." in foreign.content.decode()
    assert RequestResponse.objects.get().status == RequestStatus.PENDING


def test_reject_a_request_and_others_cannot_touch_it(client, alice, bob, main, asked):
    response, _ = asked
    carol_client = client.__class__()
    from tests.factories import UserFactory

    carol_client.force_login(UserFactory(username="carol"))
    assert carol_client.post(f"/payment-requests/{response.pk}/reject/").status_code == 404

    rejected = client.post(f"/payment-requests/{response.pk}/reject/", follow=True)

    assert "Rejected. Nothing was paid." in rejected.content.decode()
    assert RequestResponse.objects.get().status == RequestStatus.REJECTED
    client.force_login(bob)
    assert "Rejected" in client.get("/payment-requests/").content.decode().split("Sent by you")[1]


def test_home_counts_what_waits_and_links_to_it(client, alice, bob, main, asked):
    make_draft(alice, main, "1.00")
    expired = make_draft(alice, main, "2.00")
    DraftPayment.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    make_account(bob, type="JOINT", description="Household", co_owner_email="alice@example.com")

    html = client.get("/").content.decode()

    assert "3 waiting" in html
    assert '<a href="/draft-payments/">1 draft payment to approve</a>' in html
    assert '<a href="/payment-requests/">1 payment request to answer</a>' in html
    with CaptureQueriesContext(connection) as counting:  # every page's header: one query for all three
        assert waiting_for(customer=alice) == Waiting(drafts=1, requests=1, invitations=1)
    assert len(counting) == 1


def test_joint_account_invitations_are_answered_on_home(client, alice, bob, main):
    joint = make_account(bob, type="JOINT", description="Household", co_owner_email="alice@example.com")
    invitation = CoOwner.objects.get(account=joint)

    html = client.get("/").content.decode()
    assert "invites you to co-own “Household”" in html

    response = client.post(f"/invitations/{invitation.pk}/", {"answer": "accept"}, follow=True)

    assert "You now co-own “Household”." in response.content.decode()
    assert CoOwner.objects.get().status == CoOwnerStatus.ACCEPTED
    assert client.post(f"/invitations/{invitation.pk}/", {"answer": "reject"}).status_code == 303
    client.force_login(bob)
    assert client.post(f"/invitations/{invitation.pk}/", {"answer": "reject"}).status_code == 404


def test_the_help_page_is_public_and_lists_every_scope(client):
    client.logout()

    html = client.get("/help/oauth/").content.decode()

    assert "<h1>What's OAuth and how does it work?</h1>" in html
    assert "Profile → Settings → Security → My app connections" in html
    for scope in scopes.SCOPES:
        assert f"<code>{scope.name}</code>" in html
        assert scope.sentence in html
    assert html.count("Moves money") == len(scopes.MONEY_MOVING)


# The session, the user, the header (the connections' count and what waits: one query each), then
# the page's own: home's accounts, invitations, recent activity and payments; the connections with
# their accounts. docs/performance.md states these counts.
@pytest.mark.parametrize(("path", "queries"), [("/", 8), ("/profile/settings/security/app-connections/", 6)])
def test_home_and_app_connections_need_a_fixed_number_of_queries_however_many_connections(
    client, alice, main, connect, path, queries
):
    savings = make_account(alice, type="SAVINGS", description="Savings")
    counts = []
    for apps in (1, 20):
        while len(alice.connections.all()) < apps:
            connect(alice, accounts=[main, savings], app=f"app{len(alice.connections.all())}")
        client.get(path)  # warm: a first visit may write to the session
        with CaptureQueriesContext(connection) as counting:
            assert client.get(path).status_code == 200
        counts.append(len(counting))
    assert counts == [queries, queries], [q["sql"][:120] for q in counting]
