"""The outbox: services record what changed, in their own transaction, beside the audit event.

`event_record` writes an `Event` row with the object as the API returns it at that moment (its
representation is registered by the API layer, `bank/api/callbacks.py`, so the domain does not
depend on the API), and asks for the worker once the transaction commits: `events_committed` is sent
then, and the callbacks' side (connections) enqueues the work. A rolled-back change leaves no event;
an event whose signal was lost (the process died right after commit) is found by the periodic sweep.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from django.db import models, transaction
from django.dispatch import Signal

from bank.models import Event
from bank.vocabulary import EventType

type Representation = dict[str, object]

# How each kind of object looks in a callback: the same as in the API. Filled by the API layer.
_representations: dict[type[models.Model], Callable[[models.Model], Representation]] = {}

# Sent after a transaction that recorded events has committed, with their ids.
events_committed = Signal()


def representation_register[M: models.Model](model: type[M], render: Callable[[M], Representation]) -> None:
    _representations[model] = cast(Callable[[models.Model], Representation], render)


def _represented(subject: models.Model) -> Representation:
    render = _representations.get(type(subject))
    if render is None:
        raise LookupError(f"No representation is registered for {type(subject).__name__}.")
    return render(subject)


@dataclass(frozen=True)
class Audience:
    """Who may hear of an event: apps sharing its account, apps of its customer, or its connection."""

    account_id: int | None = None
    customer_id: int | None = None
    connection_id: int | None = None


def events_record(type: EventType, subjects: Sequence[models.Model], audiences: Sequence[Audience]) -> list[Event]:
    """One event per subject, for its audience, in one insert, in the caller's transaction. By ids:
    the caller often holds row locks, and loading rows would cost queries."""
    events = [
        Event(
            type=type,
            data=_represented(subject),
            monetary_account_id=audience.account_id,
            customer_id=audience.customer_id,
            connection_id=audience.connection_id,
        )
        for subject, audience in zip(subjects, audiences, strict=True)
    ]
    Event.objects.bulk_create(events)
    ids = [str(event.id) for event in events]
    transaction.on_commit(lambda: events_committed.send(sender=Event, event_ids=ids), robust=True)
    return events


def event_record(type: EventType, subject: models.Model, audience: Audience) -> Event:
    return events_record(type, [subject], [audience])[0]
