"""The outbox: services record what changed, in their own transaction, beside the audit event.

`events_record` writes one `Event` row per changed object, in one insert, in the caller's
transaction: a rolled-back change leaves no event, a committed one always has its event. Nothing else
happens in the transaction, and nothing after it: the scheduler's relay reads committed events and
hands them to the workers (connections.tasks), so a web process that dies right after commit loses
nothing.

A callback carries the object as the API returns it (its representation is registered by the API
layer, `bank/api/callbacks.py`, so the domain does not depend on the API). A mutable object
(a draft, a card, a request, a connection) is rendered at the event, as it was then. An immutable one
(a booked payment never changes) is rendered when its callbacks are prepared, outside the
transaction that booked it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import cast

from django.db import models
from django.utils import timezone

from bank.models import Event
from bank.vocabulary import EventType

type Representation = dict[str, object]


@dataclass(frozen=True)
class _Representation:
    model: type[models.Model]
    render: Callable[[models.Model], Representation]
    immutable: bool


# How each kind of object looks in a callback: the same as in the API. Filled by the API layer.
_representations: dict[str, _Representation] = {}


def representation_register[M: models.Model](
    model: type[M], render: Callable[[M], Representation], *, immutable: bool = False
) -> None:
    _representations[model._meta.label_lower] = _Representation(
        model, cast(Callable[[models.Model], Representation], render), immutable
    )


def _rendered(representation: _Representation, subject: models.Model) -> Representation:
    """As the API renders it: timestamps in UTC, whichever page or job made the change."""
    with timezone.override(UTC):
        return representation.render(subject)


def _representation(subject_type: str) -> _Representation:
    try:
        return _representations[subject_type]
    except KeyError:
        raise LookupError(f"No representation is registered for {subject_type}.") from None


@dataclass(frozen=True)
class Audience:
    """Who may hear of an event: apps sharing its account, apps of its customer, or its connection."""

    account_id: int | None = None
    customer_id: int | None = None
    connection_id: int | None = None


def events_record(type: EventType, subjects: Sequence[models.Model], audiences: Sequence[Audience]) -> list[Event]:
    """One event per subject, for its audience, in one insert, in the caller's transaction. By ids:
    the caller often holds row locks, and loading rows would cost queries."""
    return Event.objects.bulk_create(events_build(type, subjects, audiences))


def events_build(type: EventType, subjects: Sequence[models.Model], audiences: Sequence[Audience]) -> list[Event]:
    """The events that `events_record` writes, not yet written: the ledger writes a payment's event
    in the statement that writes the payment (bank.services.ledger), which gives the event its
    `subject_id`."""
    events = []
    for subject, audience in zip(subjects, audiences, strict=True):
        label = subject._meta.label_lower
        representation = _representation(label)
        events.append(
            Event(
                type=type,
                subject_type=label,
                subject_id=subject.pk,
                data=None if representation.immutable else _rendered(representation, subject),
                monetary_account_id=audience.account_id,
                customer_id=audience.customer_id,
                connection_id=audience.connection_id,
            )
        )
    return events


def event_record(type: EventType, subject: models.Model, audience: Audience) -> Event:
    return events_record(type, [subject], [audience])[0]


def event_data(event: Event) -> Representation:
    """The event's object as the API returns it: recorded with the event, or (an immutable object)
    rendered now, once, and kept."""
    if event.data is None:
        representation = _representation(event.subject_type)
        subject = representation.model._default_manager.get(pk=event.subject_id)
        event.data = _rendered(representation, subject)
        Event.objects.filter(pk=event.pk, data__isnull=True).update(data=event.data)
    return cast(Representation, event.data)
