"""The worker's side of connections: callbacks dispatched and delivered, and the periodic jobs that
keep connections and tokens tidy. Tasks are thin: the work is in the services."""

import logging
from datetime import timedelta

from django.tasks import task
from oauth2_provider.models import clear_expired

from .services.authorization import pushed_requests_purge
from .services.callbacks import deliveries_due, deliveries_prepare, delivery_attempt, events_undispatched
from .services.connections import connections_expire_due, connections_remind_expiry

logger = logging.getLogger(__name__)

# An event whose dispatch was asked for at commit is normally prepared within a second; the sweep
# picks up what is older than this (the web process died at commit, or the worker lost the task).
DISPATCH_GRACE = timedelta(seconds=5)


@task()
def callbacks_dispatch(event_ids: list[str]) -> int:
    """Prepare the events' deliveries and make the first attempt at each at once."""
    sent = 0
    for event_id in event_ids:
        for delivery in deliveries_prepare(event_id=event_id):
            delivery_attempt(delivery_id=str(delivery.pk))
            sent += 1
    return sent


@task()
def callback_deliver(delivery_id: str) -> None:
    delivery_attempt(delivery_id=delivery_id)


@task()
def callbacks_sweep() -> dict[str, int]:
    """Periodic: dispatch events left behind, and attempt every delivery that is due (retries whose
    pause is over, and deliveries whose worker died mid-send)."""
    events = events_undispatched(older_than=DISPATCH_GRACE)
    if events:
        callbacks_dispatch.call(events)
    due = deliveries_due()
    for delivery_id in due:
        try:
            delivery_attempt(delivery_id=delivery_id)
        except Exception:  # one broken delivery must not hold up the others; its lease makes it due again
            logger.exception("Delivery %s failed unexpectedly.", delivery_id)
    return {"events": len(events), "deliveries": len(due)}


@task()
def connections_tidy() -> dict[str, int]:
    """Periodic: end connections past their lifetime, remind customers of those ending soon, clear
    expired tokens and codes (the toolkit's own clean-up) and forgotten pushed requests."""
    result = {
        "expired": connections_expire_due(),
        "reminded": connections_remind_expiry(),
        "pushed_requests": pushed_requests_purge(),
    }
    clear_expired()
    return result
