"""The audit log: one append-only event per act, written in the act's own transaction. Never given
a token, code, secret or card number. Who acted is typed once, as an `Actor`: the kind of actor, the
person, the customer whose data it is, and the app's connection when an app acted."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import models

from bank.models import AuditEvent
from bank.vocabulary import ActorType, AuditAction

if TYPE_CHECKING:
    from connections.models import Application, Connection

type AuditValue = str | int | bool | Sequence[AuditValue] | Mapping[str, AuditValue] | None
type AuditData = dict[str, AuditValue]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted, typed once: the kind of actor, the person (none when the bank itself or an app
    acted), the customer whose data it is, and the app's connection when an app was involved.
    The functions below name the usual actors; build one by hand only for a rule of your own (a
    revocation typed by who revoked, a login typed by staff or customer)."""

    type: ActorType
    user: User | None = None
    customer: User | None = None
    connection: "Connection | None" = None


def by_customer(customer: User, *, connection: "Connection | None" = None) -> Actor:
    """A customer acting on their own data in the bank's pages (on an app's draft: its connection)."""
    return Actor(ActorType.CUSTOMER, customer, customer, connection)


def by_developer(developer: User) -> Actor:
    """A customer acting as the developer of their own app."""
    return Actor(ActorType.CUSTOMER, developer, developer)


def by_staff(staff: User, *, customer: User | None = None) -> Actor:
    """A member of the bank's staff; `customer` when they acted on a customer's data."""
    return Actor(ActorType.STAFF, staff, customer)


def by_app(connection: "Connection | None", *, customer: User | None = None) -> Actor:
    """An app, through its connection (or, before it has one, through its client credentials)."""
    return Actor(ActorType.APP, None, customer, connection)


def by_system(*, customer: User | None = None, connection: "Connection | None" = None) -> Actor:
    """The bank itself: a periodic job, a failed login nobody can be named for, an expiry."""
    return Actor(ActorType.SYSTEM, None, customer, connection)


def acting(user: User | None, *, customer: User | None, connection: "Connection | None" = None) -> Actor:
    """Whoever called a service that customers, apps and staff share, typed from its arguments."""
    if connection is not None:
        kind = ActorType.APP
    elif user is None:
        kind = ActorType.SYSTEM
    elif user.is_staff and customer is not None and user.pk != customer.pk:
        kind = ActorType.STAFF
    else:
        kind = ActorType.CUSTOMER
    return Actor(kind, user, customer, connection)


def audit_record(
    action: AuditAction,
    by: Actor,
    *,
    application: "Application | None" = None,
    target: models.Model | None = None,
    data: AuditData | None = None,
) -> AuditEvent:
    """Write one event for `action`, done `by` someone, on `target`, with `data` staff may read."""
    connection = by.connection
    # By id: loading the application would cost a query, often while account rows are locked.
    application_id = application.pk if application is not None else getattr(connection, "application_id", None)
    return AuditEvent.objects.create(
        action=action,
        actor_type=by.type,
        actor=by.user,
        customer=by.customer,
        application_id=application_id,
        connection_id=connection.pk if connection is not None else None,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
