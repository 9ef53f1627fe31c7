"""Who acted, as the audit log stores it: each way of naming an actor fills the same columns the
same way, whichever service writes the event."""

import pytest

from bank.core.audit import Actor, acting, audit_record, by_app, by_customer, by_developer, by_staff, by_system
from bank.vocabulary import ActorType, AuditAction
from connections.models import Connection
from connections.services.connections import connection_grant
from tests.connections.oauth_helpers import make_application
from tests.factories import StaffFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(alice) -> Connection:
    return connection_grant(
        user=alice, application=make_application(), scopes=["accounts:read"], accounts=[make_account(alice)]
    )


def stored(by: Actor) -> tuple[str, object, object, object, object]:
    event = audit_record(AuditAction.API_READ, by)
    return event.actor_type, event.actor, event.customer, event.connection_id, event.application_id


def test_each_named_actor_fills_the_columns_it_should(alice, bob, connection):
    staff = StaffFactory()
    app_id = connection.application_id

    assert stored(by_customer(alice)) == ("customer", alice, alice, None, None)
    assert stored(by_customer(alice, connection=connection)) == ("customer", alice, alice, connection.pk, app_id)
    assert stored(by_developer(bob)) == ("customer", bob, bob, None, None)
    assert stored(by_staff(staff)) == ("staff", staff, None, None, None)
    assert stored(by_staff(staff, customer=alice)) == ("staff", staff, alice, None, None)
    assert stored(by_app(connection, customer=alice)) == ("app", None, alice, connection.pk, app_id)
    assert stored(by_system()) == ("system", None, None, None, None)
    assert stored(by_system(customer=alice)) == ("system", None, alice, None, None)


def test_a_shared_service_types_its_caller_from_its_arguments(alice, bob, connection):
    staff = StaffFactory()

    assert acting(alice, customer=alice, connection=connection).type == ActorType.APP
    assert acting(None, customer=alice).type == ActorType.SYSTEM
    assert acting(staff, customer=alice).type == ActorType.STAFF
    # Staff acting on their own account, and a customer on someone else's data, act as customers.
    assert acting(staff, customer=staff).type == ActorType.CUSTOMER
    assert acting(bob, customer=alice).type == ActorType.CUSTOMER
