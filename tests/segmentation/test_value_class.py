"""Value class and the annualisation: window net fee × 250 / trading days in the window."""

import datetime as dt

from tests.segmentation.helpers import Book, business_days

CAL = business_days(dt.date(2026, 11, 20), 80)


def row(*, fee, equity=50_000, calendar=CAL, day_trader=False):
    book = Book(calendar)
    book.client(1)
    book.equity_every_day(1, equity)
    book.trade_day(1, calendar[-1], net_fee=fee)
    if day_trader:
        for day in calendar[-30:-1]:
            book.trade_day(1, day, trades=20)
        book.acts[0]["trades"] = 20
    return book.compute().loc[1]


def test_annual_net_fee_is_the_60_day_window_scaled_to_250_days():
    r = row(fee=4_800)
    assert r.annual_net_fee == 20_000
    assert r.value_class == "key"


def test_a_cent_under_the_annual_threshold_is_small():
    r = row(fee=4_799.99)
    assert round(r.annual_net_fee, 2) == 19_999.96
    assert r.value_class == "small"


def test_with_a_shorter_history_the_window_is_the_days_there_are():
    r = row(fee=2_400, calendar=CAL[-30:])
    assert r.annual_net_fee == 20_000
    assert r.value_class == "key"


def test_fees_before_the_behaviour_window_do_not_count():
    book = Book(CAL)
    book.client(1)
    book.equity_every_day(1, 50_000)
    book.trade_day(1, CAL[-61], net_fee=1_000_000)
    book.trade_day(1, CAL[-60], net_fee=1)
    assert book.compute().loc[1, "net_fee_window"] == 1


def test_vip_needs_both_the_fee_and_ten_million_of_equity():
    assert row(fee=240_000, equity=10_000_000).value_class == "vip"
    assert row(fee=240_000, equity=9_999_999.99).value_class == "key"
    assert row(fee=239_999.99, equity=10_000_000).value_class == "key"


def test_key_by_equity_alone_at_exactly_100_000():
    assert row(fee=0, equity=100_000).value_class == "key"
    assert row(fee=0, equity=99_999.99).value_class == "small"


def test_day_traders_are_scalpers_unless_vip():
    assert row(fee=100_000, day_trader=True).value_class == "scalper"
    assert row(fee=240_000, equity=10_000_000, day_trader=True).value_class == "vip"
