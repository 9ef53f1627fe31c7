"""Fixtures for every test: customers, accounts, and an API client with a real toolkit access token
for a connection with given scopes and accounts."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from bench.tokens import issue_token
from connections import scopes as scope_table
from connections.models import Application, Connection
from connections.services.connections import connection_grant
from tests.connections.oauth_helpers import make_application
from tests.factories import UserFactory, make_account


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def alice(db: Any) -> Any:
    return UserFactory(username="alice", email="alice@example.com", first_name="Alice", last_name="Jansen")


@pytest.fixture
def bob(db: Any) -> Any:
    return UserFactory(username="bob", email="bob@example.com", first_name="Bob", last_name="de Vries")


@pytest.fixture
def account_for() -> Callable[..., Any]:
    return make_account


@dataclass
class Connected:
    """One app's view of one customer: its API client, token and connection."""

    client: APIClient
    token: str
    connection: Connection

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params or None)

    def post(self, path: str, data: Any, **headers: str) -> Any:
        return self.client.post(path, data, format="json", headers=headers or None)

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(path, data, format="json")


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Every test starts with empty rate-limit counters and read markers."""
    from connections import call_log, tasks
    from connections.services import connections as services

    cache.clear()
    services._recent_reads.clear()
    tasks._relayed.clear()
    call_log._local.clear()


@pytest.fixture
def connect(db: Any) -> Callable[..., Connected]:
    apps: dict[str, Application] = {}

    def _connect(
        user: Any,
        *,
        scopes: Iterable[str] = scope_table.ALL,
        accounts: Iterable[Any] = (),
        app: str = "budget",
    ) -> Connected:
        if app not in apps:
            apps[app] = make_application(client_id=f"{app}-client", name=app.title())
        connection = connection_grant(user=user, application=apps[app], scopes=scopes, accounts=list(accounts))
        raw = issue_token(connection)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return Connected(client=client, token=raw, connection=connection)

    return _connect
