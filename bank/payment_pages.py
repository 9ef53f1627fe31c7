"""The customer's own acts on money that apps and other customers asked for: approving or rejecting
draft payments (/draft-payments/) and paying or rejecting payment requests (/payment-requests/).
Paying needs the customer's password again (strong customer authentication, see stepup.py)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .errors import DomainError, NotFound
from .models import AccountStatus, MonetaryAccount, RequestStatus
from .redirects import see_other
from .selectors import accounts_of, answered_drafts, drafts_for_approval, received_requests, sent_requests
from .services.drafts import MAX_REASON, draft_payment_accept, draft_payment_reject
from .services.payment_requests import request_response_accept, request_response_reject
from .stepup import step_up_verify


def _answered(request: HttpRequest, exc: DomainError) -> None:
    """Another customer's draft or request does not exist for this one (404); other refusals are
    shown on the page they came from."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from exc
    messages.error(request, exc.message)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=MAX_REASON, required=False)


@login_required
@never_cache
def draft_payments(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bank/draft_payments.html",
        {"pending": drafts_for_approval(request.user), "answered": answered_drafts(request.user)},
    )


@login_required
@require_POST
def draft_payment_approve(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        step_up_verify(user=request.user, password=request.POST.get("password", ""), purpose=f"draft_payment:{pk}")
        draft = draft_payment_accept(draft_id=pk, customer=request.user)
    except DomainError as exc:
        _answered(request, exc)
    else:
        messages.success(request, f"Approved and paid: draft {draft.pk} from {draft.monetary_account.description}.")
    return see_other("draft-payments")


@login_required
@require_POST
def draft_payment_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"A reason has at most {MAX_REASON} characters.")
        return see_other("draft-payments")
    try:
        draft_payment_reject(draft_id=pk, customer=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        _answered(request, exc)
    else:
        messages.success(request, "Rejected. Nothing was paid; the app can see your reason.")
    return see_other("draft-payments")


@login_required
@never_cache
def payment_requests(request: HttpRequest) -> HttpResponse:
    received = received_requests(request.user)
    return render(
        request,
        "bank/payment_requests.html",
        {
            "waiting": received.filter(status=RequestStatus.PENDING).order_by("created"),
            "answered": received.exclude(status=RequestStatus.PENDING).order_by("-updated")[:20],
            "sent": sent_requests(request.user),
            "accounts": accounts_of(request.user).filter(status=AccountStatus.ACTIVE).order_by("id"),
        },
    )


class PayForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=MonetaryAccount.objects.none(),
        error_messages={
            "required": "Choose one of your accounts to pay from.",
            "invalid_choice": "Choose one of your accounts to pay from.",
        },
    )
    password = forms.CharField(strip=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = accounts_of(user).filter(status=AccountStatus.ACTIVE)


@login_required
@require_POST
def payment_request_pay(request: HttpRequest, pk: int) -> HttpResponse:
    form = PayForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return see_other("payment-requests")
    source = form.cleaned_data["account"]
    try:
        step_up_verify(user=request.user, password=form.cleaned_data["password"], purpose=f"request:{pk}")
        response = request_response_accept(response_id=pk, customer=request.user, source=source)
    except DomainError as exc:
        _answered(request, exc)
    else:
        messages.success(request, f"Paid €{response.inquiry.amount} from {source.description}.")
    return see_other("payment-requests")


@login_required
@require_POST
def payment_request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        request_response_reject(response_id=pk, customer=request.user)
    except DomainError as exc:
        _answered(request, exc)
    else:
        messages.success(request, "Rejected. Nothing was paid.")
    return see_other("payment-requests")
