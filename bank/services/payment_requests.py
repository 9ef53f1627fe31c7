"""Payment requests: sent (request inquiries) and received (request responses)."""

from decimal import Decimal
from typing import Any

from django.utils import timezone

from bank.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from bank.models import MonetaryAccount, RequestInquiry, RequestResponse, RequestStatus
from bank.money import quantize
from bank.selectors import ResolvedCounterparty, accounts_of, display_name, pointer_resolve

from .audit import audit_record
from .ledger import atomic_with_retry, ensure_active, ledger_move, lock_accounts
from .payments import MAX_DESCRIPTION, ensure_savings_rule


@atomic_with_retry
def request_inquiry_create(
    *,
    customer: Any,
    account: MonetaryAccount,
    amount: Decimal,
    counterparty: dict[str, str],
    description: str = "",
    actor: Any,
    connection: Any = None,
) -> RequestInquiry:
    amount = quantize(amount)
    if amount <= 0:
        raise ValidationFailed("The amount must be positive.", code="amount_not_positive", field="amount")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"A description has at most {MAX_DESCRIPTION} characters.", code="description_too_long", field="description"
        )
    if not accounts_of(customer).filter(pk=account.pk).exists():
        raise PermissionDenied("You can request money only into your own accounts.", code="not_your_account")
    ensure_active(account)
    target = pointer_resolve(counterparty)
    if target.account is not None and accounts_of(customer).filter(pk=target.account.pk).exists():
        raise ValidationFailed(
            "You cannot request money from yourself.", code="request_to_self", field="counterparty_alias"
        )
    inquiry = RequestInquiry.objects.create(
        monetary_account=account,
        created_by=customer,
        connection=connection,
        amount=amount,
        description=description,
        counterparty_type=target.type,
        counterparty_value=target.value,
        counterparty_name=target.name,
    )
    if target.account is not None:
        RequestResponse.objects.create(inquiry=inquiry, monetary_account=target.account)
    audit_record(
        action="request_inquiry.created",
        actor=actor,
        customer=customer,
        connection=connection,
        target=inquiry,
        data={"amount": str(amount), "to": target.value},
    )
    return inquiry


@atomic_with_retry
def request_inquiry_revoke(*, inquiry_id: int, customer: Any, actor: Any, connection: Any = None) -> RequestInquiry:
    inquiry = (
        RequestInquiry.objects.select_for_update()
        .filter(pk=inquiry_id, monetary_account__in=accounts_of(customer).values("pk"))
        .first()
    )
    if inquiry is None:
        raise NotFound("No such payment request.")
    if inquiry.status != RequestStatus.PENDING:
        raise InvalidState(
            f"This request is already {inquiry.status.lower()}.", code=f"request_{inquiry.status.lower()}"
        )
    inquiry.status = RequestStatus.REVOKED
    inquiry.save(update_fields=["status", "updated"])
    RequestResponse.objects.filter(inquiry=inquiry).update(status=RequestStatus.REVOKED, updated=timezone.now())
    audit_record(
        action="request_inquiry.revoked", actor=actor, customer=customer, connection=connection, target=inquiry
    )
    return inquiry


def _lock_pending_response(*, response_id: int, customer: Any) -> RequestResponse:
    response = (
        RequestResponse.objects.select_for_update()
        .select_related("inquiry")
        .filter(pk=response_id, monetary_account__in=accounts_of(customer).values("pk"))
        .first()
    )
    if response is None:
        raise NotFound("No such payment request.")
    if response.status != RequestStatus.PENDING:
        raise InvalidState(
            f"This request is already {response.status.lower()}.", code=f"request_{response.status.lower()}"
        )
    return response


@atomic_with_retry
def request_response_accept(*, response_id: int, customer: Any, source: MonetaryAccount) -> RequestResponse:
    """The customer pays a request they received, from the account they choose."""
    response = _lock_pending_response(response_id=response_id, customer=customer)
    if not accounts_of(customer).filter(pk=source.pk).exists():
        raise PermissionDenied("You can pay only from your own accounts.", code="not_your_account")
    inquiry = RequestInquiry.objects.select_for_update().get(pk=response.inquiry_id)
    locked = lock_accounts([source.pk, inquiry.monetary_account_id])
    requester_account = locked[inquiry.monetary_account_id]
    target = ResolvedCounterparty(
        "IBAN", requester_account.iban, display_name(requester_account.owner), requester_account
    )
    ensure_savings_rule(customer=customer, source=locked[source.pk], target=target)
    payment = ledger_move(
        source=locked[source.pk], target=target, amount=inquiry.amount, description=inquiry.description
    )[0]
    response.status = RequestStatus.ACCEPTED
    response.payment = payment
    response.save(update_fields=["status", "payment", "updated"])
    inquiry.status = RequestStatus.ACCEPTED
    inquiry.save(update_fields=["status", "updated"])
    audit_record(
        action="request_response.accepted",
        actor=customer,
        customer=customer,
        target=response,
        data={"payment_id": payment.pk, "amount": str(inquiry.amount)},
    )
    return response


@atomic_with_retry
def request_response_reject(*, response_id: int, customer: Any) -> RequestResponse:
    response = _lock_pending_response(response_id=response_id, customer=customer)
    response.status = RequestStatus.REJECTED
    response.save(update_fields=["status", "updated"])
    RequestInquiry.objects.filter(pk=response.inquiry_id).update(status=RequestStatus.REJECTED, updated=timezone.now())
    audit_record(action="request_response.rejected", actor=customer, customer=customer, target=response)
    return response
