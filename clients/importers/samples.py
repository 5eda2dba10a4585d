"""Realistic canonical import files, streamed to disk (a million rows is fine).

A small market model: products and multipliers from the reference table, a random
walk of settlement prices, and accounts with a profile (active, day trader, hedger,
arbitrageur, occasional, dormant, aggressive). Positions are marked to market every
day, so each snapshot obeys the balance identity
  pre_balance + deposit − withdrawal + close_pnl + position_pnl − fee = equity.
Aggressive accounts run into margin calls and, the next day, forced liquidations.
Night-session trades carry the calendar date of the evening before the trading day.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from brokercrm.money import quantize_yuan
from clients.idnumbers import make_resident_id

# Liquid products the simulated clients trade, with a starting price.
START_PRICES = {
    "rb": 3300, "hc": 3400, "cu": 78000, "al": 20500, "zn": 23000, "ni": 125000, "au": 620,
    "ag": 7600, "ru": 15000, "fu": 3000, "bu": 3400, "ss": 13000, "sp": 5600, "ao": 3200,
    "sc": 520, "lu": 3900, "i": 780, "m": 2950, "y": 8000, "p": 8800, "c": 2200, "j": 1800,
    "jm": 1200, "eg": 4500, "pp": 7200, "l": 7600, "v": 5000, "eb": 7800, "pg": 4500,
    "lh": 14000, "jd": 3500, "TA": 4770, "MA": 2400, "SR": 5600, "CF": 13500, "FG": 1200,
    "SA": 1400, "RM": 2400, "OI": 9000, "AP": 7500, "UR": 1700, "SF": 6000, "SM": 6200,
    "PX": 6800, "IF": 3900, "IH": 2700, "IC": 5800, "IM": 6200, "T": 108, "TF": 105,
    "si": 9000, "lc": 75000,
}
HEDGER_PRODUCTS = ("cu", "al", "zn", "rb", "i", "m", "y", "TA", "CF", "SR")
ARBITRAGE_PRODUCTS = ("i", "j", "jm", "rb", "hc", "m", "RM", "y", "p")
NO_NIGHT = {"CFFEX"}
PROFILES = (  # name, weight
    ("dormant", 25), ("occasional", 17), ("active", 33), ("aggressive", 6),
    ("day_trader", 10), ("hedger", 5), ("arbitrage", 4),
)
TRADE_HEADER = ["account_id", "trading_day", "trade_date", "trade_time", "exchange",
                "instrument", "direction", "offset", "hedge_flag", "price", "volume", "turnover",
                "fee", "exchange_fee", "close_pnl", "trade_id", "order_sys_id"]
SNAPSHOT_HEADER = ["account_id", "trading_day", "pre_balance", "deposit", "withdrawal",
                   "close_pnl", "position_pnl", "fee", "equity", "margin", "available",
                   "risk_degree", "margin_call"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚华建国志红玉春梅海燕晨阳宇航欣怡浩然子涵思远雨桐"
AREAS = ("110101", "110105", "310101", "310104", "310115", "320102", "330106", "440305",
         "510107", "420102")


@dataclass
class ProductInfo:
    code: str
    exchange: str
    multiplier: Decimal
    margin_rate: Decimal
    rate: object  # ExchangeFeeRate or None
    price: Decimal = Decimal("0")

    def instrument(self, end: dt.date) -> str:
        month = end.month + 2
        year = end.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        if self.exchange == "CZCE":
            return f"{self.code}{year % 10}{month:02d}"
        return f"{self.code}{year % 100:02d}{month:02d}"

    def round_price(self, value: float) -> Decimal:
        tick = 1 if value >= 1000 else (0.5 if value >= 200 else 0.005)
        return Decimal(str(round(round(value / tick) * tick, 3))).normalize()


@dataclass
class Position:
    sign: int = 0  # +1 long, −1 short
    qty: int = 0
    mark: Decimal = Decimal("0")
    today_qty: int = 0


@dataclass
class AccountState:
    account_id: str
    profile: str
    equity: Decimal
    products: list[str]
    usage: float
    markup: Decimal
    hedge_flag: str = "speculation"
    positions: dict = field(default_factory=dict)
    forced_next: bool = False


def trading_days(days: int, end: dt.date | None = None) -> list[dt.date]:
    """The last `days` weekdays up to `end` (default: the last weekday before today)."""
    day = end or (dt.date.today() - dt.timedelta(days=1))  # noqa: DTZ011
    out: list[dt.date] = []
    while len(out) < days:
        if day.weekday() < 5:
            out.append(day)
        day -= dt.timedelta(days=1)
    return sorted(out)


def _shipped_reference():
    """The reference table as the data migration ships it, for a database without it."""
    from importlib import import_module
    from types import SimpleNamespace

    shipped = import_module("clients.migrations.0002_product_reference")
    products, rates = {}, {}
    for pk, (exchange, code, _zh, _en, multiplier, basis, o, c, ct, _opt) in enumerate(
            shipped.PRODUCTS, start=1):
        products[code] = SimpleNamespace(pk=pk, exchange=exchange, code=code,
                                         multiplier=Decimal(multiplier))
        rate = SimpleNamespace(basis=basis, open_rate=Decimal(o), close_rate=Decimal(c),
                               close_today_rate=Decimal(ct))
        rates[pk] = ([shipped.VALID_FROM], [rate])
    return products, rates


def load_products() -> dict[str, ProductInfo]:
    from django.db import DatabaseError

    from .kinds import ProductReference

    try:
        ref = ProductReference()
        found = {code: ref.find(code, None) for code in START_PRICES}
        all_rates = ref.rates
    except DatabaseError:
        found = {}
    if not any(found.values()):
        found, all_rates = _shipped_reference()
    products = {}
    for code in START_PRICES:
        product = found.get(code)
        if product is None:
            continue
        rates = all_rates.get(product.pk)
        margin = Decimal("0.12") if product.exchange == "CFFEX" else Decimal("0.10")
        if code in ("T", "TF", "TS", "TL"):
            margin = Decimal("0.02")
        products[code] = ProductInfo(
            code=code, exchange=product.exchange, multiplier=product.multiplier,
            margin_rate=margin, rate=rates[1][-1] if rates else None,
            price=Decimal(START_PRICES[code]),
        )
    return products


class Generator:
    """Writes the files; `accounts` = [(account_id, client_type)] or generated clients."""

    def __init__(self, *, seed: int = 7, days: int = 60, end: dt.date | None = None):
        self.rng = random.Random(seed)
        self.days = trading_days(days, end)
        self.products = load_products()
        self.trade_seq = 0

    # --- master files ------------------------------------------------------------------

    def write_masters(self, out: Path, *, clients: int, managers: list[str],
                      branches: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
        rng = self.rng
        with (out / "branches.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["branch_code", "name", "city"])
            writer.writerows(branches)
        brokers = [f"IB{n:02d}" for n in range(1, max(2, clients // 50) + 1)]
        with (out / "brokers.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["broker_code", "name", "broker_type", "id_number",
                             "qualification_no", "registered_on", "contract_start",
                             "contract_end", "status", "bank_account"])
            for n, code in enumerate(brokers, start=1):
                writer.writerow([code, self._person_name(), "person",
                                 make_resident_id(f"{rng.choice(AREAS)}1980{n % 12 + 1:02d}"
                                                  f"{n % 28 + 1:02d}{n % 1000:03d}"),
                                 f"F30{n:05d}", "2020-03-01", "2021-01-01", "2028-12-31",
                                 "active", f"62220202{n:011d}"])
        accounts: list[tuple[str, str]] = []
        first_day = self.days[0]
        with (out / "clients.csv").open("w", newline="", encoding="utf-8") as f, \
                (out / "broker_links.csv").open("w", newline="", encoding="utf-8") as g:
            writer = csv.writer(f)
            links = csv.writer(g)
            writer.writerow(["account_id", "client_no", "name", "client_type", "id_type",
                             "id_number", "phone", "opened_on", "branch_code", "manager_code",
                             "investor_category"])
            links.writerow(["account_id", "broker_code", "valid_from", "valid_to"])
            for n in range(1, clients + 1):
                draw = rng.random()
                opened = first_day - dt.timedelta(days=rng.randint(20, 3000))
                if draw < 0.9:
                    client_type, id_type = "个人", "身份证"
                    birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randint(0, 17000))
                    id_number = make_resident_id(f"{rng.choice(AREAS)}{birth:%Y%m%d}"
                                                 f"{rng.randint(100, 999)}")
                    name = self._person_name()
                    kind = "person"
                elif draw < 0.97:
                    client_type, id_type = "机构", "统一社会信用代码"
                    id_number, name, kind = f"91310000MA{n:07d}X", f"华东实业有限公司{n}", \
                        "institution"
                else:
                    client_type, id_type = "产品", "产品备案编码"
                    id_number, name, kind = f"SX{n:05d}", f"稳健{n}号私募基金", "product"
                account_id = f"8{n:07d}"
                branch = branches[n % len(branches)][0]
                writer.writerow([
                    account_id, f"C{n:07d}", name, client_type, id_type, id_number,
                    f"13{rng.randint(0, 999999999):09d}", opened.isoformat(), branch,
                    managers[n % len(managers)] if managers else "",
                    "专业" if kind == "product" or rng.random() < 0.05 else "普通",
                ])
                if rng.random() < 0.4:
                    links.writerow([account_id, rng.choice(brokers), opened.isoformat(), ""])
                accounts.append((account_id, kind))
        return accounts

    def _person_name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    # --- accounts --------------------------------------------------------------------------

    def make_states(self, accounts: list[tuple[str, str]]) -> list[AccountState]:
        rng = self.rng
        names = [p for p, _w in PROFILES]
        weights = [w for _p, w in PROFILES]
        liquid = [code for code in self.products if self.products[code].rate is not None]
        states = []
        for account_id, kind in accounts:
            profile = rng.choices(names, weights)[0]
            if kind != "person" and profile in ("day_trader", "aggressive", "dormant"):
                profile = "hedger" if kind == "institution" else "arbitrage"
            if kind == "person" and profile == "hedger":
                profile = "active"
            scale = 5_000_000 if kind != "person" else 300_000
            equity = quantize_yuan(Decimal(str(round(rng.lognormvariate(math.log(scale), 0.9)))))
            pool = {"hedger": [p for p in HEDGER_PRODUCTS if p in self.products],
                    "arbitrage": [p for p in ARBITRAGE_PRODUCTS if p in self.products]}.get(
                profile, liquid)
            products = rng.sample(pool, k=min(len(pool), rng.randint(1, 3)))
            usage = {"aggressive": rng.uniform(0.8, 0.95), "hedger": rng.uniform(0.3, 0.5),
                     "day_trader": rng.uniform(0.3, 0.6)}.get(profile, rng.uniform(0.1, 0.4))
            states.append(AccountState(
                account_id=account_id, profile=profile, equity=equity, products=products,
                usage=usage, markup=Decimal(str(round(rng.uniform(0.3, 2.0), 2))),
                hedge_flag={"hedger": "hedge", "arbitrage": "arbitrage"}.get(profile,
                                                                          "speculation"),
            ))
        return states

    # --- activity ------------------------------------------------------------------------------

    def write_activity(self, out: Path, states: list[AccountState]) -> dict:
        rows = {"trades": 0, "snapshots": 0}
        with (out / "trades.csv").open("w", newline="", encoding="utf-8") as tf, \
                (out / "snapshots.csv").open("w", newline="", encoding="utf-8") as sf:
            trades = csv.writer(tf)
            snaps = csv.writer(sf)
            trades.writerow(TRADE_HEADER)
            snaps.writerow(SNAPSHOT_HEADER)
            previous = None
            for day in self.days:
                settle = self._move_prices()
                for state in states:
                    rows["trades"] += self._trade_day(trades, state, day, previous, settle)
                    snaps.writerow(self._close_day(state, day, settle))
                    rows["snapshots"] += 1
                previous = day
        return rows

    def _move_prices(self) -> dict[str, Decimal]:
        settle = {}
        for code, product in self.products.items():
            move = self.rng.gauss(0, 0.012)
            product.price = product.round_price(float(product.price) * math.exp(move))
            settle[code] = product.price
        return settle

    def _trade_day(self, writer, state: AccountState, day, previous, settle) -> int:
        rng = self.rng
        state.day_fee = Decimal("0")
        state.day_close = Decimal("0")
        fills = 0
        if state.forced_next:
            state.forced_next = False
            for code, position in list(state.positions.items()):
                if position.qty:
                    lots = max(1, position.qty // 2)
                    fills += self._fill(writer, state, day, previous, code, lots, close=True,
                                        offset="forced_close", night=False)
        chance = {"dormant": 0.0, "occasional": 0.08, "active": 0.6, "aggressive": 0.7,
                  "day_trader": 0.95, "hedger": 0.35, "arbitrage": 0.4}[state.profile]
        if rng.random() >= chance:
            return fills
        for code in state.products:
            if rng.random() < 0.4 and state.profile != "day_trader":
                continue
            product = self.products[code]
            position = state.positions.setdefault(code, Position())
            night = product.exchange not in NO_NIGHT and rng.random() < 0.3
            notional = product.price * product.multiplier * product.margin_rate
            budget = state.equity * Decimal(str(state.usage)) / len(state.products)
            target = max(1, int(budget / notional)) if notional > 0 else 1
            if state.profile == "day_trader":
                lots = max(1, target // 2)
                fills += self._fill(writer, state, day, previous, code, lots, close=False,
                                    offset="open", night=night)
                fills += self._fill(writer, state, day, previous, code, lots, close=True,
                                    offset="close_today", night=False)
                continue
            if position.qty and (position.qty >= target or rng.random() < 0.35):
                lots = max(1, min(position.qty, rng.randint(1, max(1, position.qty))))
                offset = "close_yesterday" if product.exchange in ("SHFE", "INE") else "close"
                if position.today_qty:
                    offset = "close_today"
                fills += self._fill(writer, state, day, previous, code, lots, close=True,
                                    offset=offset, night=night)
            elif target > position.qty:
                lots = max(1, min(target - position.qty, rng.randint(1, max(1, target))))
                fills += self._fill(writer, state, day, previous, code, lots, close=False,
                                    offset="open", night=night)
        return fills

    def _fill(self, writer, state, day, previous, code, lots, *, close, offset, night) -> int:
        from .kinds import exchange_fee_for

        rng = self.rng
        product = self.products[code]
        position = state.positions.setdefault(code, Position())
        if close:
            lots = min(lots, position.qty)
            if lots <= 0:
                return 0
        price = product.round_price(float(product.price) * (1 + rng.gauss(0, 0.004)))
        if close:
            direction = "S" if position.sign > 0 else "B"
            pnl = quantize_yuan((price - position.mark) * lots * product.multiplier
                                * position.sign)
            position.qty -= lots
            position.today_qty = max(0, position.today_qty - lots)
            if position.qty == 0:
                position.sign = 0
            state.day_close += pnl
        else:
            if position.sign == 0:
                position.sign = 1 if rng.random() < 0.55 else -1
            direction = "B" if position.sign > 0 else "S"
            position.mark = (position.mark * position.qty + price * lots) / (position.qty + lots)
            position.qty += lots
            position.today_qty += lots
            pnl = None
        turnover = quantize_yuan(price * lots * product.multiplier)
        offset_code = {"open": "O", "close": "C", "close_today": "CT", "close_yesterday": "CY",
                       "forced_close": "F"}[offset]
        exchange_fee = exchange_fee_for(product.rate, offset=offset, volume=lots,
                                        turnover=turnover) if product.rate else Decimal("0")
        fee = quantize_yuan(exchange_fee * (1 + state.markup))
        state.day_fee += fee
        if night and previous is not None:
            # The evening before the trading day (Friday night trades count for Monday).
            trade_date = day - dt.timedelta(days=3 if day.weekday() == 0 else 1)
            trade_time = f"{rng.randint(21, 22)}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        else:
            trade_date = day
            hour = rng.choice((9, 10, 11, 13, 14))
            trade_time = f"{hour}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        self.trade_seq += 1
        writer.writerow([
            state.account_id, day.isoformat(), trade_date.isoformat(), trade_time,
            product.exchange, product.instrument(self.days[-1]), direction, offset_code,
            {"speculation": "S", "hedge": "H", "arbitrage": "A"}[state.hedge_flag], price,
            lots, turnover, fee, exchange_fee, "" if pnl is None else pnl,
            f"{self.trade_seq:08d}", f"{self.trade_seq + 500000:09d}",
        ])
        return 1

    def _close_day(self, state: AccountState, day, settle) -> list:
        rng = self.rng
        pre = state.equity
        deposit = withdrawal = Decimal("0")
        draw = rng.random()
        if pre <= 0:  # a blown account: the client tops it up
            deposit = quantize_yuan(-pre + Decimal(str(rng.randint(10, 100) * 1000)))
        elif state.profile != "dormant" and draw < 0.03:
            deposit = quantize_yuan(pre * Decimal(str(round(rng.uniform(0.05, 0.5), 2))))
        elif state.profile != "dormant" and draw < 0.05:
            withdrawal = quantize_yuan(pre * Decimal(str(round(rng.uniform(0.02, 0.2), 2))))
        position_pnl = Decimal("0")
        margin = Decimal("0")
        for code, position in state.positions.items():
            if not position.qty:
                continue
            product = self.products[code]
            position_pnl += quantize_yuan((settle[code] - position.mark) * position.qty
                                          * product.multiplier * position.sign)
            position.mark = settle[code]
            position.today_qty = 0
            margin += settle[code] * position.qty * product.multiplier * product.margin_rate
        margin = quantize_yuan(margin)
        close_pnl = quantize_yuan(getattr(state, "day_close", Decimal("0")))
        fee = quantize_yuan(getattr(state, "day_fee", Decimal("0")))
        equity = pre + deposit - withdrawal + close_pnl + position_pnl - fee
        state.equity = equity
        state.day_close = state.day_fee = Decimal("0")
        risk = (margin / equity).quantize(Decimal("0.0001")) if equity > 0 else Decimal("0")
        margin_call = quantize_yuan(margin - equity) if margin > equity else Decimal("0.00")
        if margin_call > 0:
            state.forced_next = True
        return [state.account_id, day.isoformat(), pre, deposit, withdrawal, close_pnl,
                position_pnl, fee, equity, margin, equity - margin, risk, margin_call]


def generate(out, *, clients: int = 300, days: int = 60, seed: int = 7,
             managers: list[str] | None = None, accounts: list[tuple[str, str]] | None = None,
             branches: list[tuple[str, str, str]] | None = None,
             end: dt.date | None = None) -> dict:
    """Write the files into `out`; returns {"files": [...], "rows": {...}}.

    With `accounts` ([(account_id, person|institution|product)]) only trades and
    snapshots are written, for those accounts; otherwise branches, brokers, clients
    and broker_links are generated too.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    generator = Generator(seed=seed, days=days, end=end)
    files = []
    if accounts is None:
        accounts = generator.write_masters(
            out, clients=clients, managers=managers or [],
            branches=branches or [("SH01", "上海营业部", "上海"), ("BJ01", "北京营业部", "北京")],
        )
        files += ["branches.csv", "brokers.csv", "clients.csv", "broker_links.csv"]
    rows = generator.write_activity(out, generator.make_states(accounts))
    files += ["snapshots.csv", "trades.csv"]
    return {"files": files, "rows": rows, "first_day": generator.days[0].isoformat(),
            "last_day": generator.days[-1].isoformat()}
