"""Tenure, purpose and the loyal-hidden-value flag."""

import datetime as dt

from tests.segmentation.helpers import Book, business_days

T = dt.date(2026, 11, 20)
CAL = business_days(T, 280)


def test_tenure_is_new_until_365_days_after_the_first_account():
    book = Book(CAL)
    book.client(1, opened=T - dt.timedelta(days=364))
    book.client(2, opened=T - dt.timedelta(days=365))
    out = book.compute()
    assert out.tenure.to_dict() == {1: "new", 2: "established"}


def test_purpose_by_the_flag_with_half_the_lots():
    book = Book(CAL)
    for cid in (1, 2, 3, 4):
        book.client(cid)
    book.trade_day(1, CAL[-1], lots=10, hedge_lots=5)
    book.trade_day(2, CAL[-1], lots=10, arbitrage_lots=5)
    book.trade_day(3, CAL[-1], lots=10, hedge_lots=4, arbitrage_lots=4)
    out = book.compute()
    assert out.purpose.to_dict() == {1: "hedger", 2: "arbitrageur", 3: "speculator", 4: ""}


def loyal_book(*, opened=dt.date(2024, 11, 20), skip_month=None, uneven=False, fee=0.0,
               equity=50_000):
    book = Book(CAL)
    book.client(1, opened=opened)
    book.equity_every_day(1, equity)
    months = sorted({(d.year, d.month) for d in CAL})[-12:]
    for i, (y, m) in enumerate(months):
        if (y, m) == skip_month:
            continue
        day = max(d for d in CAL if (d.year, d.month) == (y, m))
        lots = 100 if not uneven else (10 if i % 2 else 300)
        book.trade_day(1, day, lots=lots, net_fee=fee)
    return book.compute().loc[1]


def test_loyal_hidden_value_two_years_every_month_steady_lots_small_revenue():
    assert bool(loyal_book().loyal) is True


def test_not_loyal_when_a_month_is_missing_or_lots_swing_or_too_young():
    assert bool(loyal_book(skip_month=(2026, 6)).loyal) is False
    assert bool(loyal_book(uneven=True).loyal) is False
    assert bool(loyal_book(opened=dt.date(2024, 11, 21)).loyal) is False


def test_loyal_only_while_revenue_says_small_or_key():
    row = loyal_book(fee=500_000)  # annual fee ≥ 1 M but equity small → key: still loyal
    assert row.value_class == "key" and bool(row.loyal) is True
    row = loyal_book(fee=500_000, equity=10_000_000)
    assert row.value_class == "vip" and bool(row.loyal) is False
