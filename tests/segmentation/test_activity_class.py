"""Activity class: dormant → day_trader → key_service → ordinary, first rule wins."""

import datetime as dt

from tests.segmentation.helpers import Book, business_days

CAL = business_days(dt.date(2026, 11, 20), 60)


def one(book_fn):
    book = Book(CAL)
    book.client(1)
    book.equity_every_day(1, 1_000_000)
    book_fn(book)
    return book.compute().loc[1]


def test_a_trade_on_the_20th_trading_day_back_keeps_the_client_active():
    row = one(lambda b: b.trade_day(1, CAL[-20]))
    assert row.activity_class == "ordinary"


def test_the_last_trade_on_the_21st_trading_day_back_makes_the_client_dormant():
    row = one(lambda b: b.trade_day(1, CAL[-21]))
    assert row.activity_class == "dormant"


def test_a_client_who_never_traded_is_dormant():
    assert one(lambda b: None).activity_class == "dormant"


def day_trading(b, *, active=30, trades=20, overnight=3):
    days = CAL[-active:]
    for i, day in enumerate(days):
        b.trade_day(1, day, trades=trades, lots=trades)
    # margin > 0 in the day's snapshot = a position held overnight
    b.snaps = [s for s in b.snaps if s["trading_day"] not in days[:overnight]]
    for day in days[:overnight]:
        b.snapshot(1, day, equity=1_000_000, margin=10_000)


def test_day_trader_at_its_thresholds():
    assert one(lambda b: day_trading(b)).activity_class == "day_trader"


def test_29_active_days_is_not_a_day_trader():
    assert one(lambda b: day_trading(b, active=29, overnight=2)).activity_class == "ordinary"


def test_fewer_than_20_trades_per_active_day_on_average_is_not_a_day_trader():
    def almost(b):
        day_trading(b)
        b.acts[0]["trades"] = 19  # 599 trades over 30 days
    assert one(almost).activity_class == "ordinary"


def test_overnight_on_more_than_10_percent_of_active_days_is_not_a_day_trader():
    assert one(lambda b: day_trading(b, overnight=4)).activity_class == "ordinary"


def test_hedging_half_the_lots_is_key_service_and_less_is_not():
    def hedge(share):
        def fn(b):
            b.trade_day(1, CAL[-1], lots=100, hedge_lots=share)
        return fn
    assert one(hedge(50)).activity_class == "key_service"
    assert one(hedge(49)).activity_class == "ordinary"


def losing(days, loss):
    def fn(b):
        b.snaps = []
        for i, day in enumerate(CAL):
            b.snapshot(1, day, equity=1_000_000, pnl=-loss if i == len(CAL) - 1 else 0)
        for day in CAL[-days:]:
            b.trade_day(1, day)
    return fn


def test_ten_active_days_with_a_loss_of_ten_percent_of_equity_is_key_service():
    assert one(losing(10, 100_000)).activity_class == "key_service"


def test_nine_active_days_or_a_smaller_loss_is_not_key_service():
    assert one(losing(9, 100_000)).activity_class == "ordinary"
    assert one(losing(10, 99_999.99)).activity_class == "ordinary"


def test_precedence_dormant_beats_hedging_and_day_trading_beats_key_service():
    def dormant_hedger(b):
        b.trade_day(1, CAL[-25], lots=10, hedge_lots=10)
    assert one(dormant_hedger).activity_class == "dormant"

    def hedging_day_trader(b):
        day_trading(b)
        for act in b.acts:
            act["hedge_lots"] = act["lots"]
    assert one(hedging_day_trader).activity_class == "day_trader"
