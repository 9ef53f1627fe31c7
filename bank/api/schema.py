"""OpenAPI: every operation lists the scopes it needs and the problem-details errors it can answer.

DRF loads this module (DEFAULT_SCHEMA_CLASS) before any schema is generated, which registers the
authentication scheme below with drf-spectacular.
"""

from typing import Literal

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers


class ProblemFieldError(serializers.Serializer):
    field = serializers.CharField(help_text='The field, dotted for nested ones: "entries.0.amount".')
    code = serializers.CharField()
    detail = serializers.CharField()


# RFC 9457 problem details. Inline, because `errors` is also a property of every Serializer class.
PROBLEM = inline_serializer(
    "Problem",
    {
        "type": serializers.URLField(help_text="The page that explains the code: <bank>/developers/problems/<code>/"),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "code": serializers.CharField(help_text="A stable machine code, e.g. insufficient_scope, use_draft_payment."),
        "errors": ProblemFieldError(many=True, required=False),
    },
)


ERRORS = {
    "400": "Invalid request: unknown, read-only or malformed fields (see `errors`).",
    "401": 'No valid token. `WWW-Authenticate: Bearer error="invalid_token"`.',
    "403": 'The token lacks a scope (`WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`), '
    "or the act is the customer's own.",
    "404": "No such object for this app: another customer's, or under an account not shared with it.",
    "409": "Conflict with the object's state, or the same Idempotency-Key still running.",
    "422": "Insufficient funds, or an Idempotency-Key reused with a different body.",
    "429": "Rate limit for this connection; see `Retry-After`, `RateLimit` and `RateLimit-Policy`.",
}


class BankAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        if not self.view.get_authenticators():
            return []
        codes = ["401", "403", "429"]
        if self.method == "GET" and self._is_list_view():
            return ["400", *codes, *(["404"] if "account_pk" in self.path else [])]
        if self.method == "GET":
            return [*codes, *(["404"] if "{" in self.path else [])]
        return ["400", *codes, "404", "409", "422"]

    def get_override_parameters(self) -> list[OpenApiParameter | serializers.Serializer | type[serializers.Serializer]]:
        parameters = list(super().get_override_parameters())
        for name in ("account_pk", "id"):
            if f"{{{name}}}" in self.path:
                parameters.append(OpenApiParameter(name, int, OpenApiParameter.PATH))
        if self.method == "POST" and self.view.get_authenticators():
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description="1-64 visible ASCII characters. The same key and body within 24 hours returns the "
                    "first response again (header `Idempotent-Replayed: true`) and does nothing more; another body "
                    "is 422; while the first request runs, 409.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, object]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        problem = self.resolve_serializer(PROBLEM, "response").ref
        for code in self._error_codes():
            content: dict[str, object] = {"schema": problem}
            examples = {
                "".join(word.capitalize() for word in example.name.replace("'", "").split()): {
                    "value": example.value,
                    "summary": example.name,
                }
                for example in self.get_examples()
                if code in (example.status_codes or [])
            }
            if examples:
                content["examples"] = examples
            responses.setdefault(code, {"description": ERRORS[code], "content": {"application/problem+json": content}})
        return responses


class ConnectionAuthenticationScheme(DjangoOAuthToolkitScheme):
    """The API's authentication is the toolkit's, with per-operation scopes."""

    target_class = "bank.api.authentication.ConnectionAuthentication"

    def get_security_requirement(self, auto_schema: AutoSchema) -> dict[str, list[str]] | list[dict[str, list[str]]]:
        # A view without a scope permission (GET /api/v1/me/) still needs a token: any scope will do.
        requirement: dict[str, list[str]] | list[dict[str, list[str]]] = super().get_security_requirement(auto_schema)
        return requirement or {self.name: []}
