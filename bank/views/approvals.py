"""The customer's own acts on money that apps and other customers asked for: approving or rejecting
draft payments (/draft-payments/) and paying or rejecting payment requests (/payment-requests/).
Paying needs a second factor (strong customer authentication): the customer's passkey, bound to
exactly what is paid (bank.services.passkeys), or, for a customer without one, the password again
(bank.services.security)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render

from bank.core.http import (
    AuthenticatedHttpRequest,
    act_and_see_other,
    customer_page,
    no_store_json,
    see_other,
    session_key_of,
)
from bank.forms import PayForm, RejectForm, form_errors
from bank.selectors import (
    active_accounts_of,
    answered_drafts,
    answered_requests,
    drafts_for_approval,
    sent_requests,
    waiting_requests,
)
from bank.services.drafts import draft_payment_accept, draft_payment_reject
from bank.services.passkeys import (
    CREDENTIAL_FIELD,
    Approval,
    draft_approval,
    has_passkey,
    request_approval,
    second_factor_confirm,
)
from bank.services.payment_requests import request_response_accept, request_response_reject

from .passkeys import approval_options, wants_options


def _second_factor(request: AuthenticatedHttpRequest, approval: Approval, *, password: str) -> None:
    second_factor_confirm(
        customer=request.user,
        session_key=session_key_of(request),
        approval=approval,
        credential=request.POST.get(CREDENTIAL_FIELD, ""),
        password=password,
    )


@customer_page("GET")
def draft_payments(request: AuthenticatedHttpRequest) -> HttpResponse:
    customer = request.user
    return render(
        request,
        "bank/draft_payments.html",
        {
            "pending": drafts_for_approval(customer=customer),
            "answered": answered_drafts(customer=customer),
            "has_passkey": has_passkey(customer=customer),
        },
    )


@customer_page("POST")
def draft_payment_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def approval() -> Approval:  # what the customer approves, read again from the database
        return draft_approval(customer=request.user, draft_id=pk)

    if wants_options(request):
        return approval_options(request, approval)

    def approve() -> str:
        _second_factor(request, approval(), password=request.POST.get("password", ""))
        draft = draft_payment_accept(draft_id=pk, customer=request.user)
        return f"Approved and paid: draft {draft.pk} from {draft.monetary_account.description}."

    return act_and_see_other(request, approve, "draft-payments")


@customer_page("POST")
def draft_payment_reject_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return see_other("draft-payments")

    def reject() -> str:
        draft_payment_reject(draft_id=pk, customer=request.user, reason=form.cleaned_data["reason"])
        return "Rejected. Nothing was paid; the app can see your reason."

    return act_and_see_other(request, reject, "draft-payments")


@customer_page("GET")
def payment_requests(request: AuthenticatedHttpRequest) -> HttpResponse:
    customer = request.user
    return render(
        request,
        "bank/payment_requests.html",
        {
            "waiting": waiting_requests(customer=customer),
            "answered": answered_requests(customer=customer),
            "sent": sent_requests(customer=customer),
            "accounts": active_accounts_of(customer=customer),
            "has_passkey": has_passkey(customer=customer),
        },
    )


@customer_page("POST")
def payment_request_pay(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    form = PayForm(request.POST, customer=request.user)
    if not form.is_valid():
        if wants_options(request):
            return no_store_json({"code": "invalid", "detail": form_errors(form)}, status=400)
        messages.error(request, form_errors(form))
        return see_other("payment-requests")
    source = form.cleaned_data["account"]

    def approval() -> Approval:
        return request_approval(customer=request.user, response_id=pk, source=source)

    if wants_options(request):
        return approval_options(request, approval)

    def pay() -> str:
        _second_factor(request, approval(), password=form.cleaned_data["password"])
        response = request_response_accept(response_id=pk, customer=request.user, source=source)
        return f"Paid €{response.inquiry.amount} from {source.description}."

    return act_and_see_other(request, pay, "payment-requests")


@customer_page("POST")
def payment_request_reject(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def reject() -> str:
        request_response_reject(response_id=pk, customer=request.user)
        return "Rejected. Nothing was paid."

    return act_and_see_other(request, reject, "payment-requests")
