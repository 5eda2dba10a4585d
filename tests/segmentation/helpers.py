"""Frames for the pure rules, and database rows for the runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from segmentation import compute
from tests import factories


def business_days(end: dt.date, n: int) -> list[dt.date]:
    """n weekdays ending on `end` (inclusive), ascending."""
    days: list[dt.date] = []
    day = end
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


class Book:
    """Per-client daily rows for `compute.compute_clients`, built client by client."""

    def __init__(self, calendar: list[dt.date]):
        self.calendar = calendar
        self.snaps: list[dict] = []
        self.acts: list[dict] = []
        self.clients: list[dict] = []

    def client(self, cid: int, *, opened: dt.date = dt.date(2020, 1, 1), closed: bool = False):
        self.clients.append({"client_id": cid, "first_opened": opened, "closed": closed})
        return cid

    def snapshot(self, cid, day, *, equity, margin=0.0, margin_call=0.0, pnl=0.0):
        self.snaps.append({"client_id": cid, "trading_day": day, "equity": float(equity),
                           "margin": float(margin), "margin_call": float(margin_call),
                           "pnl": float(pnl)})

    def trade_day(self, cid, day, *, trades=1, lots=1, net_fee=0.0, hedge_lots=0,
                  arbitrage_lots=0, forced=0, turnover=1000.0):
        self.acts.append({"client_id": cid, "trading_day": day, "trades": trades, "lots": lots,
                          "turnover": turnover, "net_fee": float(net_fee),
                          "hedge_lots": hedge_lots, "arbitrage_lots": arbitrage_lots,
                          "forced_liquidations": forced})

    def equity_every_day(self, cid, equity, days=None, **kw):
        for day in days or self.calendar:
            self.snapshot(cid, day, equity=equity, **kw)

    def compute(self, rules: compute.Rules | None = None, as_of: dt.date | None = None,
                final: bool = False) -> pd.DataFrame:
        snap_cols = ["client_id", "trading_day", *compute.SNAPSHOT_VALUES]
        act_cols = ["client_id", "trading_day", *compute.ACTIVITY_VALUES]
        rules = rules or compute.Rules()
        out = compute.compute_clients(
            snapshots=pd.DataFrame(self.snaps, columns=snap_cols),
            activity=pd.DataFrame(self.acts, columns=act_cols),
            clients=pd.DataFrame(self.clients, columns=["client_id", "first_opened", "closed"]),
            calendar=self.calendar, as_of=as_of or self.calendar[-1], rules=rules,
        )
        return compute.finalize(out, rules) if final else out


def account_with_days(days, *, equity=Decimal("100000.00"), client=None, trades_on=(),
                      trades=1, lots=1, net_fee=Decimal("0"), margin=Decimal("0"),
                      hedge_lots=0, **client_kw):
    """A client with one account, a snapshot on each day and activity on `trades_on`."""
    account = factories.AccountFactory(client=client) if client else factories.AccountFactory(
        client=factories.ClientFactory(**client_kw))
    batch = factories.ImportBatchFactory(kind="snapshots")
    for day in days:
        factories.SnapshotFactory(account=account, trading_day=day, equity=equity,
                                  pre_balance=equity, margin=margin, batch=batch)
    for day in trades_on:
        factories.DailyActivityFactory(account=account, trading_day=day, trades=trades, lots=lots,
                                       fee=net_fee, net_fee=net_fee, hedge_lots=hedge_lots)
    return account
