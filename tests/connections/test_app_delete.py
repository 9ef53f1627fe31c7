"""A developer deletes an app: its connections end at once (the customers' history says why), its
credentials never work again, and the row stays for the history and the audit log."""

import pytest
from django.test import Client

from bank.models import AuditEvent
from bank.vocabulary import AuditAction
from connections.models import Application, Connection, Delivery, RevokedBy
from connections.services.callbacks import notification_filter_create
from connections.tasks import outbox_relay
from tests.connections.oauth_helpers import api_get, consent, exchange, make_application, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(alice, bob, account_for):
    """Bob's app, to which alice is connected."""
    account_for(alice)
    application = make_application(user=bob)
    client = Client()
    tokens = exchange(client, consent(client, alice)).json()
    client.logout()
    return application, tokens


def test_deleting_an_app_ends_its_connections_and_credentials(connected, alice, bob):
    application, tokens = connected
    developer = Client()
    developer.force_login(bob)

    confirm = developer.get(f"/developers/{application.pk}/delete/")
    assert confirm.status_code == 200 and "1 customer connection ends now" in confirm.content.decode()
    wrong = developer.post(f"/developers/{application.pk}/delete/", {"name": "Budget"})
    assert wrong.status_code == 400 and Connection.objects.get().is_active

    deleted = developer.post(f"/developers/{application.pk}/delete/", {"name": application.name}, follow=True)

    assert "is deleted; 1 connection(s) ended" in deleted.content.decode()
    connection = Connection.objects.get()
    assert not connection.is_active and connection.revoked_by == RevokedBy.APP_DELETED
    assert Application.objects.get(pk=application.pk).deleted_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.APPLICATION_DELETED, actor=bob).get().data == {
        "connections_ended": 1
    }
    client = Client()
    assert api_get(client, "/api/v1/me/", tokens["access_token"]).status_code == 401
    again = refresh(client, tokens["refresh_token"])
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    # Gone from the developer's pages; in the customer's history, with the reason.
    assert application.name not in developer.get("/developers/").content.decode()
    assert developer.get(f"/developers/{application.pk}/").status_code == 404
    client.force_login(alice)
    history = client.get("/profile/settings/security/app-connections/history/").content.decode()
    assert "The app&#x27;s developer deleted the app" in history


def test_only_its_developer_deletes_an_app(connected, alice):
    application, _tokens = connected
    other = Client()
    other.force_login(alice)
    assert other.post(f"/developers/{application.pk}/delete/", {"name": application.name}).status_code == 404
    assert Application.objects.get(pk=application.pk).deleted_at is None
    assert Connection.objects.get().is_active


def test_a_new_consent_for_a_deleted_app_is_refused(connected, alice, bob):
    application, _tokens = connected
    developer = Client()
    developer.force_login(bob)
    developer.post(f"/developers/{application.pk}/delete/", {"name": application.name})

    client = Client()
    client.force_login(alice)
    page = client.get(f"/o/authorize/?response_type=code&client_id={application.client_id}&scope=accounts:read")
    assert page.status_code == 400
    assert Connection.objects.filter(revoked_at__isnull=True).count() == 0


def test_staff_see_a_deleted_app_as_deleted_and_not_in_the_review_queue(connected, bob, admin_client):
    application, _tokens = connected
    Application.objects.filter(pk=application.pk).update(review_requested_at=application.created)
    developer = Client()
    developer.force_login(bob)
    developer.post(f"/developers/{application.pk}/delete/", {"name": application.name})

    deleted = admin_client.get("/admin/connections/application/", {"state": "deleted"}).content.decode()
    assert application.name in deleted and "Deleted by its developer" in deleted
    live = admin_client.get("/admin/connections/application/", {"state": "live"}).content.decode()
    assert application.client_id not in live
    queue = admin_client.get("/admin/connections/awaitingreview/").content.decode()
    assert application.name not in queue


def test_a_deleted_apps_callbacks_stop_and_its_name_is_free_again(connected, alice, bob):
    application, _tokens = connected
    listening = notification_filter_create(
        connection=Connection.objects.get(), category="CONNECTION", target="https://app.example/hook"
    )
    developer = Client()
    developer.force_login(bob)
    developer.post(f"/developers/{application.pk}/delete/", {"name": application.name})

    outbox_relay()  # what the scheduler does: the revocation's event finds no listener of the deleted app
    assert not Delivery.objects.filter(application=application).exists()  # not even of its own revocation
    listening.refresh_from_db()
    assert listening.disabled_at is not None
    # A verified app's name is reserved for it; once it is deleted, another app may take the name.
    again = developer.post(
        "/developers/new/",
        {
            "name": application.name,
            "website": "https://app.example",
            "redirect_uris": "https://app.example/cb",
            "client_type": Application.CLIENT_CONFIDENTIAL,
        },
    )
    assert again.status_code == 200
    assert Application.objects.filter(name=application.name, deleted_at__isnull=True).exists()
