"""How each object looks in a callback: exactly as the API returns it (SPEC §9). Registered with the
outbox (bank.core.events) when the app starts, so the services that record events need not know the
API. The connection's own events carry what `GET /api/v1/me/` says of it."""

from collections.abc import Callable

from django.db import models

from bank.core.events import Representation, representation_register
from bank.models import Card, DraftPayment, Payment, RequestInquiry, RequestResponse
from bank.selectors import display_name
from connections.models import Connection
from connections.selectors import shared_account_ids

from . import serializers as s


def connection_representation(connection: Connection) -> Representation:
    return {
        "id": connection.user_id,
        "display_name": display_name(connection.user),
        "scopes": connection.scope_list,
        "account_ids": sorted(shared_account_ids(connection=connection)),
        "expires_at": connection.expires_at,
    }


def _draft(draft: DraftPayment) -> Representation:
    if not hasattr(draft, "shown_status"):
        draft.shown_status = draft.status  # type: ignore[attr-defined]  # at the event, the status is exact
    return dict(s.DraftPaymentSerializer(draft).data)


def _with(serializer: type[s.serializers.Serializer[models.Model]]) -> Callable[[models.Model], Representation]:
    def render(instance: models.Model) -> Representation:
        return dict(serializer(instance).data)

    return render


def representations_register() -> None:
    representation_register(Payment, _with(s.PaymentSerializer), immutable=True)  # a booked payment never changes
    representation_register(DraftPayment, _draft)
    representation_register(RequestInquiry, _with(s.RequestInquirySerializer))
    representation_register(RequestResponse, _with(s.RequestResponseSerializer))
    representation_register(Card, _with(s.CardSerializer))
    representation_register(Connection, connection_representation)
