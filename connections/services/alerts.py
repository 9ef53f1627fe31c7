"""Alerts by email: to a customer when something about their connections needs their eye (an app
that may move money, an access the bank ended, a connection that ends soon), and to a developer
when the bank stops calling one of their app's targets. Each email links to the page to act on."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.urls import reverse

from bank.core.mail import email_on_commit
from bank.selectors import display_name
from connections.models import Application, Connection, NotificationFilter


@dataclass(frozen=True)
class Alert:
    subject: str
    template: str


ALERT_MONEY_APP_CONNECTED = Alert("An app can now move money for you", "emails/alert_money_app_connected.txt")
ALERT_STAFF_REVOKED = Alert("Demo Bank ended an app's access to your accounts", "emails/alert_staff_revoked.txt")
ALERT_APP_SUSPENDED = Alert("Demo Bank suspended an app you connected", "emails/alert_app_suspended.txt")
ALERT_EXPIRING = Alert("An app connection ends soon", "emails/alert_connection_expiring.txt")
ALERT_FILTER_DISABLED = Alert("Demo Bank stopped calling your app", "emails/alert_filter_disabled.txt")


def _link(name: str, *args: object) -> str:
    return settings.OAUTH2_ISSUER.rstrip("/") + reverse(name, args=args)


def alert_customer(customer: User, alert: Alert, *, connection: Connection, reason: str = "") -> None:
    if not customer.email:
        return
    body = render_to_string(
        alert.template,
        {
            "name": display_name(customer),
            "connection": connection,
            "application": connection.application,
            "reason": reason,
            "link": _link("connection-detail", connection.pk),
        },
    )
    email_on_commit(to=[customer.email], subject=alert.subject, body=body)


def alert_developer(application: Application, alert: Alert, *, notification_filter: NotificationFilter) -> None:
    developer = application.user
    if developer is None or not developer.email:
        return
    body = render_to_string(
        alert.template,
        {
            "name": display_name(developer),
            "application": application,
            "filter": notification_filter,
            "link": _link("developer-deliveries", application.pk),
        },
    )
    email_on_commit(to=[developer.email], subject=alert.subject, body=body)
