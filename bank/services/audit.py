"""The audit log: one append-only event per act. Never given a token, code, secret or card number."""

from typing import Any

from django.db import models

from bank.models import ActorType, AuditEvent


def actor_type_for(*, actor: Any, customer: Any, connection: Any = None) -> str:
    if connection is not None:
        return ActorType.APP
    if actor is None:
        return ActorType.SYSTEM
    if getattr(actor, "is_staff", False) and customer is not None and actor.pk != customer.pk:
        return ActorType.STAFF
    return ActorType.CUSTOMER


def audit_record(
    *,
    action: str,
    actor: Any,
    customer: Any = None,
    connection: Any = None,
    application: Any = None,
    target: models.Model | None = None,
    actor_type: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    # By id: loading the application would cost a query, often while account rows are locked.
    application_id = application.pk if application is not None else getattr(connection, "application_id", None)
    return AuditEvent.objects.create(
        action=action,
        actor_type=actor_type or actor_type_for(actor=actor, customer=customer, connection=connection),
        actor=actor,
        customer=customer,
        application_id=application_id,
        connection=connection,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
