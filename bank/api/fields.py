"""The API's common shapes (SPEC §5): Amount, Pointer, and serializers that refuse what they do not know.

An Amount is `{"value": "12.50", "currency": "EUR"}`: the value is a JSON string with exactly two
decimals. A JSON number, three decimals, an exponent, NaN, zero or a negative value is refused
before anything reaches a service.
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.core.validators import validate_email
from django.db import models
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from bank.core.errors import ErrorCode, ValidationFailed
from bank.models import Counterparty, CounterpartyType
from bank.money import format_amount
from bank.selectors import Pointer, normalise_iban
from bank.vocabulary import COUNTERPARTY_NAME_MAX, COUNTERPARTY_VALUE_MAX

AMOUNT_PATTERN = re.compile(r"^(0|[1-9][0-9]{0,12})\.[0-9]{2}$")


class StrictSerializer[T: Mapping[str, object]](serializers.Serializer[T]):
    """An input serializer. Unknown fields are a 400, and so is a field of the object that the client
    may not set (`read_only_from` names the output serializer whose fields count as read-only).
    `parse` validates a request body and returns it as the TypedDict `T` that the services take."""

    read_only_from: type[serializers.Serializer[models.Model]] | None = None

    @classmethod
    def parse(cls, data: object) -> T:
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return cast(T, serializer.validated_data)

    def to_internal_value(self, data: object) -> T:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            known = set(self.read_only_from._declared_fields) if self.read_only_from else set()
            errors = {
                key: [
                    serializers.ErrorDetail("This field is read-only.", code=ErrorCode.READ_ONLY_FIELD)
                    if key in known or key in self.fields
                    else serializers.ErrorDetail("Unknown field.", code=ErrorCode.UNKNOWN_FIELD)
                ]
                for key in data
                if key not in writable
            }
            if errors:
                raise serializers.ValidationError(errors)
        return cast(T, super().to_internal_value(data))


class AmountSchema(serializers.Serializer):
    value = serializers.CharField(help_text='A string with exactly two decimals, e.g. "12.50".')
    currency = serializers.CharField(help_text='ISO 4217; "EUR".')


type Money = tuple[Decimal, str]  # an amount and its currency, as a row holds them


@extend_schema_field(AmountSchema)
class AmountOutField(serializers.Field[Money, Money, dict[str, str], models.Model]):
    """An Amount in a response: the row's amount with the row's `currency` beside it."""

    def __init__(self, *, allow_null: bool = False, source: str | None = None, help_text: str | None = None) -> None:
        super().__init__(allow_null=allow_null, source=source, help_text=help_text, read_only=True)

    def get_attribute(self, instance: models.Model) -> Money | None:
        # The row holds the bare amount under `source`; pair it with the row's currency.
        amount = cast(Decimal | None, super().get_attribute(instance))
        return None if amount is None else (amount, getattr(instance, "currency", settings.BANK_CURRENCY))

    def to_representation(self, value: Money) -> dict[str, str]:
        amount, currency = value
        return {"value": format_amount(amount), "currency": currency}


@extend_schema_field(AmountSchema)
class AmountField(serializers.Field[Decimal, object, dict[str, str], models.Model]):
    """An Amount in a request: positive (or, with `allow_zero`, not negative), a string value with two
    decimals, in the bank's currency."""

    default_error_messages = {
        "invalid": 'An amount is an object: {{"value": "12.50", "currency": "EUR"}}.',
        "not_a_string": 'The value is a JSON string with exactly two decimals, e.g. "12.50".',
        "format": 'The value has exactly two decimals and no sign or exponent, e.g. "12.50".',
        "not_positive": "The amount must be more than zero.",
        "currency": "The only currency is {currency}.",
    }

    def __init__(self, *, allow_zero: bool = False, required: bool = True, help_text: str | None = None) -> None:
        self.allow_zero = allow_zero
        super().__init__(required=required, help_text=help_text)

    def to_representation(self, value: Decimal) -> dict[str, str]:
        return {"value": format_amount(value), "currency": settings.BANK_CURRENCY}

    def to_internal_value(self, data: object) -> Decimal:
        if not isinstance(data, dict) or set(data) != {"value", "currency"}:
            self.fail("invalid")
        if not isinstance(data["value"], str):
            self.fail("not_a_string")
        if not AMOUNT_PATTERN.match(data["value"]):
            self.fail("format")
        if data["currency"] != settings.BANK_CURRENCY:
            self.fail("currency", currency=settings.BANK_CURRENCY)
        amount = Decimal(data["value"])
        if amount < 0 or (amount == 0 and not self.allow_zero):
            self.fail("not_positive")
        return amount


@extend_schema_serializer(
    component_name="Pointer",
)
class PointerSerializer(StrictSerializer[Pointer]):
    """A counterparty: an IBAN (validated, normalised; `name` required) or a customer's email."""

    type = serializers.ChoiceField(choices=CounterpartyType.choices)
    value = serializers.CharField(max_length=COUNTERPARTY_VALUE_MAX)
    name = serializers.CharField(max_length=COUNTERPARTY_NAME_MAX, required=False, allow_blank=True, default="")

    def validate(self, attrs: Pointer) -> Pointer:
        if attrs["type"] == CounterpartyType.IBAN:
            try:
                attrs["value"] = normalise_iban(attrs["value"])
            except ValidationFailed as exc:
                raise serializers.ValidationError({"value": [exc.message]}, code=ErrorCode.INVALID_IBAN) from exc
            if not attrs.get("name", "").strip():
                raise serializers.ValidationError(
                    {"name": ["A name is required with an IBAN."]}, code=ErrorCode.REQUIRED
                )
        else:
            try:
                validate_email(attrs["value"])
            except Exception as exc:
                raise serializers.ValidationError(
                    {"value": ["Enter a valid email address."]}, code=ErrorCode.INVALID
                ) from exc
        return attrs


@extend_schema_field(PointerSerializer)
class PointerOutField(serializers.Field[Counterparty, object, Pointer, Counterparty]):
    """The Pointer stored on a row (its counterparty_* columns)."""

    def __init__(self) -> None:
        super().__init__(source="*", read_only=True)

    def to_representation(self, instance: Counterparty) -> Pointer:
        return {
            "type": instance.counterparty_type,
            "value": instance.counterparty_value,
            "name": instance.counterparty_name,
        }
