"""The toolkit's signals, written to the audit log (never the token itself)."""

from typing import Any

from oauth2_provider.signals import app_authorized

from bank.services.audit import audit_record


def _token_issued(sender: Any, request: Any, token: Any, **kwargs: Any) -> None:
    grant_type = request.POST.get("grant_type", "") if hasattr(request, "POST") else ""
    audit_record(
        action="oauth.token_refreshed" if grant_type == "refresh_token" else "oauth.token_issued",
        actor=None,
        actor_type="app",
        customer=token.user,
        connection=getattr(token, "connection", None),
        application=token.application,
        data={"scope": token.scope, "expires": token.expires.isoformat()},
    )


app_authorized.connect(_token_issued, dispatch_uid="connections.audit_token_issued")
