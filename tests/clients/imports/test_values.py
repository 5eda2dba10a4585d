"""Cell parsers and header matching: the vocabularies of the formats spec."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clients.importers import values as v
from clients.importers.kinds import SnapshotsKind, TradesKind
from clients.importers.pipeline import alias_map, header_candidates


@pytest.mark.parametrize("raw", ["20261116", "2026-11-16", "2026/11/16"])
def test_dates(raw):
    assert v.date(raw) == dt.date(2026, 11, 16)


@pytest.mark.parametrize("raw", ["16/11/2026", "2026.11.16", "20261331", "yesterday"])
def test_bad_dates(raw):
    with pytest.raises(ValueError):
        v.date(raw)


def test_times_and_numbers():
    assert v.time("9:14:30") == dt.time(9, 14, 30)
    assert v.decimal("1,560,500.00") == Decimal("1560500.00")
    assert v.decimal("-6,876.84") == Decimal("-6876.84")
    with pytest.raises(ValueError):
        v.decimal("1,56,0")
    assert v.percent("22.5%") == Decimal("0.225")
    assert v.percent("0.225") == Decimal("0.225")
    assert v.int_positive("3") == 3 and v.int_positive("2.0") == 2
    for bad in ("0", "-2", "2.5"):
        with pytest.raises(ValueError):
            v.int_positive(bad)


def test_vocabularies():
    assert [v.direction(x) for x in ("0", "1", "B", "S", "买", "卖")] == [
        "buy", "sell", "buy", "sell", "buy", "sell"]
    assert [v.offset(x) for x in ("0", "1", "2", "3", "4", "5", "6")] == [
        "open", "close", "forced_close", "close_today", "close_yesterday", "forced_reduction",
        "local_forced_close"]
    assert [v.offset(x) for x in ("O", "C", "CT", "CY", "F", "开", "平", "强平", "平今", "平昨",
                                  "强减", "本地强平")] == [
        "open", "close", "close_today", "close_yesterday", "forced_close", "open", "close",
        "forced_close", "close_today", "close_yesterday", "forced_reduction",
        "local_forced_close"]
    assert [v.hedge_flag(x) for x in ("1", "2", "3", "5", "S", "A", "H", "投机", "一般", "套利",
                                      "套保", "投", "保", "套")] == [
        "speculation", "arbitrage", "hedge", "market_maker", "speculation", "arbitrage", "hedge",
        "speculation", "speculation", "arbitrage", "hedge", "speculation", "hedge", "arbitrage"]
    assert [v.exchange(x) for x in ("上期所", "能源中心", "上期能源", "大商所", "郑商所", "中金所",
                                    "广期所", "shfe")] == [
        "SHFE", "INE", "INE", "DCE", "CZCE", "CFFEX", "GFEX", "SHFE"]
    assert [v.client_type(x) for x in ("个人", "机构", "产品")] == ["person", "institution", "product"]
    assert [v.investor_category(x) for x in ("普通", "专业")] == ["ordinary", "professional"]


@pytest.mark.parametrize("instrument, expected", [
    ("rb2505", ("rb", False)), ("TA505", ("TA", False)), ("IF2509", ("IF", False)),
    ("i2607-P-750", ("i", True)), ("m2601-C-3000", ("m", True)), ("MA601C2500", ("MA", True)),
    ("IO2512-C-4000", ("IF", True)), ("sc2601", ("sc", False)),
])
def test_product_code_from_instrument(instrument, expected):
    assert v.split_instrument(instrument) == expected


def test_statement_labels_match_their_canonical_columns():
    trades = alias_map(TradesKind.columns)
    snapshots = alias_map(SnapshotsKind.columns)

    def match(aliases, label):
        return next((aliases[c] for c in header_candidates(label) if c in aliases), None)

    assert match(snapshots, "手 续 费 Commission") == "fee"
    assert match(snapshots, "出 入 金 Deposit/Withdrawal") == "net_cash_flow"
    assert match(snapshots, "风\u3000险 度 Risk Degree") == "risk_degree"
    assert match(snapshots, "期初结存 Balance b/f") == "pre_balance"
    assert match(snapshots, "客户权益 Client Equity") == "equity"
    assert match(trades, " instrumentid ") == "instrument"
    assert match(trades, "投机（一般）/套保/套利") == "hedge_flag"
    assert match(trades, "品种") is None
