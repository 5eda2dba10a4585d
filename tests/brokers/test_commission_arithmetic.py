"""The six steps as pure Decimal arithmetic, hand-computed to the cent."""

from decimal import Decimal as D

import pytest

from brokers.commissions import (
    FLAT,
    TIERED_PROGRESSIVE,
    TIERED_WHOLE,
    Scheme,
    apply_bands,
    bands_from_text,
    compute_statement,
    labour_income_tax,
)

DEFAULT = Scheme()
TIERS = bands_from_text("0:0.40;100000:0.50;500000:0.60")


def test_flat_default_scheme_for_a_person():
    f = compute_statement(gross=D("10000.00"), scheme=DEFAULT, is_person=True)
    assert (f.vat, f.reserve, f.protection, f.other) == (D("672.00"), D("500.00"), D("0.00"), D("0.00"))
    assert f.base == D("8828.00")
    assert f.payout == D("4414.00")
    # payout > 4,000: taxable = 4414 × 0.8 = 3531.20; tax 20 % = 706.24
    assert f.tax == D("706.24")
    assert f.net_pay == D("3707.76")
    assert f.carried_out_payout == D("0.00")


def test_each_deduction_is_rounded_half_up_on_its_own():
    f = compute_statement(gross=D("1234.56"), scheme=DEFAULT, is_person=True)
    assert f.vat == D("82.96")  # 82.962432
    assert f.reserve == D("61.73")  # 61.728
    assert f.base == D("1089.87")
    assert f.payout == D("544.94")  # 544.935 half up
    assert f.tax == D("0.00")  # payout − 800 < 0
    assert f.net_pay == D("544.94")


def test_protection_rate_and_other_fixed_deductions():
    scheme = Scheme(protection_rate=D("0.005"), other_deductions=D("25"))
    f = compute_statement(gross=D("8000.00"), scheme=scheme, is_person=False)
    assert (f.vat, f.reserve, f.protection, f.other) == (D("537.60"), D("400.00"), D("40.00"), D("25.00"))
    assert f.base == D("6997.40")
    assert f.payout == D("3498.70")
    assert f.tax == D("0.00")  # institutions invoice; nothing withheld
    assert f.net_pay == D("3498.70")


def test_tiered_progressive_slices_the_base_like_tax_brackets():
    scheme = Scheme(mode=TIERED_PROGRESSIVE, bands=TIERS)
    f = compute_statement(gross=D("200000.00"), scheme=scheme, is_person=False)
    assert f.base == D("176560.00")
    assert f.payout == D("78280.00")  # 100000 × 0.40 + 76560 × 0.50
    f = compute_statement(gross=D("600000.00"), scheme=scheme, is_person=False)
    assert f.base == D("529680.00")
    assert f.payout == D("257808.00")  # 40000 + 400000 × 0.5 + 29680 × 0.6


def test_tiered_whole_pays_the_whole_base_at_the_band_it_reaches():
    scheme = Scheme(mode=TIERED_WHOLE, bands=TIERS)
    assert compute_statement(gross=D("200000.00"), scheme=scheme, is_person=False).payout == D("88280.00")
    assert compute_statement(gross=D("600000.00"), scheme=scheme, is_person=False).payout == D("317808.00")
    # exactly on a band's lower bound: that band's ratio
    assert apply_bands(D("100000"), scheme) == D("50000.00")
    assert apply_bands(D("99999.99"), scheme) == D("39999.996").quantize(D("0.01"))


def test_flat_scheme_with_its_own_ratio():
    scheme = Scheme(mode=FLAT, bands=bands_from_text("0:40%"))
    assert apply_bands(D("1000.01"), scheme) == D("400.00")  # 400.004


@pytest.mark.parametrize(
    ("payout", "tax"),
    [
        (D("800.00"), D("0.00")),
        (D("1000.00"), D("40.00")),  # (1000 − 800) × 20 %
        (D("4000.00"), D("640.00")),  # (4000 − 800) × 20 %
        (D("4000.01"), D("640.00")),  # 4000.01 × 0.8 = 3200.008 × 20 % = 640.0016
        (D("4100.00"), D("656.00")),  # 3280 × 20 %
        (D("25000.00"), D("4000.00")),  # taxable 20,000 × 20 %
        (D("25000.01"), D("4000.00")),  # taxable 20,000.008 × 30 % − 2,000 = 4000.0024
        (D("30000.00"), D("5200.00")),  # 24,000 × 30 % − 2,000
        (D("62500.00"), D("13000.00")),  # taxable 50,000 × 30 % − 2,000
        (D("62500.01"), D("13000.00")),  # 50,000.008 × 40 % − 7,000 = 13000.0032
        (D("100000.00"), D("25000.00")),  # 80,000 × 40 % − 7,000
    ],
)
def test_labour_income_tax_bands_and_edges(payout, tax):
    assert labour_income_tax(payout) == tax


def test_tax_edge_4000_versus_4000_01_in_a_statement():
    # Flat 1.0 and no deductions so the payout equals the gross.
    scheme = Scheme(bands=((D(0), D(1)),), vat_rate=D(0), reserve_rate=D(0))
    at = compute_statement(gross=D("4000.00"), scheme=scheme, is_person=True)
    above = compute_statement(gross=D("4000.01"), scheme=scheme, is_person=True)
    assert (at.tax, at.net_pay) == (D("640.00"), D("3360.00"))
    assert (above.tax, above.net_pay) == (D("640.00"), D("3360.01"))


def test_below_minimum_pays_nothing_and_carries_the_payout_before_tax():
    first = compute_statement(gross=D("200.00"), scheme=DEFAULT, is_person=True)
    assert first.base == D("176.56")
    assert first.payout == D("88.28")
    assert (first.tax, first.net_pay, first.carried_out_payout) == (D("0.00"), D("0.00"), D("88.28"))
    second = compute_statement(gross=D("300.00"), scheme=DEFAULT, is_person=True,
                               carried_in_payout=first.carried_out_payout)
    assert second.payout == D("132.42")
    assert second.payout_total == D("220.70")
    assert (second.tax, second.net_pay, second.carried_out_payout) == (D("0.00"), D("220.70"), D("0.00"))


def test_carried_payout_is_taxed_together_with_the_month():
    # 3,900 brought forward + this month's 200 → 4,100 taxed as one payout.
    scheme = Scheme(bands=((D(0), D(1)),), vat_rate=D(0), reserve_rate=D(0))
    f = compute_statement(gross=D("200.00"), scheme=scheme, is_person=True,
                          carried_in_payout=D("3900.00"))
    assert f.tax == D("656.00")
    assert f.net_pay == D("3444.00")


def test_net_pay_below_minimum_after_tax_is_carried_gross_of_tax():
    scheme = Scheme(bands=((D(0), D(1)),), vat_rate=D(0), reserve_rate=D(0), min_payout=D("1000"))
    f = compute_statement(gross=D("1100.00"), scheme=scheme, is_person=True)
    # tax would be 60.00 and net 1040.00 ≥ 1000 → paid
    assert (f.tax, f.net_pay) == (D("60.00"), D("1040.00"))
    f = compute_statement(gross=D("1050.00"), scheme=scheme, is_person=True)
    # tax 50.00 → net 1000.00 is not below the minimum
    assert (f.tax, f.net_pay) == (D("50.00"), D("1000.00"))
    f = compute_statement(gross=D("1040.00"), scheme=scheme, is_person=True)
    # tax 48.00 → net 992.00 < 1000 → nothing paid, 1040.00 carried
    assert (f.tax, f.net_pay, f.carried_out_payout) == (D("0.00"), D("0.00"), D("1040.00"))


def test_negative_base_is_carried_and_offsets_the_next_base():
    scheme = Scheme(other_deductions=D("200"))
    first = compute_statement(gross=D("100.00"), scheme=scheme, is_person=True)
    assert first.base == D("-111.72")  # 100 − 6.72 − 5.00 − 200
    assert (first.payout, first.net_pay) == (D("0.00"), D("0.00"))
    assert first.carried_out_base == D("-111.72")
    second = compute_statement(gross=D("1000.00"), scheme=scheme, is_person=True,
                               carried_in_base=first.carried_out_base)
    assert second.base == D("571.08")  # 1000 − 67.20 − 50.00 − 200 − 111.72
    assert second.payout == D("285.54")
    assert second.net_pay == D("285.54")
    assert second.carried_out_base == D("0.00")


@pytest.mark.parametrize("text", ["", "100:0.4", "0:0.4;0:0.5", "0:1.5", "0-0.4"])
def test_unusable_bands_are_refused(text):
    with pytest.raises(ValueError):
        bands_from_text(text)
