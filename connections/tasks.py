"""The worker's side of connections: callbacks dispatched and delivered, and the periodic jobs that
keep connections and tokens tidy. Tasks are thin: the work is in the services."""

import logging
import time

from django.tasks import task
from oauth2_provider.models import clear_expired

from .services.authorization import pushed_requests_purge
from .services.callbacks import deliveries_due, deliveries_prepare, delivery_attempt, events_undispatched
from .services.connections import connections_expire_due, connections_remind_expiry

logger = logging.getLogger(__name__)

# The relay hands an event to the workers once; if it is still not prepared this much later (the task
# was lost, say with a broker that forgets), it hands it over again.
RELAY_AGAIN_AFTER = 30.0
_relayed: dict[str, float] = {}  # event id → when this process handed it over (time.monotonic())


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


def outbox_relay() -> int:
    """Hand committed events that have no callbacks yet to the workers, in one task (the scheduler
    calls this several times a second). Returns how many it handed over."""
    now = time.monotonic()
    for event_id, at in list(_relayed.items()):
        if now - at > RELAY_AGAIN_AFTER:
            del _relayed[event_id]
    waiting = [event_id for event_id in events_undispatched() if event_id not in _relayed]
    if waiting:
        callbacks_dispatch.enqueue(waiting)
        _relayed.update(dict.fromkeys(waiting, now))
    return len(waiting)


@task()
def callbacks_sweep() -> dict[str, int]:
    """Periodic: attempt every delivery that is due (retries whose pause is over, and deliveries whose
    worker died mid-send)."""
    due = deliveries_due()
    for delivery_id in due:
        try:
            delivery_attempt(delivery_id=delivery_id)
        except Exception:  # one broken delivery must not hold up the others; its lease makes it due again
            logger.exception("Delivery %s failed unexpectedly.", delivery_id)
    return {"deliveries": len(due)}


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
