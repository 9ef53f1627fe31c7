"""Money: one Decimal field definition, one quantize helper. Amounts are never floats."""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import models

CENT = Decimal("0.01")
MAX_DIGITS = 15


class MoneyField(models.DecimalField):
    """A Decimal amount with two places, as every amount in the bank is stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, args, kwargs


def currency_field() -> models.CharField:
    return models.CharField(max_length=3, default=settings.BANK_CURRENCY)


def quantize(value: Decimal | str | int) -> Decimal:
    """Exactly two decimal places; refuses anything that is not a finite number."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an amount") from exc
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_amount(value: Decimal) -> str:
    return f"{quantize(value):.2f}"
