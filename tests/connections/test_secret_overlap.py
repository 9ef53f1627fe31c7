"""Replacing a client secret with an overlap: the app's servers switch one by one, both secrets work
until the overlap ends (at most 7 days), and the developer can end it sooner."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bank.models import AuditEvent
from connections.models import Application
from tests.connections.oauth_helpers import token_request
from tests.factories import register_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(alice):
    application, secret = register_app(alice, "Pocket Planner")
    developer = Client()
    developer.force_login(alice)
    return application, secret, developer


def authenticates(application: Application, secret: str) -> bool:
    """Client authentication alone: a refresh with a token that does not exist is invalid_grant (400)
    for a client that authenticated, invalid_client (401) for one that did not."""
    response = token_request(
        Client(), {"grant_type": "refresh_token", "refresh_token": "none"}, application.client_id, secret
    )
    return response.status_code == 400


def rotate(developer: Client, application: Application, days: str):
    page = developer.post(f"/developers/{application.pk}/rotate-secret/", {"overlap_days": days})
    return page, page.content.decode().split('<code class="secret">')[1].split("</code>")[
        0
    ] if page.status_code == 200 else ""


def test_with_an_overlap_both_secrets_work_until_it_ends(mine):
    application, old, developer = mine
    assert authenticates(application, old)

    page, new = rotate(developer, application, "3")

    assert "The previous secret also works until" in page.content.decode()
    assert authenticates(application, new) and authenticates(application, old)
    assert not authenticates(application, "a-wrong-secret")
    edit = developer.get(f"/developers/{application.pk}/").content.decode()
    assert "The previous client secret also works until" in edit
    event = AuditEvent.objects.filter(action="application.secret_rotated").latest("id")
    assert event.data == {"previous_works_for_hours": 72}

    Application.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    assert authenticates(application, new) and not authenticates(application, old)


def test_without_an_overlap_the_old_secret_stops_at_once(mine):
    application, old, developer = mine
    _, new = rotate(developer, application, "0")
    assert authenticates(application, new) and not authenticates(application, old)


def test_the_developer_ends_the_overlap_sooner(mine):
    application, old, developer = mine
    _, new = rotate(developer, application, "7")
    developer.post(f"/developers/{application.pk}/previous-secret/end/")
    assert authenticates(application, new) and not authenticates(application, old)


@pytest.mark.parametrize("days", ["8", "-1", "forever", ""])
def test_an_overlap_over_a_week_or_not_a_number_is_refused_and_nothing_changes(mine, days):
    application, old, developer = mine
    page, _ = rotate(developer, application, days)
    assert page.status_code == 303
    assert "at most 7 days" in developer.get(page["Location"]).content.decode()
    assert authenticates(application, old)


def test_the_previous_secret_of_one_app_does_not_open_another(mine, alice):
    application, old, developer = mine
    rotate(developer, application, "1")
    other, _ = register_app(alice, "Other Planner")
    assert not authenticates(other, old)


def test_another_developer_cannot_rotate_or_end_it(mine, bob):
    application, old, _ = mine
    stranger = Client()
    stranger.force_login(bob)
    assert stranger.post(f"/developers/{application.pk}/rotate-secret/", {"overlap_days": "7"}).status_code == 404
    assert stranger.post(f"/developers/{application.pk}/previous-secret/end/").status_code == 404
    assert authenticates(application, old)
