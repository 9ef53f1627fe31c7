"""Callbacks to apps (SPEC §9): the notification filters an app sets per connection, its signing
secret, and the deliveries the worker makes of the bank's events.

From event to callback:
1. A service records an `Event` in its own transaction (bank.core.events); the scheduler's relay
   hands committed events to the workers (connections.tasks.outbox_relay).
2. `deliveries_prepare` decides who hears of it (the filters of connections that may see it, with
   the scope its category needs, decided as the API decides what an app sees) and writes one
   `Delivery` per filter, once, however often it runs.
3. `delivery_attempt` leases a due delivery, signs and sends it, and records the answer: 2xx is
   delivered; anything else is retried with growing pauses (CALLBACK_RETRY_SCHEDULE, more than a
   day), then failed. A delivery whose worker died mid-send is due again when its lease runs out,
   and goes with the same `webhook-id`. A filter whose target fails for CALLBACK_DISABLE_AFTER is
   disabled and its developer told. After a connection ends, its filters get the event that ended
   it and nothing more.
"""

import json
import logging
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from bank.core.audit import audit_record, by_app, by_developer
from bank.core.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from bank.core.events import event_data
from bank.models import Event
from bank.vocabulary import AuditAction, EventType, NotificationCategory
from connections import scopes as scope_table
from connections.models import Application, Connection, Delivery, DeliveryStatus, NotificationFilter
from connections.selectors import is_account_shared, scopes_allowed
from connections.webhooks import (
    Answer,
    TargetRefused,
    post,
    seal,
    signature_headers,
    signing_secret_new,
    target_checked,
    unseal,
)

from .alerts import ALERT_FILTER_DISABLED, alert_developer

ENDINGS = (EventType.CONNECTION_REVOKED, EventType.CONNECTION_EXPIRED)
logger = logging.getLogger(__name__)

# --- signing secrets ---------------------------------------------------------------------------


@transaction.atomic
def signing_secret_rotate(*, application: Application, developer: User) -> str:
    """A new signing secret for the app's callbacks (the old one stops at once); shown this once."""
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    secret = signing_secret_new()
    application.signing_secret = seal(secret)
    application.save(update_fields=["signing_secret"])
    audit_record(AuditAction.APPLICATION_SIGNING_SECRET_ROTATED, by_developer(developer), application=application)
    return secret


def signing_secret_set(*, application: Application, secret: str) -> None:
    """Give an app a known secret (the demo's Budget Buddy)."""
    Application.objects.filter(pk=application.pk).update(signing_secret=seal(secret))


# --- notification filters ----------------------------------------------------------------------


def _effective_scopes(connection: Connection) -> set[str]:
    return set(connection.scope.split()) & scopes_allowed(
        application=connection.application, customer_id=connection.user_id
    )


def category_allowed(category: str, scopes: set[str]) -> bool:
    needed = scope_table.CATEGORY_SCOPES[NotificationCategory(category)]
    return needed is None or bool(needed & scopes)


@transaction.atomic
def notification_filter_create(*, connection: Connection, category: str, target: str) -> NotificationFilter:
    if category not in NotificationCategory.values:
        raise ValidationFailed(
            f"The category is one of {', '.join(NotificationCategory.values)}.",
            code=ErrorCode.INVALID,
            field="category",
        )
    if not category_allowed(category, _effective_scopes(connection)):
        needed = sorted(scope_table.CATEGORY_SCOPES[NotificationCategory(category)] or [])
        raise PermissionDenied(
            f"Callbacks about {category} need one of these scopes: {', '.join(needed)}.",
            code=ErrorCode.INSUFFICIENT_SCOPE,
        )
    try:
        target = target_checked(target, allow_loopback=settings.CALLBACKS_ALLOW_LOOPBACK)
    except TargetRefused as exc:
        raise ValidationFailed(str(exc), code=ErrorCode.INVALID_TARGET, field="notification_target") from exc
    duplicate = ValidationFailed(
        "This connection already has a filter for this category and target.",
        code=ErrorCode.DUPLICATE_FILTER,
        field="notification_target",
    )
    same = NotificationFilter.objects.filter(connection=connection, category=category, notification_target=target)
    if same.filter(disabled_at__isnull=True).exists():
        raise duplicate
    same.filter(disabled_at__isnull=False).delete()  # a disabled one: asking again makes it anew
    try:
        with transaction.atomic():  # two of the same at once: the unique constraint keeps one
            notification_filter = NotificationFilter.objects.create(
                connection=connection, category=category, notification_target=target
            )
    except IntegrityError:
        raise duplicate from None
    audit_record(
        AuditAction.NOTIFICATION_FILTER_CREATED,
        by_app(connection, customer=connection.user),
        target=notification_filter,
        data={"category": category, "target": target},
    )
    return notification_filter


@transaction.atomic
def notification_filter_delete(*, connection: Connection, filter_id: int) -> None:
    notification_filter = NotificationFilter.objects.filter(connection=connection, pk=filter_id).first()
    if notification_filter is None:
        raise NotFound("No such notification filter.")
    audit_record(
        AuditAction.NOTIFICATION_FILTER_DELETED,
        by_app(connection, customer=connection.user),
        target=notification_filter,
        data={"category": notification_filter.category, "target": notification_filter.notification_target},
    )
    Delivery.objects.filter(notification_filter=notification_filter, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED
    )
    notification_filter.delete()


# --- who hears of an event ---------------------------------------------------------------------


def _listening(event: Event) -> QuerySet[NotificationFilter]:
    """The filters that may hear of `event`, before each connection's own checks."""
    category = EventType(event.type).category
    if event.monetary_account_id is None and category != NotificationCategory.CONNECTION:
        return NotificationFilter.objects.none()
    filters = NotificationFilter.objects.select_related("connection__application", "connection__user").filter(
        category=category,
        disabled_at__isnull=True,
        connection__application__suspended_at__isnull=True,
        connection__application__deleted_at__isnull=True,
    )
    live = filters.filter(connection__revoked_at__isnull=True, connection__expires_at__gt=timezone.now())
    if category == NotificationCategory.CONNECTION:
        # The event that ends a connection is the last its filters hear; nothing else after it.
        return (filters if event.type in ENDINGS else live).filter(connection_id=event.connection_id or 0)
    live = live.filter(connection__accounts=event.monetary_account_id)
    if category == NotificationCategory.DRAFT_PAYMENT:
        # "Drafts this app prepared": the app of the connection that prepared it, for its customer.
        preparer = Connection.objects.filter(pk=event.connection_id or 0).values("application_id")
        return live.filter(connection__application_id__in=preparer, connection__user_id=event.customer_id or 0)
    if category == NotificationCategory.CARD:
        return live.filter(connection__user_id=event.customer_id or 0)
    return live


def _hears(notification_filter: NotificationFilter, event: Event) -> bool:
    connection = notification_filter.connection
    if not category_allowed(notification_filter.category, _effective_scopes(connection)):
        return False
    if event.monetary_account_id is None:
        return True
    # The account must still be shared and still the customer's own, as the API decides.
    return is_account_shared(connection=connection, account_id=event.monetary_account_id)


@transaction.atomic
def deliveries_prepare(*, event_id: str) -> list[Delivery]:
    """One delivery per filter that hears of the event; each event is prepared once."""
    event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id, dispatched_at__isnull=True).first()
    if event is None:
        return []  # prepared already (or being prepared by another worker)
    deliveries = [
        Delivery(
            event=event,
            notification_filter=notification_filter,
            application_id=notification_filter.connection.application_id,
            target=notification_filter.notification_target,
        )
        for notification_filter in _listening(event).distinct()
        if _hears(notification_filter, event)
    ]
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    event.dispatched_at = timezone.now()
    event.save(update_fields=["dispatched_at"])
    return deliveries


# --- sending -----------------------------------------------------------------------------------


def _lease(delivery_id: str) -> Delivery | None:
    """Claim a due delivery for one attempt; None if it is not due or another worker holds it."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + settings.CALLBACK_LEASE)
    )
    if not claimed:
        return None
    return Delivery.objects.select_related("event", "application", "notification_filter__connection").get(
        pk=delivery_id
    )


def callback_body(event: Event) -> str:
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "created": event.created.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "data": event_data(event),
        },
        separators=(",", ":"),
        default=str,
    )


def delivery_attempt(*, delivery_id: str) -> Delivery | None:
    """One attempt at a due delivery (outside any transaction: the call may take seconds)."""
    delivery = _lease(delivery_id)
    if delivery is None:
        return None
    connection = delivery.notification_filter.connection
    if not connection.is_active and delivery.event.type not in ENDINGS:
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.CANCELLED, leased_until=None)
        return delivery
    try:
        secret = unseal(delivery.application.signing_secret) if delivery.application.signing_secret else ""
    except ValueError:
        logger.error("The signing secret of application %s cannot be opened.", delivery.application_id)
        secret = ""
    if not secret:
        answer = Answer(None, "The app has no usable signing secret: create one at /developers/.")
    else:
        body = callback_body(delivery.event)
        headers = signature_headers(secret=secret, message_id=delivery.webhook_id, timestamp=timezone.now(), body=body)
        answer = post(
            delivery.target,
            body=body,
            headers=headers,
            timeout=settings.CALLBACK_TIMEOUT,
            allow_loopback=settings.CALLBACKS_ALLOW_LOOPBACK,
        )
    _delivery_record(delivery, answer)
    return delivery


@transaction.atomic
def _delivery_record(delivery: Delivery, answer: Answer) -> None:
    now = timezone.now()
    notification_filter = NotificationFilter.objects.select_for_update().get(pk=delivery.notification_filter_id)
    delivery.attempts += 1
    delivery.leased_until = None
    delivery.last_status_code = answer.status_code
    delivery.last_error = answer.error[:200]
    if answer.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        if notification_filter.failing_since is not None:
            notification_filter.failing_since = None
            notification_filter.save(update_fields=["failing_since"])
    else:
        schedule = settings.CALLBACK_RETRY_SCHEDULE
        if delivery.attempts <= len(schedule):
            delivery.next_attempt_at = now + timedelta(seconds=schedule[delivery.attempts - 1])
        else:
            delivery.status = DeliveryStatus.FAILED
        if notification_filter.failing_since is None:
            notification_filter.failing_since = now
            notification_filter.save(update_fields=["failing_since"])
        elif now - notification_filter.failing_since >= settings.CALLBACK_DISABLE_AFTER:
            _filter_disable(notification_filter)
    delivery.save(
        update_fields=[
            "attempts",
            "leased_until",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )


def _filter_disable(notification_filter: NotificationFilter) -> None:
    if notification_filter.disabled_at is not None:
        return
    notification_filter.disabled_at = timezone.now()
    notification_filter.save(update_fields=["disabled_at"])
    Delivery.objects.filter(notification_filter=notification_filter, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, last_error="The bank stopped calling this target after days of failures."
    )
    connection = notification_filter.connection
    audit_record(
        AuditAction.NOTIFICATION_FILTER_DISABLED,
        by_app(connection, customer=connection.user),
        target=notification_filter,
        data={"target": notification_filter.notification_target, "since": str(notification_filter.failing_since)},
    )
    alert_developer(connection.application, ALERT_FILTER_DISABLED, notification_filter=notification_filter)


@transaction.atomic
def delivery_resend(*, application: Application, developer: User, delivery_id: str) -> Delivery:
    """The developer asks for a delivery again (same `webhook-id`); it is due at once."""
    delivery = (
        Delivery.objects.select_for_update()
        .filter(pk=delivery_id, application=application, application__user=developer)
        .first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.leased_until = None
    delivery.save(update_fields=["status", "next_attempt_at", "leased_until"])
    audit_record(AuditAction.CALLBACK_REDELIVERED, by_developer(developer), application=application, target=delivery)
    return delivery


# --- what the sweep finds ----------------------------------------------------------------------


def events_undispatched() -> list[str]:
    """Committed events whose callbacks are not prepared yet, oldest first (the relay's reading)."""
    waiting = Event.objects.filter(dispatched_at__isnull=True).order_by("created")
    return [str(pk) for pk in waiting.values_list("pk", flat=True)[:500]]


def deliveries_due() -> list[str]:
    """Deliveries due now: retries whose pause is over, and any whose worker's lease ran out."""
    now = timezone.now()
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    )
    return [str(pk) for pk in due.order_by("next_attempt_at").values_list("pk", flat=True)[:500]]
