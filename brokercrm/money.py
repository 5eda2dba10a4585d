"""Money helpers: every amount is Decimal yuan, rounded once at the end."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MONEY_DIGITS = 18
MONEY_PLACES = 2


def quantize_yuan(value: Decimal | int | str | float) -> Decimal:
    """Round to the cent, half up. Floats (from pandas) go through str first."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_field_kwargs(**extra) -> dict:
    return {"max_digits": MONEY_DIGITS, "decimal_places": MONEY_PLACES, **extra}
