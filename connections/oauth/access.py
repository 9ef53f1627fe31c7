"""The resource server's check of an access token, made on every API request.

One query loads the token with its application, its customer, its connection and the ids of the
accounts shared with that connection that are still the customer's own (owned, or co-owned by an
accepted invitation: `bank.selectors.accounts_of`). Its SQL is written once per process from the
models' own column lists, so the ORM does not compile the same statement on every request, and the
API's selectors scope rows by those ids instead of a subquery. Nothing is cached across requests:
a revoked connection, a blocked customer or an unshared account is seen on the very next call, in
every process.
"""

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection as database
from django.db import models

from bank.models import CoOwner, CoOwnerStatus, MonetaryAccount
from connections.models import AccessToken, Application, Connection

UNKNOWN = (
    "Unknown access token: it was never issued, was replaced by a refresh, or its connection ended "
    "(the refresh token then says why)."
)
EXPIRED = "The access token has expired: refresh it."
BLOCKED = "The bank has blocked this customer's access."


def token_checksum(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


type _Converter = Callable[[object, object, object], object]


@dataclass(frozen=True)
class _Part:
    """One model's columns in the row, and the converters the ORM would apply to them (JSON
    fields, for one, arrive as text)."""

    model: type[models.Model]
    attnames: list[str]
    converters: list[tuple[int, list[_Converter], models.Field]]

    def build(self, values: tuple[object, ...]) -> models.Model:
        converted = list(values)
        for index, converters, field in self.converters:
            for converter in converters:
                converted[index] = converter(converted[index], field, database)
        return self.model.from_db(database.alias, self.attnames, converted)


@dataclass(frozen=True)
class _Statement:
    sql: str
    parts: list[_Part]  # token, application, user, connection: in the order of their columns


def _columns(model: type[models.Model], alias: str) -> tuple[_Part, str]:
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(alias)
        found = database.ops.get_db_converters(column) + column.get_db_converters(database)
        if found:
            converters.append((index, found, field))
    part = _Part(model, [field.attname for field in fields], converters)
    return part, ", ".join(f'{alias}."{field.column}"' for field in fields)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return f'"{field.column}"'


@functools.cache
def _statement() -> _Statement:
    """SELECT token, application, customer, connection, shared account ids WHERE checksum = %s."""
    user_model = get_user_model()
    shared = Connection.accounts.through
    tables = ((AccessToken, "t"), (Application, "a"), (user_model, "u"), (Connection, "c"))
    parts, selected = zip(*(_columns(model, alias) for model, alias in tables), strict=True)
    account, co_owner, owner = _column(shared, "monetaryaccount"), CoOwner._meta.db_table, _column(Connection, "user")
    # Identifiers come from the models' metadata; the only values, the co-owner status and the
    # checksum, are bound parameters.
    sql = f"""
        SELECT {", ".join(selected)},
          ARRAY(
            SELECT s.{account} FROM "{shared._meta.db_table}" s
            JOIN "{MonetaryAccount._meta.db_table}" m ON m."id" = s.{account}
            WHERE s.{_column(shared, "connection")} = c."id"
              AND (m.{_column(MonetaryAccount, "owner")} = c.{owner}
                   OR EXISTS (SELECT 1 FROM "{co_owner}" o
                              WHERE o.{_column(CoOwner, "account")} = m."id"
                                AND o.{_column(CoOwner, "user")} = c.{owner}
                                AND o.{_column(CoOwner, "status")} = %s))
          )
        FROM "{AccessToken._meta.db_table}" t
        JOIN "{Application._meta.db_table}" a ON a."id" = t.{_column(AccessToken, "application")}
        LEFT JOIN "{user_model._meta.db_table}" u ON u."id" = t.{_column(AccessToken, "user")}
        LEFT JOIN "{Connection._meta.db_table}" c ON c."id" = t.{_column(AccessToken, "connection")}
        WHERE t.{_column(AccessToken, "token_checksum")} = %s
    """  # noqa: S608
    return _Statement(sql=sql, parts=list(parts))


def access_token_load(raw: str) -> AccessToken | None:
    """The token with its application, customer and connection, the connection's shared account ids
    in `connection.shared_ids`; None for a token the bank does not know."""
    if database.vendor != "postgresql":  # SQLite (`make run` without DATABASE_URL): the ORM, no ARRAY()
        return (
            AccessToken.objects.select_related("application", "user", "connection__user")
            .filter(token_checksum=token_checksum(raw))
            .first()
        )
    statement = _statement()
    with database.cursor() as cursor:
        cursor.execute(statement.sql, [CoOwnerStatus.ACCEPTED, token_checksum(raw)])
        row = cursor.fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for part in statement.parts:
        end = start + len(part.attnames)
        values = row[start:end]
        objects.append(None if values[0] is None else part.build(values))
        start = end
    token, application, user, connection = objects
    assert isinstance(token, AccessToken) and isinstance(application, Application)
    token.application = application
    token.user = user  # type: ignore[assignment]  # a User (or None for a token of no customer)
    if isinstance(connection, Connection):
        connection.shared_ids = frozenset(row[-1])
        if user is not None:
            connection.user = user  # type: ignore[assignment]
        connection.application = application
        token.connection = connection
    else:
        token.connection = None
    return token


def access_token_refusal(token: AccessToken | None, *, url: str = "") -> str:
    """Why the API refuses this token (an error_description), or "" when it may be used."""
    if token is None:
        return UNKNOWN
    if token.is_expired():
        return EXPIRED
    if token.resource and not token.allows_audience(url):  # RFC 8707, as the toolkit checks it
        return "This access token is for another resource."
    connection = token.connection
    if connection is None:
        return "This token has no connection."
    if not connection.is_active:
        return connection.ended_description()
    if token.user is None or not token.user.is_active:
        return BLOCKED
    return ""
