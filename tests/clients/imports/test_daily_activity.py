"""DailyAccountActivity: exact values, kept current by trades and snapshots imports."""

from __future__ import annotations

from decimal import Decimal

from clients.models import DailyAccountActivity

from .conftest import SAMPLES, run


def activity(account_id, day):
    return DailyAccountActivity.objects.get(account__account_id=account_id, trading_day=day)


def test_daily_activity_values_are_exact(sample_clients):
    run("trades", SAMPLES / "trades_canonical.csv")
    day = activity("80010001", "2026-11-16")
    assert (day.trades, day.lots) == (6, 16)
    assert day.turnover == Decimal("4832585.00")
    assert day.fee == Decimal("607.09")
    assert day.exchange_fee == Decimal("213.03")
    assert day.net_fee == Decimal("394.06")
    assert day.close_pnl == Decimal("1635.00")
    assert (day.hedge_lots, day.arbitrage_lots, day.forced_liquidations) == (0, 0, 0)
    assert day.overnight is False  # no snapshot yet

    hedger = activity("80010004", "2026-11-16")
    assert (hedger.trades, hedger.lots, hedger.hedge_lots) == (3, 11, 11)
    forced = activity("80010003", "2026-11-18")
    assert forced.forced_liquidations == 1
    arbitrage = activity("80010005", "2026-11-18")
    assert (arbitrage.lots, arbitrage.arbitrage_lots) == (7, 5)
    assert DailyAccountActivity.objects.count() == 16


def test_a_second_shape_does_not_double_count(sample_clients):
    run("trades", SAMPLES / "trades_canonical.csv")
    run("trades", SAMPLES / "trades_cfmmc.csv")
    day = activity("80010001", "2026-11-16")
    assert (day.trades, day.lots, day.fee) == (6, 16, Decimal("607.09"))


def test_new_trades_of_a_known_day_are_added(sample_clients, tmp_path):
    run("trades", SAMPLES / "trades_canonical.csv")
    extra = tmp_path / "late.csv"
    extra.write_text(
        "account_id,trading_day,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010001,2026-11-16,rb2601,B,O,3300,2,66000.00,10.00,00999999\n", encoding="utf-8")
    batch = run("trades", extra)
    assert batch.status == "imported", batch.report
    day = activity("80010001", "2026-11-16")
    assert (day.trades, day.lots) == (7, 18)
    assert day.exchange_fee == Decimal("219.63")  # + rb 1‱ of 66,000 = 6.60, computed
    assert day.fee == Decimal("617.09")


def test_overnight_comes_from_the_days_snapshot_in_either_order(sample_clients):
    run("trades", SAMPLES / "trades_canonical.csv")
    run("snapshots", SAMPLES / "snapshots_canonical.csv")
    assert activity("80010001", "2026-11-16").overnight is True  # margin 437,301.52
    assert activity("80010006", "2026-11-16").overnight is False  # margin 0
    # Snapshots first, then trades: the flag is set when the activity row is made.
    DailyAccountActivity.objects.all().delete()
    from clients.models import Trade

    Trade.objects.all().delete()
    run("trades", SAMPLES / "trades_ctp.csv")
    assert activity("80010001", "2026-11-16").overnight is True
    assert activity("80010006", "2026-11-17").overnight is False
