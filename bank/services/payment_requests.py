"""Payment requests: sent (request inquiries) and received (request responses)."""

from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.utils import timezone

from bank.core.audit import acting, audit_record, by_customer
from bank.core.errors import ErrorCode, InvalidState, ValidationFailed
from bank.core.events import Audience, events_record
from bank.core.transactions import atomic_with_retry
from bank.models import MonetaryAccount, RequestInquiry, RequestResponse, RequestStatus
from bank.selectors import Pointer, ResolvedCounterparty, account_ids_of, is_own_account, pointer_resolve
from bank.vocabulary import AuditAction, EventType

from . import rules
from .ledger import ledger_post, ledger_prepare

if TYPE_CHECKING:
    from connections.models import Connection

ALREADY: dict[str, ErrorCode] = {
    RequestStatus.ACCEPTED: ErrorCode.REQUEST_ACCEPTED,
    RequestStatus.REJECTED: ErrorCode.REQUEST_REJECTED,
    RequestStatus.REVOKED: ErrorCode.REQUEST_REVOKED,
}


def _ensure_pending(request: RequestInquiry | RequestResponse) -> None:
    if request.status != RequestStatus.PENDING:
        raise InvalidState(f"This request is already {request.status.lower()}.", code=ALREADY[request.status])


@atomic_with_retry
def request_inquiry_create(
    *,
    customer: User,
    account: MonetaryAccount,
    amount: Decimal,
    counterparty: Pointer,
    description: str = "",
    actor: User,
    connection: "Connection | None" = None,
) -> RequestInquiry:
    amount = rules.checked_amount(amount)
    rules.checked_description(description)
    rules.ensure_own_account(
        customer=customer, account=account, message="You can request money only into your own accounts."
    )
    rules.ensure_active(account)
    target = pointer_resolve(counterparty)
    if target.account is not None and is_own_account(customer=customer, account=target.account):
        raise ValidationFailed(
            "You cannot request money from yourself.", code=ErrorCode.REQUEST_TO_SELF, field="counterparty_alias"
        )
    rules.ensure_within_sandbox(customer_id=account.owner_id, other_id=target.owner_id, field="counterparty_alias")
    inquiry = RequestInquiry.objects.create(
        monetary_account=account,
        created_by=customer,
        connection_id=connection.pk if connection is not None else None,
        amount=amount,
        description=description,
        **target.as_fields(),
    )
    created: list[RequestInquiry | RequestResponse] = [inquiry]
    if target.account is not None:
        created.append(RequestResponse.objects.create(inquiry=inquiry, monetary_account=target.account))
    _request_events(EventType.REQUEST_CREATED, created)
    audit_record(
        AuditAction.REQUEST_INQUIRY_CREATED,
        acting(actor, customer=customer, connection=connection),
        target=inquiry,
        data={"amount": str(amount), "to": target.value},
    )
    return inquiry


@atomic_with_retry
def request_inquiry_revoke(
    *, inquiry_id: int, customer: User, actor: User, connection: "Connection | None" = None
) -> RequestInquiry:
    inquiry = rules.lock_owned(
        RequestInquiry.objects.filter(monetary_account__in=account_ids_of(customer=customer)),
        pk=inquiry_id,
        not_found="No such payment request.",
    )
    _ensure_pending(inquiry)
    inquiry.status = RequestStatus.REVOKED
    inquiry.save(update_fields=["status", "updated"])
    responses = list(RequestResponse.objects.select_for_update().filter(inquiry=inquiry))
    RequestResponse.objects.filter(inquiry=inquiry).update(status=RequestStatus.REVOKED, updated=timezone.now())
    for response in responses:
        response.status = RequestStatus.REVOKED
    _request_events(EventType.REQUEST_UPDATED, [inquiry, *responses])
    audit_record(
        AuditAction.REQUEST_INQUIRY_REVOKED, acting(actor, customer=customer, connection=connection), target=inquiry
    )
    return inquiry


def _lock_pending_response(*, response_id: int, customer: User) -> RequestResponse:
    response = rules.lock_owned(
        RequestResponse.objects.select_related("inquiry").filter(
            monetary_account__in=account_ids_of(customer=customer)
        ),
        pk=response_id,
        not_found="No such payment request.",
    )
    _ensure_pending(response)
    return response


@atomic_with_retry
def request_response_accept(*, response_id: int, customer: User, source: MonetaryAccount) -> RequestResponse:
    """The customer pays a request they received, from the account they choose."""
    response = _lock_pending_response(response_id=response_id, customer=customer)
    rules.ensure_own_account(customer=customer, account=source, message="You can pay only from your own accounts.")
    inquiry = (
        RequestInquiry.objects.select_for_update(of=("self",))
        .select_related("monetary_account__owner")
        .get(pk=response.inquiry_id)
    )
    target = ResolvedCounterparty.of_account(inquiry.monetary_account)
    rules.ensure_savings_rule(customer=customer, source=source, target=target)
    payments = ledger_prepare(source=source, target=target, amount=inquiry.amount, description=inquiry.description)
    ledger_post(payments)
    payment = payments[0]
    response.status = RequestStatus.ACCEPTED
    response.payment = payment
    response.save(update_fields=["status", "payment", "updated"])
    inquiry.status = RequestStatus.ACCEPTED
    inquiry.save(update_fields=["status", "updated"])
    _request_events(EventType.REQUEST_UPDATED, [inquiry, response])
    audit_record(
        AuditAction.REQUEST_RESPONSE_ACCEPTED,
        by_customer(customer),
        target=response,
        data={"payment_id": payment.pk, "amount": str(inquiry.amount)},
    )
    return response


@atomic_with_retry
def request_response_reject(*, response_id: int, customer: User) -> RequestResponse:
    response = _lock_pending_response(response_id=response_id, customer=customer)
    response.status = RequestStatus.REJECTED
    response.save(update_fields=["status", "updated"])
    inquiry = RequestInquiry.objects.select_for_update().get(pk=response.inquiry_id)
    inquiry.status = RequestStatus.REJECTED
    inquiry.save(update_fields=["status", "updated"])
    _request_events(EventType.REQUEST_UPDATED, [inquiry, response])
    audit_record(AuditAction.REQUEST_RESPONSE_REJECTED, by_customer(customer), target=response)
    return response


def _request_events(type: EventType, subjects: list[RequestInquiry | RequestResponse]) -> None:
    """A request's events: each inquiry and response that changed, on its own account (the
    requester's, the payer's)."""
    events_record(type, subjects, [Audience(account_id=subject.monetary_account_id) for subject in subjects])
