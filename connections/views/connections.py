"""The customer's pages for their app connections (Profile → Settings → Security → My app
connections). Every page starts from the logged-in customer: another customer's connection is a 404."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from bank.core.errors import DomainError
from bank.core.http import AuthenticatedHttpRequest, customer_page, see_other
from bank.core.replica import replica_reads
from connections.forms import SharedAccountsForm
from connections.models import RevokedBy
from connections.selectors import (
    active_connections_of,
    connection_activity,
    connections_of,
    ended_connections_of,
    pending_drafts_of,
    revocation_of,
)
from connections.services.connections import connection_revoke, connection_set_accounts


@customer_page("GET")
def connections_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    with replica_reads(customer_id=request.user.pk):
        return render(
            request,
            "connections/list.html",
            {
                "connections": active_connections_of(customer=request.user),
                "ended": ended_connections_of(customer=request.user).exists(),
            },
        )


@customer_page("GET", "POST")
def connection_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(connections_of(customer=request.user), pk=pk)
    form = SharedAccountsForm(
        request.POST if request.method == "POST" else None,
        customer=request.user,
        initial={"accounts": list(connection.accounts.all())},
    )
    if request.method == "POST" and connection.is_active and form.is_valid():
        try:
            connection_set_accounts(connection=connection, user=request.user, accounts=form.cleaned_data["accounts"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{connection.application.name} now sees only the accounts you ticked.")
            return see_other("connection-detail", connection.pk)
    return render(
        request,
        "connections/detail.html",
        {"connection": connection, "form": form, "activity": connection_activity(connection=connection)},
    )


@customer_page("GET", "POST")
def connection_revoke_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(connections_of(customer=request.user), pk=pk)
    if not connection.is_active:
        return see_other("connection-revoked", connection.pk)
    if request.method == "POST":
        connection_revoke(connection=connection, by=RevokedBy.CUSTOMER, actor=request.user)
        return see_other("connection-revoked", connection.pk)
    pending = pending_drafts_of(connection=connection).count()
    return render(request, "connections/revoke.html", {"connection": connection, "pending_drafts": pending})


@customer_page("GET")
def connection_revoked(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(connections_of(customer=request.user), pk=pk)
    if connection.is_active:
        return see_other("connection-detail", connection.pk)
    return render(
        request, "connections/revoked.html", {"connection": connection, "event": revocation_of(connection=connection)}
    )


@customer_page("GET")
def connections_history(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "connections/history.html", {"connections": ended_connections_of(customer=request.user)})
