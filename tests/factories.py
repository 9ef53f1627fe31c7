"""factory-boy factories. Money is created through the real services so the ledger always balances."""

from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model

from bank.models import AccountType, MonetaryAccount
from bank.services.accounts import account_deposit, account_open
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
