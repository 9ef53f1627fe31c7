"""Budget Buddy hears of new payments from the bank instead of polling (the bank's SPEC §9).

After connecting, the app registers a notification filter (`PAYMENT`) with its callback URL. Each
callback is verified before anything else: the Standard Webhooks signature over the exact body with
the app's signing secret (from the bank's /developers/ page), and a timestamp within five minutes
(the `standardwebhooks` package does both). A callback that fails the check is refused with 400 and
forgotten. The bank may send a callback more than once (at-least-once delivery, the same
`webhook-id` each time): the app keeps the ids it has seen and handles each message once.
"""

import os
import threading
from collections import OrderedDict
from typing import Any

from flask import Blueprint, abort, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# Budget Buddy's demo signing secret (the bank's SPEC §9); a real app keeps its own in a secrets store.
SIGNING_SECRET = os.environ.get("BUDGET_BUDDY_SIGNING_SECRET", "whsec_ZGVtby1idWRnZXQtd2ViaG9vay1zZWNyZXQ=")
PATH = "/webhooks/bank"
KEEP = 50

callbacks = Blueprint("callbacks", __name__)

_seen: "OrderedDict[str, None]" = OrderedDict()  # webhook-ids handled, newest last
_payments: list[dict[str, Any]] = []  # payments that arrived by callback, newest first
_lock = threading.Lock()


def arrived_payments() -> list[dict[str, Any]]:
    with _lock:
        return list(_payments)


@callbacks.post(PATH)
def receive() -> tuple[str, int]:
    try:
        message = Webhook(SIGNING_SECRET).verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError:
        abort(400, "The signature does not verify.")
    message_id = request.headers["webhook-id"]
    with _lock:
        if message_id in _seen:
            return "", 204  # delivered again: handled already
        _seen[message_id] = None
        while len(_seen) > 10 * KEEP:
            _seen.popitem(last=False)
        if message.get("type") == "payment.created":
            _payments.insert(0, message["data"])
            del _payments[KEEP:]
    return "", 204


def filter_register(api_post: Any, app_url: str) -> None:
    """Ask the bank to call us about payments (once per connection; a duplicate is refused, fine)."""
    api_post("notification-filters/", {"category": "PAYMENT", "notification_target": app_url + PATH})
