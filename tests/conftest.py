from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

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
