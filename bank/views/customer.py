"""The logged-in customer's pages: home, profile, settings, security, and answering joint-account
invitations."""

from django.http import HttpResponse
from django.shortcuts import render

from bank.core.http import AuthenticatedHttpRequest, act_and_see_other, customer_page
from bank.core.replica import replica_reads
from bank.selectors import accounts_of, passkeys_of, pending_invitations, recent_payments, security_events_of
from bank.services.accounts import co_owner_answer
from connections.selectors import active_connections_of


@customer_page("GET")
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    customer = request.user
    with replica_reads(customer_id=customer.pk):
        return render(
            request,
            "bank/home.html",
            {
                "accounts": accounts_of(customer=customer).order_by("id"),
                "payments": recent_payments(customer=customer),
                "invitations": pending_invitations(customer=customer),
                "connected_apps": active_connections_of(customer=customer).count(),
                "security_events": security_events_of(customer=customer),
            },
        )


@customer_page("POST")
def invitation_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    accept = request.POST.get("answer") == "accept"

    def answer() -> str:
        name = co_owner_answer(invitation_id=pk, customer=request.user, accept=accept).account.description
        return f"You now co-own “{name}”." if accept else f"You declined “{name}”."

    return act_and_see_other(request, answer, "home")


@customer_page("GET")
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "bank/profile.html")


@customer_page("GET")
def profile_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "bank/settings.html")


@customer_page("GET")
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    customer = request.user
    return render(
        request,
        "bank/security.html",
        {
            "connected_apps": active_connections_of(customer=customer).count(),
            "passkey_count": passkeys_of(customer=customer).count(),
        },
    )
