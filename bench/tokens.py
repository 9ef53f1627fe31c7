"""A real toolkit access token for a connection, stored the way the token endpoint stores it (hashed),
as if the app had just been through consent. For tests and benchmarks that need many of them."""

import secrets
from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import set_token_value

from connections.models import AccessToken, Connection


def issue_token(
    connection: Connection,
    scope: str | None = None,
    lifetime: timedelta = timedelta(minutes=10),
    *,
    dpop_jkt: str = "",
) -> str:
    """A token for `connection` (bound to the DPoP key with thumbprint `dpop_jkt`, if given)."""
    raw = secrets.token_urlsafe(32)
    token = AccessToken(
        user=connection.user,
        application=connection.application,
        scope=scope if scope is not None else connection.scope,
        expires=timezone.now() + lifetime,
        connection=connection,
        dpop_jkt=dpop_jkt,
    )
    set_token_value(token, raw)
    token.save()
    return raw
