"""The toolkit's signals, written to the audit log (never the token itself)."""

from django.http import HttpRequest
from oauth2_provider.signals import app_authorized

from bank.core.audit import audit_record, by_app
from bank.vocabulary import AuditAction

from .models import AccessToken


def _token_issued(sender: object, request: HttpRequest, token: AccessToken, **kwargs: object) -> None:
    grant_type = request.POST.get("grant_type", "") if hasattr(request, "POST") else ""
    # The customer and the connection in one query (the application goes by its id).
    token = AccessToken.objects.select_related("user", "connection").get(pk=token.pk)
    audit_record(
        AuditAction.TOKEN_REFRESHED if grant_type == "refresh_token" else AuditAction.TOKEN_ISSUED,
        by_app(token.connection, customer=token.user),
        data={"scope": token.scope, "expires": token.expires.isoformat()},
    )


app_authorized.connect(_token_issued, dispatch_uid="connections.audit_token_issued")
