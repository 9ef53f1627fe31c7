"""Passkeys (WebAuthn, SPEC §10): the customer's second factor for money, and a way to log in.

The cryptography is py_webauthn's. What this module adds is the binding ("dynamic linking", PSD2 RTS
Article 5): a challenge is issued for one `Approval` (one operation of one customer, in one session)
and ends with the SHA-256 digest of exactly what the page showed, so the authenticator signs that
digest. Verification recomputes the approval from the database and refuses if anything differs, if
the challenge was used, expired (2 minutes), or belongs to another operation, customer or session;
every refusal is audited with the operation and nothing else happens.

    answer = challenge_answer(customer=…, session_key=…, approval=draft_approval(…))   # for the page
    passkey_verify(customer=…, session_key=…, approval=draft_approval(…), credential=…)  # then pay
"""

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse, WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from bank.core.audit import Actor, audit_record, by_customer, by_system
from bank.core.errors import ErrorCode, NotFound, PermissionDenied, ValidationFailed
from bank.models import MonetaryAccount, Passkey, PasskeyChallenge
from bank.selectors import drafts_of, received_requests
from bank.vocabulary import ActorType, AuditAction

from .security import password_confirm

CHALLENGE_LIFETIME = timedelta(minutes=2)
NONCE_BYTES = 16
NAME_MAX = 60

# The form fields that static/passkeys.js and the views share: a form posted with STEP_FIELD=options
# asks for its challenge; posted for real, it carries the authenticator's answer in CREDENTIAL_FIELD.
STEP_FIELD = "passkey_step"
CREDENTIAL_FIELD = "passkey_credential"

# The operations that are not approvals of money: what they bind to is the session alone.
REGISTER = "passkey.register"
LOGIN = "login"


@dataclass(frozen=True)
class Approval:
    """One operation as the customer sees it: `operation` names it ("draft_payment:17"), `shown` is
    what the page says it does (amounts as strings, payees, accounts), `summary` the sentence the
    page and the audit log use."""

    operation: str
    shown: dict[str, object] = field(default_factory=dict)
    summary: str = ""

    @property
    def digest(self) -> bytes:
        canonical = json.dumps({"operation": self.operation, **self.shown}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).digest()

    @property
    def digest_hex(self) -> str:
        return self.digest.hex()


class PasskeyRefused(PermissionDenied):
    """A passkey assertion the bank does not accept; already audited."""


# --- what is approved --------------------------------------------------------------------------


def draft_approval(*, customer: User, draft_id: int) -> Approval:
    """A draft payment of the customer's as its approval page shows it. Drafts never change while
    pending (an app can only cancel one), so this is what will be paid; one that is no longer
    pending is refused by the payment itself, with what happened to it."""
    draft = (
        drafts_of(customer=customer)
        .select_related("monetary_account")
        .prefetch_related("entries")
        .filter(pk=draft_id)
        .first()
    )
    if draft is None:
        raise NotFound("No such draft payment.")
    entries = list(draft.entries.order_by("pk"))
    total = sum((entry.amount for entry in entries), start=0)
    return Approval(
        operation=f"draft_payment:{draft.pk}",
        shown={
            "from": draft.monetary_account.iban,
            "entries": [
                [
                    e.counterparty_type,
                    e.counterparty_value,
                    e.counterparty_name,
                    str(e.amount),
                    e.currency,
                    e.description,
                ]
                for e in entries
            ],
        },
        summary=f"pay €{total:.2f} from {draft.monetary_account.description} (draft {draft.pk})",
    )


def request_approval(*, customer: User, response_id: int, source: MonetaryAccount) -> Approval:
    """Paying a payment request from `source`, as the page shows it."""
    response = received_requests(customer=customer).filter(pk=response_id).first()
    if response is None:
        raise NotFound("No such payment request is waiting for you.")
    inquiry = response.inquiry
    return Approval(
        operation=f"payment_request:{response.pk}",
        shown={
            "amount": str(inquiry.amount),
            "currency": inquiry.currency,
            "payee": inquiry.monetary_account.iban,
            "description": inquiry.description,
            "from": source.iban,
        },
        summary=f"pay €{inquiry.amount:.2f} to {inquiry.created_by.get_full_name() or inquiry.created_by}"
        f" from {source.description} (request {response.pk})",
    )


# --- challenges ---------------------------------------------------------------------------------


def _hash(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def _challenge_issue(*, customer: User | None, session_key: str, operation: str, digest: bytes) -> bytes:
    """A fresh challenge: random bytes, then the digest of what is approved (signed with it)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    now = timezone.now()
    PasskeyChallenge.objects.create(
        nonce=_hash(nonce),
        operation=operation,
        digest=digest.hex(),
        customer=customer,
        session=_hash(session_key),
        created=now,
        expires_at=now + CHALLENGE_LIFETIME,
    )
    return nonce + digest


def _challenge_take(*, challenge: bytes, customer: User | None, session_key: str, approval: Approval) -> str:
    """Use the challenge once. Returns why it is refused, or "" when it may be used. It is spent even
    when refused, so it cannot be tried again."""
    nonce, digest = challenge[:NONCE_BYTES], challenge[NONCE_BYTES:]
    row = PasskeyChallenge.objects.filter(nonce=_hash(nonce)).first()
    if row is None:
        return "unknown_challenge"
    # Single use across every process: only one request can turn used_at from empty to now.
    spent = PasskeyChallenge.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not spent:
        return "challenge_reused"
    if row.expires_at <= timezone.now():
        return "challenge_expired"
    if row.session != _hash(session_key) or row.customer_id != (customer.pk if customer else None):
        return "other_session_or_customer"
    if row.operation != approval.operation:
        return "other_operation"
    if row.digest != digest.hex() or row.digest != approval.digest_hex:
        return "approval_changed"
    return ""


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    known = {transport.value for transport in AuthenticatorTransport}
    transports = [AuthenticatorTransport(t) for t in passkey.transports if t in known]
    return PublicKeyCredentialDescriptor(id=bytes(passkey.credential_id), transports=transports or None)


def has_passkey(*, customer: User) -> bool:
    return Passkey.objects.filter(customer=customer).exists()


type Answer = dict[str, object]


def _options(options: PublicKeyCredentialRequestOptions | PublicKeyCredentialCreationOptions, summary: str) -> Answer:
    """What a form's `STEP_FIELD=options` post gets: the WebAuthn options as the browser's JSON
    helpers take them, and the sentence the page shows while the authenticator asks."""
    return {"publicKey": json.loads(options_to_json(options)), "summary": summary}


def challenge_answer(*, customer: User | None, session_key: str, approval: Approval) -> Answer:
    """The options for `navigator.credentials.get` for exactly `approval`: for an approval, the
    customer's own passkeys; for a login (no customer yet), any discoverable one."""
    allowed = [_descriptor(p) for p in Passkey.objects.filter(customer=customer)] if customer else []
    if customer is not None and not allowed:
        raise PermissionDenied("You have no passkey; confirm with your password.", code=ErrorCode.PASSKEY_REQUIRED)
    challenge = _challenge_issue(
        customer=customer, session_key=session_key, operation=approval.operation, digest=approval.digest
    )
    options = generate_authentication_options(
        rp_id=settings.PASSKEY_RP_ID,
        challenge=challenge,
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _options(options, f"Your passkey will {approval.summary}.")


def second_factor_confirm(
    *, customer: User, session_key: str, approval: Approval, credential: str, password: str
) -> None:
    """The second factor for `approval`: the passkey's assertion for a customer who has one (bound to
    exactly what is approved), the password again for one who has not. Raises a DomainError, audited,
    when it does not hold."""
    if not has_passkey(customer=customer):
        if not password:
            raise PermissionDenied("Type your password to confirm. Nothing was paid.", code=ErrorCode.STEP_UP_FAILED)
        password_confirm(customer=customer, password=password, purpose=approval.operation)
        return
    if not credential:
        raise PermissionDenied(
            "Confirm with your passkey: this page needs JavaScript to ask for it. Nothing was done.",
            code=ErrorCode.PASSKEY_REQUIRED,
        )
    passkey_verify(customer=customer, session_key=session_key, approval=approval, credential=credential)


def _refuse(
    *, customer: User | None, approval: Approval, reason: str, passkey: Passkey | None = None
) -> PasskeyRefused:
    owner = customer or (passkey.customer if passkey else None)
    by = Actor(ActorType.CUSTOMER, customer, owner) if owner else by_system()
    audit_record(
        AuditAction.PASSKEY_REFUSED, by, target=passkey, data={"operation": approval.operation, "reason": reason}
    )
    return PasskeyRefused(
        "Your passkey could not confirm this; nothing was done. Try again from the page.",
        code=ErrorCode.PASSKEY_REFUSED,
    )


def _credential_parsed(credential: str) -> tuple[dict[str, object], bytes, bytes]:
    """The posted credential as JSON, its id and the challenge it signed; ValueError if malformed."""
    parsed = json.loads(credential)
    if not isinstance(parsed, dict):
        raise ValueError("not an object")
    response = parsed.get("response")
    if not isinstance(response, dict):
        raise ValueError("no response")
    client_data = parse_client_data_json(base64url_to_bytes(str(response["clientDataJSON"])))
    return parsed, base64url_to_bytes(str(parsed["rawId"])), client_data.challenge


def passkey_verify(*, customer: User | None, session_key: str, approval: Approval, credential: str) -> Passkey:
    """The passkey assertion `credential` (the browser's JSON) approves exactly `approval`, for this
    customer (None: a login, whoever's passkey it is), in this session. Returns the passkey used;
    raises PasskeyRefused (audited) otherwise."""
    try:
        parsed, credential_id, challenge = _credential_parsed(credential)
    except (ValueError, KeyError, TypeError, WebAuthnException):
        raise _refuse(customer=customer, approval=approval, reason="malformed") from None
    reason = _challenge_take(challenge=challenge, customer=customer, session_key=session_key, approval=approval)
    passkey = Passkey.objects.select_related("customer").filter(credential_id=credential_id).first()
    if not reason and passkey is None:
        reason = "unknown_credential"  # never registered, or removed (perhaps in another tab)
    if not reason and customer is not None and passkey is not None and passkey.customer_id != customer.pk:
        reason = "other_customers_credential"
    if reason:
        raise _refuse(customer=customer, approval=approval, reason=reason, passkey=passkey)
    assert passkey is not None
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.PASSKEY_RP_ID,
            expected_origin=settings.PASSKEY_ORIGINS,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except InvalidAuthenticationResponse as exc:
        # A counter that did not go up means a copy of the authenticator: refused, audited as such.
        cloned = "sign count" in str(exc).lower()
        raise _refuse(
            customer=customer,
            approval=approval,
            reason="sign_count_went_back" if cloned else str(exc)[:120],
            passkey=passkey,
        ) from None
    # The counter only goes up, even with two approvals at once (0 stays 0: authenticators without one).
    new_count = verified.new_sign_count
    moved = Passkey.objects.filter(pk=passkey.pk)
    moved = moved.filter(sign_count__lt=new_count) if new_count else moved.filter(sign_count=0)
    if not moved.update(sign_count=new_count, last_used_at=timezone.now()):
        raise _refuse(customer=customer, approval=approval, reason="sign_count_went_back", passkey=passkey)
    audit_record(
        AuditAction.PASSKEY_USED, by_customer(passkey.customer), target=passkey, data={"operation": approval.operation}
    )
    return passkey


# --- the customer's passkeys ---------------------------------------------------------------------


def registration_answer(*, customer: User, session_key: str) -> Answer:
    """The options for `navigator.credentials.create`: a new passkey for this customer."""
    challenge = _challenge_issue(
        customer=customer, session_key=session_key, operation=REGISTER, digest=Approval(REGISTER).digest
    )
    options = generate_registration_options(
        rp_id=settings.PASSKEY_RP_ID,
        rp_name=settings.PASSKEY_RP_NAME,
        user_id=hashlib.sha256(f"{settings.PASSKEY_RP_ID}:{customer.pk}".encode()).digest()[:16],
        user_name=customer.get_username(),
        user_display_name=customer.get_full_name() or customer.get_username(),
        challenge=challenge,
        timeout=int(CHALLENGE_LIFETIME.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=[_descriptor(p) for p in Passkey.objects.filter(customer=customer)],
    )
    return _options(options, "Your device will create a passkey for Demo Bank.")


def _name_checked(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(
            f"Give the passkey a name of 1 to {NAME_MAX} characters.", code=ErrorCode.INVALID, field="name"
        )
    return name


def passkey_add(*, customer: User, session_key: str, name: str, credential: str) -> Passkey:
    """Keep a new passkey after the browser created it (user verification required)."""
    name = _name_checked(name)
    approval = Approval(REGISTER)
    try:
        parsed = json.loads(credential)
        challenge = parse_client_data_json(base64url_to_bytes(str(parsed["response"]["clientDataJSON"]))).challenge
    except (ValueError, KeyError, TypeError, WebAuthnException):
        raise _refuse(customer=customer, approval=approval, reason="malformed") from None
    reason = _challenge_take(challenge=challenge, customer=customer, session_key=session_key, approval=approval)
    if reason:
        raise _refuse(customer=customer, approval=approval, reason=reason)
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.PASSKEY_RP_ID,
            expected_origin=settings.PASSKEY_ORIGINS,
            require_user_verification=True,
        )
    except InvalidRegistrationResponse as exc:
        raise _refuse(customer=customer, approval=approval, reason=str(exc)[:120]) from None
    transports = parsed["response"].get("transports") or []
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                customer=customer,
                name=name,
                credential_id=verified.credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[str(t) for t in transports][:8],
            )
            audit_record(AuditAction.PASSKEY_ADDED, by_customer(customer), target=passkey, data={"name": name})
    except IntegrityError:
        raise ValidationFailed("This passkey is already registered.", code=ErrorCode.INVALID) from None
    return passkey


def _own(customer: User, passkey_id: int) -> Passkey:
    passkey = Passkey.objects.select_for_update().filter(pk=passkey_id, customer=customer).first()
    if passkey is None:
        raise NotFound("No such passkey.")
    return passkey


@transaction.atomic
def passkey_rename(*, customer: User, passkey_id: int, name: str) -> Passkey:
    passkey = _own(customer, passkey_id)
    before, passkey.name = passkey.name, _name_checked(name)
    passkey.save(update_fields=["name"])
    audit_record(
        AuditAction.PASSKEY_RENAMED,
        by_customer(customer),
        target=passkey,
        data={"before": before, "after": passkey.name},
    )
    return passkey


def passkey_remove(*, customer: User, passkey_id: int, password: str) -> None:
    """Remove a passkey; the password is asked (under the same guessing limit as the step-up)."""
    password_confirm(
        customer=customer,
        password=password,
        purpose=f"passkey_remove:{passkey_id}",
        act="changing your passkeys",
        unchanged="the passkey was kept",
    )
    with transaction.atomic():
        passkey = _own(customer, passkey_id)
        audit_record(
            AuditAction.PASSKEY_REMOVED,
            by_customer(customer),
            target=passkey,
            data={"name": passkey.name, "credential_id": bytes_to_base64url(bytes(passkey.credential_id))},
        )
        passkey.delete()


def challenges_prune() -> int:
    """Delete challenges that can no longer be used (a periodic job)."""
    deleted, _ = PasskeyChallenge.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
    return deleted
