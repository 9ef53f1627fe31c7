"""factory-boy factories. Money is created through the real services so the ledger always balances."""

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from bank.models import AccountType, DraftPayment, MonetaryAccount, Payment, RequestInquiry
from bank.selectors import Pointer
from bank.services.accounts import account_deposit, account_open
from bank.services.drafts import draft_payment_create
from bank.services.payment_requests import request_inquiry_create
from bank.services.payments import payment_create
from connections.models import Application
from connections.services.applications import AppDetails, application_register

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


def make_account(
    owner: Any,
    *,
    balance: Decimal | str = "0.00",
    type: str = AccountType.BANK,
    description: str = "Main",
    co_owner_email: str | None = None,
    overdraft_limit: Decimal | str | None = None,
) -> MonetaryAccount:
    account = account_open(owner=owner, type=type, description=description, co_owner_email=co_owner_email, actor=owner)
    if overdraft_limit is not None:
        MonetaryAccount.objects.filter(pk=account.pk).update(overdraft_limit=Decimal(overdraft_limit))
    if Decimal(balance) > 0:
        account_deposit(account=account, amount=Decimal(balance), description="Test deposit", actor=StaffFactory())
    account.refresh_from_db()
    return account


def register_app(
    developer: Any, name: str, *, site: str | None = None, redirect_uri: str | None = None
) -> tuple[Application, str]:
    """A confidential app registered through the real service (at https://<its name>.example unless
    `site` says otherwise); returns it with its client secret."""
    site = site or f"https://{name.lower().replace(' ', '-')}.example"
    details = AppDetails(
        name=name,
        website=site,
        redirect_uris=redirect_uri or f"{site}/cb",
        client_type=Application.CLIENT_CONFIDENTIAL,
    )
    return application_register(developer=developer, details=details)


def main_and_savings(owner: Any, balance: Decimal | str = "0.00") -> tuple[MonetaryAccount, MonetaryAccount]:
    """The customer's main account, with `balance`, and an empty savings account."""
    return make_account(owner, balance=balance), make_account(owner, type=AccountType.SAVINGS, description="Savings")


def _pointer(to: Pointer | str) -> Pointer:
    return {"type": "IBAN", "value": to} if isinstance(to, str) else to


def pay(customer: Any, source: MonetaryAccount, amount: Decimal | str, to: Pointer | str, **options: Any) -> Payment:
    """The customer pays `amount` from `source` in the bank's pages: `to` is a counterparty or an IBAN."""
    return payment_create(
        customer=customer, source=source, amount=Decimal(amount), counterparty=_pointer(to), actor=customer, **options
    )


def request_money(
    customer: Any, account: MonetaryAccount, amount: Decimal | str, of: Pointer | str, **options: Any
) -> RequestInquiry:
    """The customer asks `of` (a counterparty, or an IBAN) for `amount`, into `account`."""
    return request_inquiry_create(
        customer=customer, account=account, amount=Decimal(amount), counterparty=_pointer(of), actor=customer, **options
    )


def prepare_draft(
    customer: Any,
    source: MonetaryAccount,
    amount: Decimal | str,
    to: Pointer,
    *,
    description: str = "",
    connection: Any = None,
) -> DraftPayment:
    """A draft payment of one entry, prepared by an app (through `connection`) or by the customer."""
    entry = {"amount": amount, "counterparty_alias": to, "description": description}
    return draft_payment_create(
        customer=customer, source=source, entries=[entry], actor=customer, connection=connection
    )


def transfer_body(
    value: str, to: MonetaryAccount, *, name: str = "Me", description: str | None = None
) -> dict[str, Any]:
    """The API's body for paying `value` euros to the account `to`."""
    body: dict[str, Any] = {
        "amount": {"value": value, "currency": "EUR"},
        "counterparty_alias": {"type": "IBAN", "value": to.iban, "name": name},
    }
    if description is not None:
        body["description"] = description
    return body
