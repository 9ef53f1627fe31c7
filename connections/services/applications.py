"""Developers' applications (registered and changed at /developers/) and the bank's policy for them
(suspension by staff)."""

import dataclasses
import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from confusable_homoglyphs.confusables import confusables_data
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from PIL import Image, ImageOps

from bank.core.audit import AuditData, audit_record, by_developer
from bank.core.errors import ErrorCode, ValidationFailed
from bank.selectors import display_name
from bank.vocabulary import AuditAction
from connections.keys import checked_jwks
from connections.models import (
    Application,
    Connection,
    Logo,
    NotificationFilter,
    RevokedBy,
    TokenEndpointAuthMethod,
    default_allowed_scopes,
)
from connections.services.connections import connection_revoke

# --- Developers' own applications --------------------------------------------------------------

DEVELOPER_FIELDS = ("name", "website", "redirect_uris", "client_type")
SECRET_OVERLAP_MAX = timedelta(days=7)  # how long a replaced client secret may keep working
# What customers judge an app by on the consent screen: changing any of it undoes the bank's review.
REVIEWED_FIELDS = ("name", "redirect_uris", "client_type", "website")

# Letters of other scripts that look like an ASCII one (Unicode's confusables), and ASCII look-alikes.
_TO_ASCII = {
    char: next((entry["c"] for entry in entries if entry["c"].isascii()), char)
    for char, entries in confusables_data.items()
    if not char.isascii()
}
_ASCII_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})


def name_skeleton(name: str) -> str:
    """What a name looks like, with case, accents, spacing, punctuation and look-alike letters set
    aside: "Budget Buddy", "BUDGET  BUDDY" and the same words spelled with a Cyrillic VE for the B
    share one skeleton. Linear in the name's length."""
    text = "".join(_TO_ASCII.get(char, char) for char in unicodedata.normalize("NFKD", name))
    text = unicodedata.normalize("NFKD", text).casefold().replace("rn", "m").replace("vv", "w")
    return "".join(char for char in text.translate(_ASCII_LOOKALIKES) if char.isalnum())


LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 4096  # refused before decoding: no decompression bomb gets near memory
LOGO_SIZE = 256
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}


def logo_store(*, upload: bytes) -> Logo:
    """The bank's own copy of an uploaded logo: checked (a PNG, JPEG or WebP image of sane size),
    re-encoded as a PNG of at most 256 by 256 (which drops whatever else the file carried), stored."""
    refused = ValidationFailed(
        "The logo must be a PNG, JPEG or WebP image of at most 512 KB and 4096 by 4096 pixels.",
        code=ErrorCode.INVALID_LOGO,
        field="logo",
    )
    if len(upload) > LOGO_MAX_BYTES:
        raise refused
    try:
        with Image.open(io.BytesIO(upload)) as probe:
            if probe.format not in LOGO_FORMATS or max(probe.size) > LOGO_MAX_SIDE:
                raise refused
            probe.verify()
        with Image.open(io.BytesIO(upload)) as image:
            picture = ImageOps.exif_transpose(image).convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise refused from exc
    picture.thumbnail((LOGO_SIZE, LOGO_SIZE))
    encoded = io.BytesIO()
    picture.save(encoded, format="PNG", optimize=True)
    png = encoded.getvalue()
    logo, _ = Logo.objects.get_or_create(sha256=hashlib.sha256(png).hexdigest(), defaults={"png": png})
    return logo


@dataclass(frozen=True)
class ClientMetadata:
    """How an app authenticates and what it is held to (the standard names): its token endpoint
    authentication method, its public keys, DPoP-bound tokens, pushed authorization requests."""

    token_endpoint_auth_method: str = TokenEndpointAuthMethod.CLIENT_SECRET_BASIC
    jwks: str = ""
    dpop_bound_access_tokens: bool = False
    require_pushed_authorization_requests: bool = False

    @classmethod
    def default_for(cls, client_type: str) -> "ClientMetadata":
        public = client_type == Application.CLIENT_PUBLIC
        return cls(
            token_endpoint_auth_method=TokenEndpointAuthMethod.NONE if public else cls.token_endpoint_auth_method
        )

    @classmethod
    def of(cls, application: Application) -> "ClientMetadata":
        return cls(
            token_endpoint_auth_method=application.token_endpoint_auth_method,
            jwks=application.jwks,
            dpop_bound_access_tokens=application.dpop_bound_access_tokens,
            require_pushed_authorization_requests=application.require_pushed_authorization_requests,
        )

    def checked(self, *, client_type: str) -> "ClientMetadata":
        """The metadata as stored (the key set checked and compacted), or a clear refusal."""
        method = self.token_endpoint_auth_method
        if method not in TokenEndpointAuthMethod.values:
            raise _metadata_refused(
                f"token_endpoint_auth_method is one of {', '.join(TokenEndpointAuthMethod.values)}."
            )
        public = client_type == Application.CLIENT_PUBLIC
        if public != (method == TokenEndpointAuthMethod.NONE):
            raise _metadata_refused(
                "A public client authenticates with none; a confidential one with a secret or private_key_jwt."
            )
        jwks = checked_jwks(self.jwks) if self.jwks.strip() else ""
        if method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT and not jwks:
            raise _metadata_refused("private_key_jwt needs the app's public keys (jwks).")
        return dataclasses.replace(self, jwks=jwks)

    def apply(self, application: Application) -> None:
        for field in dataclasses.fields(self):
            setattr(application, field.name, getattr(self, field.name))

    def describe(self) -> AuditData:
        """For the audit log: the key set by its key ids, never the keys themselves."""
        kids = [str(key.get("kid")) for key in json.loads(self.jwks).get("keys", [])] if self.jwks else []
        return {
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "jwks_kids": kids,
            "dpop_bound_access_tokens": self.dpop_bound_access_tokens,
            "require_pushed_authorization_requests": self.require_pushed_authorization_requests,
        }


def _metadata_refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, code=ErrorCode.INVALID_CLIENT_METADATA)


def money_needs_fapi(application: Application) -> bool:
    """Whether the bank refuses money-moving scopes to this app: it is not held to FAPI 2.0, and
    this deployment does not let bearer-token apps move money."""
    return not application.is_fapi and not settings.BEARER_APPS_MAY_MOVE_MONEY


def _ensure_name_free(name: str, *, application_pk: int | None) -> None:
    """A verified app's name is reserved: nobody else may look like it to a customer."""
    skeleton = name_skeleton(name)
    reserved = Application.objects.filter(verified=True, deleted_at__isnull=True).exclude(pk=application_pk)
    for other in reserved.only("name"):
        if name_skeleton(other.name) == skeleton:
            raise ValidationFailed(
                "That name belongs to a verified app; choose a name of your own.",
                code=ErrorCode.NAME_RESERVED,
                field="name",
            )


def _saved(application: Application) -> None:
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()),
            code=ErrorCode.INVALID_APPLICATION,
        ) from exc
    application.save()


@dataclass(frozen=True)
class AppDetails:
    """What a developer says of their app when registering or editing it."""

    name: str
    website: str
    redirect_uris: str
    client_type: str
    logo_upload: bytes | None = None
    metadata: ClientMetadata | None = None


@transaction.atomic
def application_register(*, developer: User, details: AppDetails) -> tuple[Application, str]:
    """A customer registers an app. It may ask only for the read-only scopes until staff allow more.
    Returns the raw client secret, which is stored hashed and shown this once."""
    secret = generate_client_secret()
    _ensure_name_free(details.name, application_pk=None)
    client_type = details.client_type
    checked = (details.metadata or ClientMetadata.default_for(client_type)).checked(client_type=client_type)
    application = Application(
        user=developer,
        client_secret=secret,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        developer_name=display_name(developer),
        name=details.name,
        website=details.website,
        redirect_uris=details.redirect_uris,
        client_type=client_type,
        logo=logo_store(upload=details.logo_upload) if details.logo_upload else None,
        review_requested_at=timezone.now(),
    )
    checked.apply(application)
    _saved(application)
    audit_record(
        AuditAction.APPLICATION_REGISTERED,
        by_developer(developer),
        application=application,
        data={"client_type": application.client_type, **checked.describe()},
    )
    return application, secret


@transaction.atomic
def application_update(
    *, application: Application, developer: User, details: AppDetails, logo_clear: bool = False
) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    name, client_type, upload = details.name, details.client_type, details.logo_upload
    wanted = {field: getattr(details, field) for field in DEVELOPER_FIELDS}
    logo = logo_store(upload=upload) if upload else (None if logo_clear else application.logo)
    changed = sorted(
        [field for field, value in wanted.items() if getattr(application, field) != value]
        + (["logo"] if logo != application.logo else [])
    )
    if "name" in changed:
        _ensure_name_free(name, application_pk=application.pk)
    before_metadata = ClientMetadata.of(application)
    new_metadata = (details.metadata or before_metadata).checked(client_type=client_type)
    changed = sorted(
        set(changed)
        | {
            field.name
            for field in dataclasses.fields(ClientMetadata)
            if getattr(before_metadata, field.name) != getattr(new_metadata, field.name)
        }
    )
    was_fapi = application.is_fapi
    for field, value in wanted.items():
        setattr(application, field, value)
    application.logo = logo
    new_metadata.apply(application)
    reviewed_changes = [field for field in changed if field in REVIEWED_FIELDS]
    if was_fapi and not application.is_fapi:
        reviewed_changes.append("fapi")  # no longer held to FAPI 2.0: what staff allowed it may not hold
    before: AuditData = {"verified": application.verified, "allowed_scopes": application.allowed_scope_list()}
    if reviewed_changes and application.review_requested_at is None:
        # The bank reviewed what it saw; this is no longer that app. Back to the queue, with only
        # the read-only scopes (its tokens lose the rest at their next call: see the API's
        # effective scopes).
        application.verified = False
        application.verified_at = None
        application.verified_by = None
        application.allowed_scopes = default_allowed_scopes()
        application.review_requested_at = timezone.now()
    _saved(application)
    audit_record(
        AuditAction.APPLICATION_UPDATED, by_developer(developer), application=application, data={"changed": changed}
    )
    if reviewed_changes and before != {"verified": False, "allowed_scopes": application.allowed_scope_list()}:
        audit_record(
            AuditAction.APPLICATION_SENT_TO_REVIEW,
            by_developer(developer),
            application=application,
            data={
                "changed": reviewed_changes,
                "before": before,
                "after": {"verified": application.verified, "allowed_scopes": application.allowed_scope_list()},
            },
        )
    return application


@transaction.atomic
def application_rotate_secret(*, application: Application, developer: User, overlap: timedelta = timedelta(0)) -> str:
    """A new client secret. The old one keeps working for `overlap` (up to SECRET_OVERLAP_MAX, so that
    the app's servers can switch one by one), or stops at once. Returns the raw secret, shown once."""
    if not timedelta(0) <= overlap <= SECRET_OVERLAP_MAX:
        raise ValidationFailed(
            f"The old secret may keep working for at most {SECRET_OVERLAP_MAX.days} days.",
            code=ErrorCode.INVALID,
            field="overlap",
        )
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    if overlap:
        application.previous_client_secret = application.client_secret  # as stored: hashed
        application.previous_secret_expires_at = timezone.now() + overlap
    else:
        application.previous_client_secret, application.previous_secret_expires_at = "", None
    secret = generate_client_secret()
    application.client_secret = secret
    application.save(update_fields=["client_secret", "previous_client_secret", "previous_secret_expires_at", "updated"])
    audit_record(
        AuditAction.APPLICATION_SECRET_ROTATED,
        by_developer(developer),
        application=application,
        data={"previous_works_for_hours": int(overlap.total_seconds() // 3600)},
    )
    return secret


@transaction.atomic
def application_previous_secret_end(*, application: Application, developer: User) -> None:
    """Stop the previous client secret now, before its overlap ends."""
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    application.previous_client_secret, application.previous_secret_expires_at = "", None
    application.save(update_fields=["previous_client_secret", "previous_secret_expires_at", "updated"])
    audit_record(
        AuditAction.APPLICATION_SECRET_ROTATED,
        by_developer(developer),
        application=application,
        data={"previous_ended": True},
    )


@transaction.atomic
def application_delete(*, application: Application, developer: User) -> int:
    """The developer deletes their app: every connection to it ends now (customers see so in their
    connection history), its callbacks stop, and its credentials never work again. The row stays,
    hidden from the developer, for the history and the audit log. Returns how many connections ended."""
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    if application.deleted_at is not None:
        return 0
    application.deleted_at = timezone.now()
    application.previous_client_secret, application.previous_secret_expires_at = "", None
    application.save(update_fields=["deleted_at", "previous_client_secret", "previous_secret_expires_at", "updated"])
    NotificationFilter.objects.filter(connection__application=application, disabled_at__isnull=True).update(
        disabled_at=application.deleted_at
    )
    ended = 0
    for connection in Connection.objects.filter(application=application, revoked_at__isnull=True):
        connection_revoke(connection=connection, by=RevokedBy.APP_DELETED, actor=developer)
        ended += 1
    audit_record(
        AuditAction.APPLICATION_DELETED,
        by_developer(developer),
        application=application,
        data={"connections_ended": ended},
    )
    return ended
