"""The audit log: one append-only event per act, written in the act's own transaction. Never given
a token, code, secret or card number. Who acted is typed: the person (`actor`), the customer whose
data it is, and the app's connection when an app acted."""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import models

from bank.models import AuditEvent
from bank.vocabulary import ActorType, AuditAction

if TYPE_CHECKING:
    from connections.models import Application, Connection

type AuditValue = str | int | bool | Sequence[AuditValue] | Mapping[str, AuditValue] | None
type AuditData = dict[str, AuditValue]


def actor_type_for(*, actor: User | None, customer: User | None, connection: "Connection | None" = None) -> ActorType:
    if connection is not None:
        return ActorType.APP
    if actor is None:
        return ActorType.SYSTEM
    if actor.is_staff and customer is not None and actor.pk != customer.pk:
        return ActorType.STAFF
    return ActorType.CUSTOMER


def audit_record(
    *,
    action: AuditAction,
    actor: User | None,
    customer: User | None = None,
    connection: "Connection | None" = None,
    application: "Application | None" = None,
    target: models.Model | None = None,
    actor_type: ActorType | None = None,
    data: AuditData | None = None,
) -> AuditEvent:
    # By id: loading the application would cost a query, often while account rows are locked.
    application_id = application.pk if application is not None else getattr(connection, "application_id", None)
    return AuditEvent.objects.create(
        action=action,
        actor_type=actor_type or actor_type_for(actor=actor, customer=customer, connection=connection),
        actor=actor,
        customer=customer,
        application_id=application_id,
        connection_id=connection.pk if connection is not None else None,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
