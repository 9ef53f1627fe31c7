"""The bank's policy for applications, set by staff: reviewing an app (verified or not, which scopes it
may ask for), scope requests with four eyes for money, suspension. Every change is one transaction
with an audit event that says who, what before and after, and why.

Four eyes: a scope that moves money is allowed only when two different members of staff approved
it. A staff proposal, or the first staff approval of a developer's request, endorses it; a second
member of staff applies it.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from bank.core.audit import AuditData, AuditValue, audit_record, by_developer, by_staff
from bank.core.errors import ErrorCode, InvalidState, PermissionDenied, ValidationFailed
from bank.vocabulary import REASON_MAX, AuditAction
from connections import scopes as scope_table
from connections.models import Application, Connection, RevokedBy, ScopeRequest, ScopeRequestStatus

from .alerts import ALERT_APP_SUSPENDED, alert_customer
from .applications import ClientMetadata, money_needs_fapi
from .connections import connection_revoke

GRANTABLE = (*scope_table.ALL, scope_table.INTROSPECTION)


def _checked_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why: staff decisions are recorded with a reason.", code=ErrorCode.REASON_REQUIRED)
    if len(reason) > REASON_MAX:
        raise ValidationFailed(f"A reason has at most {REASON_MAX} characters.", code=ErrorCode.REASON_TOO_LONG)
    return reason


def _policy(application: Application) -> AuditData:
    return {"verified": application.verified, "allowed_scopes": application.allowed_scope_list()}


def _ensure_may_move_money(application: Application) -> None:
    if money_needs_fapi(application):
        raise PermissionDenied(
            "Only a FAPI 2.0 app (private_key_jwt with its keys, DPoP-bound tokens, pushed authorization "
            "requests) may be allowed a scope that moves money.",
            code=ErrorCode.FAPI_REQUIRED,
        )


def _lock(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _set_policy(
    application: Application, *, staff: User, verified: bool, allowed: Iterable[str], reason: str, data: AuditData
) -> None:
    """Write the policy (the row is locked by the caller) and audit it, if anything changed."""
    before = _policy(application)
    if verified and not application.verified:
        application.verified_at = timezone.now()
        application.verified_by = staff
    elif not verified:
        application.verified_at = None
        application.verified_by = None
    application.verified = verified
    application.allowed_scopes = " ".join(name for name in GRANTABLE if name in set(allowed))
    application.review_requested_at = None  # reviewed, as it is now
    application.save(
        update_fields=["verified", "verified_at", "verified_by", "allowed_scopes", "review_requested_at", "updated"]
    )
    after = _policy(application)
    if before != after:
        audit_record(
            AuditAction.APPLICATION_POLICY_CHANGED,
            by_staff(staff),
            application=application,
            data={"before": before, "after": after, "reason": reason, **data},
        )


@transaction.atomic
def application_review(
    *, application: Application, staff: User, verified: bool, allowed_scopes: Iterable[str], reason: str
) -> ScopeRequest | None:
    """Staff review an app. Verifying it, taking scopes away and allowing scopes that move no money
    take effect at once; allowing a money-moving scope becomes a request that a second member of
    staff must approve (returned)."""
    reason = _checked_reason(reason)
    application = _lock(application)
    wanted = set(allowed_scopes)
    unknown = wanted - set(GRANTABLE)
    if unknown:
        raise ValidationFailed(f"Unknown scopes: {', '.join(sorted(unknown))}.", code=ErrorCode.INVALID_SCOPE)
    current = set(application.allowed_scope_list()) | (
        {scope_table.INTROSPECTION} if scope_table.INTROSPECTION in application.allowed_scopes.split() else set()
    )
    money_added = (wanted - current) & scope_table.MONEY_MOVING
    if money_added:
        _ensure_may_move_money(application)
    _set_policy(application, staff=staff, verified=verified, allowed=wanted - money_added, reason=reason, data={})
    if not money_added:
        return None
    request = ScopeRequest.objects.create(
        application=application,
        scopes=" ".join(scope_table.ordered(money_added)),
        reason=reason,
        requested_by=staff,
        endorsed_by=staff,
        endorsed_at=timezone.now(),
    )
    audit_record(
        AuditAction.SCOPE_REQUEST_CREATED,
        by_staff(staff),
        application=application,
        target=request,
        data={"scopes": request.scope_list, "reason": reason, "endorsed": True},
    )
    return request


@transaction.atomic
def scope_request_create(
    *, application: Application, requested_by: User, scopes: Iterable[str], reason: str
) -> ScopeRequest:
    """A developer asks for more scopes for their app, saying why; staff decide."""
    reason = _checked_reason(reason)
    wanted = scope_table.ordered(set(scopes) - set(application.allowed_scope_list()))
    if not wanted:
        raise ValidationFailed("Choose at least one scope the app may not ask for yet.", code=ErrorCode.INVALID_SCOPE)
    request = ScopeRequest.objects.create(
        application=application, scopes=" ".join(wanted), reason=reason, requested_by=requested_by
    )
    audit_record(
        AuditAction.SCOPE_REQUEST_CREATED,
        by_developer(requested_by),
        application=application,
        target=request,
        data={"scopes": wanted, "reason": reason, "endorsed": False},
    )
    return request


def _lock_pending(request: ScopeRequest) -> ScopeRequest:
    request = ScopeRequest.objects.select_for_update().select_related("application").get(pk=request.pk)
    if request.status != ScopeRequestStatus.PENDING:
        raise InvalidState(
            f"This request is already {request.get_status_display().lower()}.", code=ErrorCode.ALREADY_ANSWERED
        )
    return request


def _staff_audit(action: AuditAction, request: ScopeRequest, staff: User, reason: str, **data: AuditValue) -> None:
    audit_record(
        action,
        by_staff(staff),
        application=request.application,
        target=request,
        data={"scopes": request.scope_list, "reason": reason, **data},
    )


def _decide(request: ScopeRequest, status: ScopeRequestStatus, *, staff: User, reason: str) -> None:
    request.status = status
    request.decided_by = staff
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])


@transaction.atomic
def scope_request_approve(*, request: ScopeRequest, staff: User, reason: str) -> ScopeRequest:
    """A member of staff approves. Scopes that move no money are allowed at once; money-moving ones
    need a second, different member of staff after the first approval."""
    reason = _checked_reason(reason)
    request = _lock_pending(request)
    if request.moves_money and request.endorsed_by_id is None:
        request.endorsed_by = staff
        request.endorsed_at = timezone.now()
        request.save(update_fields=["endorsed_by", "endorsed_at"])
        _staff_audit(AuditAction.SCOPE_REQUEST_ENDORSED, request, staff, reason)
        return request
    if request.moves_money and request.endorsed_by_id == staff.pk:
        raise PermissionDenied(
            "A scope that moves money needs a second member of staff: someone else must approve it.",
            code=ErrorCode.FOUR_EYES,
        )
    application = _lock(request.application)
    if request.moves_money:
        _ensure_may_move_money(application)
    _set_policy(
        application,
        staff=staff,
        verified=application.verified,
        allowed=set(application.allowed_scope_list()) | set(request.scope_list),
        reason=reason,
        data={"scope_request": request.pk, "endorsed_by": request.endorsed_by_id, "approved_by": staff.pk},
    )
    _decide(request, ScopeRequestStatus.APPROVED, staff=staff, reason=reason)
    _staff_audit(AuditAction.SCOPE_REQUEST_APPROVED, request, staff, reason, endorsed_by=request.endorsed_by_id)
    return request


@transaction.atomic
def scope_request_reject(*, request: ScopeRequest, staff: User, reason: str) -> ScopeRequest:
    reason = _checked_reason(reason)
    request = _lock_pending(request)
    _decide(request, ScopeRequestStatus.REJECTED, staff=staff, reason=reason)
    _staff_audit(AuditAction.SCOPE_REQUEST_REJECTED, request, staff, reason)
    return request


# --- Suspension ------------------------------------------------------------------------------


@transaction.atomic
def application_suspend(*, application: Application, actor: User, reason: str) -> int:
    """Staff suspend an app: it cannot start new authorizations and every connection to it ends now.
    Returns how many connections ended. An app suspended already stays suspended since then."""
    reason = _checked_reason(reason)
    application = _lock(application)
    if application.suspended_at is not None:
        raise InvalidState(
            f"{application.name} is suspended already, since {application.suspended_at:%Y-%m-%d %H:%M}.",
            code=ErrorCode.ALREADY_SUSPENDED,
        )
    application.suspended_at = timezone.now()
    application.suspended_reason = reason
    application.save(update_fields=["suspended_at", "suspended_reason"])
    ended = 0
    live = Connection.objects.select_related("user").filter(application=application, revoked_at__isnull=True)
    for connection in live:
        connection_revoke(connection=connection, by=RevokedBy.APP_SUSPENDED, actor=actor)
        alert_customer(connection.user, ALERT_APP_SUSPENDED, connection=connection, reason=reason)
        ended += 1
    audit_record(
        AuditAction.APPLICATION_SUSPENDED,
        by_staff(actor),
        application=application,
        data={"reason": reason, "connections_revoked": ended},
    )
    return ended


@transaction.atomic
def application_unsuspend(*, application: Application, actor: User, reason: str) -> None:
    """Lift a suspension: the app may ask customers again (the connections it lost stay ended)."""
    reason = _checked_reason(reason)
    application = _lock(application)
    if application.suspended_at is None:
        raise InvalidState(f"{application.name} is not suspended.", code=ErrorCode.NOT_SUSPENDED)
    suspended_since = application.suspended_at.isoformat()
    application.suspended_at = None
    application.suspended_reason = ""
    application.save(update_fields=["suspended_at", "suspended_reason"])
    audit_record(
        AuditAction.APPLICATION_UNSUSPENDED,
        by_staff(actor),
        application=application,
        data={"reason": reason, "suspended_since": suspended_since},
    )


@transaction.atomic
def application_metadata_set(
    *, application: Application, staff: User, metadata: ClientMetadata, reason: str
) -> Application:
    """Staff set an app's client metadata (how it authenticates, its keys, DPoP, pushed requests).
    An app that is no longer held to FAPI 2.0 loses the money-moving scopes it may not keep."""
    reason = _checked_reason(reason)
    application = _lock(application)
    before = ClientMetadata.of(application)
    after = metadata.checked(client_type=application.client_type)
    if before == after:
        return application
    after.apply(application)
    application.save()
    data: AuditData = {"before": before.describe(), "after": after.describe(), "reason": reason}
    if money_needs_fapi(application):
        kept = set(application.allowed_scope_list()) - scope_table.MONEY_MOVING
        if kept != set(application.allowed_scope_list()):
            _set_policy(application, staff=staff, verified=application.verified, allowed=kept, reason=reason, data={})
    audit_record(AuditAction.APPLICATION_METADATA_CHANGED, by_staff(staff), application=application, data=data)
    return application
