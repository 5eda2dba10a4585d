"""Fund-size tier: average equity over the last 20 trading days with a snapshot."""

import datetime as dt

from segmentation import compute
from tests.segmentation.helpers import Book, business_days

CAL = business_days(dt.date(2026, 11, 20), 60)


def tiers(book, rules=None):
    return book.compute(rules).fund_tier.to_dict()


def test_exactly_five_million_is_large_and_a_cent_less_is_medium():
    book = Book(CAL)
    book.client(1)
    book.equity_every_day(1, 5_000_000.00)
    book.client(2)
    book.equity_every_day(2, 4_999_999.99)
    book.client(3)
    book.equity_every_day(3, 500_000.00)
    book.client(4)
    book.equity_every_day(4, 499_999.99)
    assert tiers(book) == {1: "large", 2: "medium", 3: "medium", 4: "retail"}


def test_the_average_is_exact_even_when_floats_are_not():
    # 0.1-cent-like steps that float sums get wrong: 20 days averaging exactly 5,000,000.00.
    book = Book(CAL)
    book.client(1)
    for i, day in enumerate(CAL[-20:]):
        book.snapshot(1, day, equity=5_000_000.10 if i % 2 else 4_999_999.90)
    out = book.compute()
    assert out.loc[1, "fund_tier"] == "large"
    assert round(out.loc[1, "avg_equity"], 2) == 5_000_000.00


def test_only_days_with_a_snapshot_count_and_only_the_tier_window():
    book = Book(CAL)
    book.client(1)
    # 40 older days at 50 million do not count; 5 recent days at 5 million do.
    book.equity_every_day(1, 50_000_000, days=CAL[:40])
    book.equity_every_day(1, 5_000_000, days=CAL[-5:])
    out = book.compute()
    assert out.loc[1, "avg_equity"] == 5_000_000
    assert out.loc[1, "fund_tier"] == "large"


def test_a_client_without_snapshots_has_zero_equity_and_is_retail():
    book = Book(CAL)
    book.client(1)
    out = book.compute()
    assert out.loc[1, "avg_equity"] == 0
    assert out.loc[1, "fund_tier"] == "retail"


def test_accounts_of_one_client_are_added_day_by_day():
    book = Book(CAL)
    book.client(1)
    book.equity_every_day(1, 2_500_000)  # account A
    book.equity_every_day(1, 2_500_000)  # account B (same client, same days)
    out = book.compute()
    assert out.loc[1, "avg_equity"] == 5_000_000
    assert out.loc[1, "fund_tier"] == "large"


def test_seed_004_four_bands_are_data_not_code():
    rules = compute.Rules.from_params({"tier_bands": [
        {"code": "retail", "min": 0}, {"code": "large", "min": 5_000_000},
        {"code": "small", "min": 200_000}, {"code": "medium", "min": 1_000_000},
    ]})
    book = Book(CAL)
    for cid, equity in enumerate([5_000_000, 4_999_999.99, 1_000_000, 999_999.99, 200_000,
                                  199_999.99], start=1):
        book.client(cid)
        book.equity_every_day(cid, equity)
    assert tiers(book, rules) == {1: "large", 2: "medium", 3: "medium", 4: "small", 5: "small",
                                  6: "retail"}
