"""Money: one Decimal field definition, one quantize helper. Amounts are never floats."""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.db.models.fields import NOT_PROVIDED

CENT = Decimal("0.01")
MAX_DIGITS = 15


class MoneyField(models.DecimalField):
    """A Decimal amount with two places, as every amount in the bank is stored."""

    def __init__(
        self,
        *,
        default: object = NOT_PROVIDED,
        null: bool = False,
        blank: bool = False,
        help_text: str = "",
        max_digits: int = MAX_DIGITS,
        decimal_places: int = 2,
    ) -> None:
        super().__init__(
            default=default,
            null=null,
            blank=blank,
            help_text=help_text,
            max_digits=max_digits,
            decimal_places=decimal_places,
        )

    def deconstruct(self) -> tuple[str, str, list[object], dict[str, object]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_digits", None)
        kwargs.pop("decimal_places", None)
        return name, path, list(args), kwargs


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
