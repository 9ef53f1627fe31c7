"""What staff may change about a customer: the email address (also a payment alias, so other
customers pay to it) and whether they may use the bank at all. Names and usernames are not staff's
to change. Every change is audited with its before and after."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from bank.core.audit import AuditData, audit_record
from bank.core.errors import ErrorCode, ValidationFailed
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
        action=AuditAction.CUSTOMER_CHANGED,
        actor=staff,
        customer=customer,
        actor_type=ActorType.STAFF,
        data={"before": before, "after": after},
    )
    return customer
