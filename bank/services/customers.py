"""Customers: what staff may change about one (the email address, also a payment alias, so other
customers pay to it, and whether they may use the bank at all; names and usernames are not staff's to
change; every change is audited with its before and after), and the sandbox's test customers."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from bank.core.audit import Actor, AuditData, audit_record, by_staff
from bank.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from bank.models import AccountType, SandboxCustomer
from bank.selectors import is_sandbox_customer
from bank.services.accounts import account_deposit, account_open
from bank.vocabulary import ActorType, AuditAction


@transaction.atomic
def customer_update(*, customer: User, staff: User, email: str, is_active: bool) -> User:
    customer = get_user_model().objects.select_for_update().get(pk=customer.pk)
    email = email.strip()
    if email and get_user_model().objects.filter(email__iexact=email).exclude(pk=customer.pk).exists():
        raise ValidationFailed(
            "Another customer has this email address (it is a payment alias).",
            code=ErrorCode.EMAIL_TAKEN,
            field="email",
        )
    before: AuditData = {"email": customer.email, "is_active": customer.is_active}
    customer.email = email
    customer.is_active = is_active
    after: AuditData = {"email": customer.email, "is_active": customer.is_active}
    if before == after:
        return customer
    customer.save(update_fields=["email", "is_active"])
    audit_record(
        AuditAction.CUSTOMER_CHANGED, by_staff(staff, customer=customer), data={"before": before, "after": after}
    )
    return customer


SANDBOX_CUSTOMERS_MAX = 10  # per developer
SANDBOX_CUSTOMER_OPENING = Decimal("1000.00")


@transaction.atomic
def sandbox_customer_create(*, developer: User) -> tuple[User, str]:
    """A test customer for a developer, in the sandbox only: a login of their own (the password is
    returned once, never stored in clear), a main account with demo money and a savings account.
    Returns the customer and the password."""
    if not settings.BANK_SANDBOX:
        raise PermissionDenied("Test customers exist only in the sandbox.")
    if is_sandbox_customer(customer_id=developer.pk):
        raise PermissionDenied("A test customer cannot make test customers.")
    developer = get_user_model().objects.select_for_update().get(pk=developer.pk)  # one count at a time
    made = SandboxCustomer.objects.filter(developer=developer).count()
    if made >= SANDBOX_CUSTOMERS_MAX:
        raise ValidationFailed(
            f"You have {SANDBOX_CUSTOMERS_MAX} test customers, the most a developer may have.", code=ErrorCode.INVALID
        )
    username = f"test-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    customer = get_user_model().objects.create_user(
        username=username,
        password=password,
        email=f"{username}@sandbox.invalid",
        first_name="Test",
        last_name=f"Customer {made + 1}",
    )
    SandboxCustomer.objects.create(customer=customer, developer=developer)
    main = account_open(owner=customer, type=AccountType.BANK, description="Main account", actor=customer)
    account_open(owner=customer, type=AccountType.SAVINGS, description="Savings", actor=customer)
    account_deposit(account=main, amount=SANDBOX_CUSTOMER_OPENING, description="Sandbox money", actor=developer)
    audit_record(
        AuditAction.SANDBOX_CUSTOMER_CREATED,
        Actor(ActorType.CUSTOMER, developer, customer),
        data={"username": username},
    )
    return customer, password
