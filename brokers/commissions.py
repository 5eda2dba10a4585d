"""The monthly commission statement as pure Decimal arithmetic (spec: brokers.md, six steps).

Plain data in, plain data out: nothing here knows the ORM. Every amount that the
spec rounds goes through `quantize_yuan` (0.01, ROUND_HALF_UP); intermediate
products are exact Decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from brokercrm.money import quantize_yuan

ZERO = Decimal("0")
FLAT = "flat"
TIERED_PROGRESSIVE = "tiered_progressive"
TIERED_WHOLE = "tiered_whole"
MODES = (FLAT, TIERED_PROGRESSIVE, TIERED_WHOLE)

# Labour remuneration (劳务报酬) withholding: (taxable up to, rate, quick deduction).
TAX_BRACKETS: tuple[tuple[Decimal | None, Decimal, Decimal], ...] = (
    (Decimal("20000"), Decimal("0.20"), Decimal("0")),
    (Decimal("50000"), Decimal("0.30"), Decimal("2000")),
    (None, Decimal("0.40"), Decimal("7000")),
)
TAX_FLAT_ALLOWANCE = Decimal("800")
TAX_ALLOWANCE_LIMIT = Decimal("4000")
TAX_PERCENT_ALLOWED = Decimal("0.8")


def D(value) -> Decimal:  # noqa: N802 - short constructor used in tables
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


@dataclass(frozen=True)
class Scheme:
    mode: str = FLAT
    # ((lower bound on base, ratio), …) ascending by lower bound; the first starts at 0.
    bands: tuple[tuple[Decimal, Decimal], ...] = ((ZERO, Decimal("0.50")),)
    vat_rate: Decimal = Decimal("0.0672")
    reserve_rate: Decimal = Decimal("0.05")
    protection_rate: Decimal = ZERO
    other_deductions: Decimal = ZERO
    min_payout: Decimal = Decimal("100")

    @classmethod
    def from_model(cls, scheme) -> Scheme:
        return cls(
            mode=scheme.mode,
            bands=parse_bands(scheme.bands),
            vat_rate=D(scheme.vat_rate),
            reserve_rate=D(scheme.reserve_rate),
            protection_rate=D(scheme.protection_rate),
            other_deductions=D(scheme.other_deductions),
            min_payout=D(scheme.min_payout),
        )


def parse_bands(bands: Iterable[Sequence]) -> tuple[tuple[Decimal, Decimal], ...]:
    """[[lower, ratio], …] (strings or numbers) → sorted Decimal pairs; ValueError if unusable."""
    parsed = tuple(sorted((D(lower), D(ratio)) for lower, ratio in bands))
    if not parsed:
        raise ValueError("a scheme needs at least one band")
    if parsed[0][0] != ZERO:
        raise ValueError("the first band must start at 0")
    if len({lower for lower, _ in parsed}) != len(parsed):
        raise ValueError("two bands start at the same bound")
    for _, ratio in parsed:
        if ratio < ZERO or ratio > 1:
            raise ValueError("a ratio lies between 0 and 1")
    return parsed


def bands_from_text(text: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """`0:0.40;100000:0.50` → ((0, 0.40), (100000, 0.50)); ValueError with a reason."""
    pairs = []
    for part in text.replace("；", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        lower, sep, ratio = part.partition(":")
        if not sep:
            raise ValueError(f"band {part!r} is not lower:ratio")
        try:
            pairs.append((D(lower.replace(",", "").strip()), _ratio(ratio.strip())))
        except ArithmeticError as exc:
            raise ValueError(f"band {part!r} is not lower:ratio") from exc
    return parse_bands(pairs)


def _ratio(text: str) -> Decimal:
    if text.endswith("%"):
        return D(text[:-1]) / 100
    return D(text)


def apply_bands(base: Decimal, scheme: Scheme) -> Decimal:
    """Step 4: payout = base × ratio per mode, rounded to 0.01. A base ≤ 0 pays nothing."""
    if base <= ZERO:
        return ZERO.quantize(Decimal("0.01"))
    bands = scheme.bands
    if scheme.mode == FLAT:
        return quantize_yuan(base * bands[0][1])
    if scheme.mode == TIERED_WHOLE:
        ratio = bands[0][1]
        for lower, band_ratio in bands:
            if base >= lower:
                ratio = band_ratio
        return quantize_yuan(base * ratio)
    if scheme.mode == TIERED_PROGRESSIVE:
        total = ZERO
        for index, (lower, ratio) in enumerate(bands):
            upper = bands[index + 1][0] if index + 1 < len(bands) else None
            if base <= lower:
                break
            top = base if upper is None else min(base, upper)
            total += (top - lower) * ratio
        return quantize_yuan(total)
    raise ValueError(f"unknown scheme mode {scheme.mode!r}")


def labour_income_tax(payout: Decimal) -> Decimal:
    """Step 5: individual income tax withheld on labour remuneration, rounded to 0.01."""
    if payout <= ZERO:
        return quantize_yuan(ZERO)
    if payout <= TAX_ALLOWANCE_LIMIT:
        taxable = payout - TAX_FLAT_ALLOWANCE
    else:
        taxable = payout * TAX_PERCENT_ALLOWED
    if taxable <= ZERO:
        return quantize_yuan(ZERO)
    for limit, rate, quick in TAX_BRACKETS:
        if limit is None or taxable <= limit:
            return quantize_yuan(taxable * rate - quick)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class StatementFigures:
    gross: Decimal
    vat: Decimal
    reserve: Decimal
    protection: Decimal
    other: Decimal
    carried_in_base: Decimal
    base: Decimal  # gross − deductions + negative base brought forward (may be < 0)
    payout: Decimal  # this month's base × ratio
    carried_in_payout: Decimal
    tax: Decimal
    net_pay: Decimal
    carried_out_payout: Decimal
    carried_out_base: Decimal

    @property
    def deductions(self) -> Decimal:
        return self.vat + self.reserve + self.protection + self.other

    @property
    def payout_total(self) -> Decimal:
        return self.payout + self.carried_in_payout

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def compute_statement(
    *,
    gross: Decimal,
    scheme: Scheme,
    is_person: bool,
    carried_in_payout: Decimal = ZERO,
    carried_in_base: Decimal = ZERO,
) -> StatementFigures:
    """Steps 2–6 for one IB and month, from step 1's gross (Σ net retained fee)."""
    gross = quantize_yuan(gross)
    # 2. deductions, each rounded on its own.
    vat = quantize_yuan(gross * scheme.vat_rate)
    reserve = quantize_yuan(gross * scheme.reserve_rate)
    protection = quantize_yuan(gross * scheme.protection_rate)
    other = quantize_yuan(scheme.other_deductions)
    # 3. base; a negative base brought forward offsets this month's.
    carried_in_base = quantize_yuan(min(carried_in_base, ZERO))
    base = gross - vat - reserve - protection - other + carried_in_base
    carried_out_base = base if base < ZERO else quantize_yuan(ZERO)
    # 4. payout on the (non-negative) base.
    payout = apply_bands(base, scheme)
    # 5. tax on this month's payout plus the payout brought forward.
    carried_in_payout = quantize_yuan(max(carried_in_payout, ZERO))
    payout_total = payout + carried_in_payout
    tax = labour_income_tax(payout_total) if is_person else quantize_yuan(ZERO)
    # 6. net pay; below the minimum nothing is paid and the payout (before tax) carries.
    net_pay = payout_total - tax
    carried_out_payout = quantize_yuan(ZERO)
    if net_pay < scheme.min_payout:
        carried_out_payout = payout_total
        tax = quantize_yuan(ZERO)
        net_pay = quantize_yuan(ZERO)
    return StatementFigures(
        gross=gross, vat=vat, reserve=reserve, protection=protection, other=other,
        carried_in_base=carried_in_base, base=base, payout=payout,
        carried_in_payout=carried_in_payout, tax=tax, net_pay=net_pay,
        carried_out_payout=carried_out_payout, carried_out_base=carried_out_base,
    )
