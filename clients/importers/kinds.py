"""The import kinds of the clients app: branches, clients, trades, snapshots.

Other apps register theirs (brokers, broker_links, schemes in brokers/importers.py;
assessments in suitability/importers.py) with the same contract (base.py).
"""

from __future__ import annotations

import bisect
import logging
import os
import time
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from brokercrm.money import quantize_yuan
from clients.idnumbers import CHECK_DIGIT_WRONG, resident_id_problem
from clients.models import (
    Account,
    Branch,
    Client,
    ExchangeFeeRate,
    FuturesProduct,
    StaffProfile,
)
from clients.models.activity import HedgeFlag, Offset, RateBasis
from clients.models.core import AccountStatus

from . import values as v
from .base import Column, ImportKind, ImportRefused, LoadCounts, Row, RowError, register
from .copy import RawTrades, SnapshotStager, TradeStager

logger = logging.getLogger(__name__)
# PostgreSQL: COPY the raw lines and convert them in SQL (falls back to Python by itself).
USE_RAW_COPY = os.environ.get("IMPORT_TRADES_RAW_COPY", "1") != "0"

# --- branches ---------------------------------------------------------------------------


@register
class BranchesKind(ImportKind):
    name = "branches"
    natural_key = ("branch_code",)
    columns = (
        Column("branch_code", ("营业部代码", "营业部编号", "code"), required=True, parse=v.text_id),
        Column("name", ("营业部名称", "名称", "branch_name"), required=True),
        Column("city", ("城市",), default=""),
    )

    def validate(self, rows, *, correction=False):
        return _duplicates(rows, ("branch_code",), "branch_code")

    def load(self, batch, rows, *, correction=False):
        counts = LoadCounts()
        existing = {b.code: b for b in Branch.objects.filter(code__in=[r["branch_code"] for r in rows])}
        for row in rows:
            branch = existing.get(row["branch_code"])
            fields = {"name": row["name"], "city": row["city"] or ""}
            if branch is None:
                Branch.objects.create(code=row["branch_code"], **fields)
                counts.created += 1
            elif _changed(branch, fields):
                Branch.objects.filter(pk=branch.pk).update(**fields)
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts


# --- clients and accounts ------------------------------------------------------------------


@register
class ClientsKind(ImportKind):
    name = "clients"
    natural_key = ("account_id",)
    columns = (
        Column("account_id", ("资金账号", "客户号", "AccountID", "InvestorID"), required=True,
               parse=v.text_id),
        Column("client_no", ("客户编号",), parse=v.text_id),
        Column("name", ("客户名称", "姓名", "InvestorName"), required=True),
        Column("client_type", ("客户类型",), required=True, parse=v.client_type),
        Column("id_type", ("证件类型", "IdentifiedCardType"), required=True, parse=v.id_type),
        Column("id_number", ("证件号码", "IdentifiedCardNo"), required=True, parse=v.text_id),
        Column("phone", ("手机", "电话", "联系电话", "mobile"), default=""),
        Column("email", ("邮箱", "电子邮箱"), default=""),
        Column("address", ("地址", "联系地址"), default=""),
        Column("opened_on", ("开户日期", "OpenDate"), required=True, parse=v.date),
        Column("closed_on", ("销户日期",), parse=v.date),
        Column("branch_code", ("营业部", "营业部代码"), required=True, parse=v.text_id),
        Column("manager_code", ("客户经理", "客户经理代码"), parse=v.text_id),
        # Stored by the brokers app's after-import hook (batch.parsed_rows).
        Column("broker_code", ("居间人", "居间人编号", "居间人代码"), parse=v.text_id),
        Column("broker_since", ("居间关系起始日",), parse=v.date),
        Column("investor_category", ("投资者类别",), parse=v.investor_category),
    )

    def validate(self, rows, *, correction=False):
        errors = _duplicates(rows, ("account_id",), "account_id")
        branches = set(Branch.objects.values_list("code", flat=True))
        staff = set(StaffProfile.objects.values_list("staff_code", flat=True))
        for row in rows:
            if row["id_type"] == "resident_id":
                problem = resident_id_problem(row["id_number"])
                if problem:
                    # A wrong check digit alone is reported, not refused: the back office
                    # verified the person at account opening, and real files carry such
                    # numbers (so do the shared samples). A wrong shape is refused.
                    errors.append(RowError(row.line, "id_number", row["id_number"],
                                           problem, warning=problem is CHECK_DIGIT_WRONG))
            if row["branch_code"] not in branches:
                errors.append(RowError(row.line, "branch_code", row["branch_code"],
                                       _("unknown branch: load the branches file first")))
            if row["manager_code"] and row["manager_code"] not in staff:
                # The client still loads (without a manager): staff lists lag behind.
                errors.append(RowError(row.line, "manager_code", row["manager_code"],
                                       _("no staff member has this staff code; "
                                         "the client is loaded without an account manager"),
                                       warning=True))
            if row["closed_on"] and row["closed_on"] < row["opened_on"]:
                errors.append(RowError(row.line, "closed_on", str(row["closed_on"]),
                                       _("an account cannot close before it opened")))
        return errors

    def load(self, batch, rows, *, correction=False):
        counts = LoadCounts()
        branches = dict(Branch.objects.values_list("code", "pk"))
        managers = dict(StaffProfile.objects.values_list("staff_code", "user_id"))
        accounts = {
            a.account_id: a
            for a in Account.objects.filter(account_id__in=[r["account_id"] for r in rows])
        }
        client_nos = {r["client_no"] or r["account_id"] for r in rows}
        clients = {c.client_no: c for c in Client.objects.filter(client_no__in=client_nos)}
        for row in rows:
            client_no = row["client_no"] or row["account_id"]
            client_fields = {
                "client_type": row["client_type"],
                "name": row["name"],
                "id_type": row["id_type"],
                "id_number": row["id_number"].upper() if row["id_type"] == "resident_id"
                else row["id_number"],
                "phone": row["phone"] or "",
                "email": row["email"] or "",
                "address": row["address"] or "",
                "branch_id": branches[row["branch_code"]],
            }
            if "manager_code" in row.present:
                client_fields["manager_id"] = managers.get(row["manager_code"])
            if row["investor_category"]:
                client_fields["investor_category"] = row["investor_category"]
            client = clients.get(client_no)
            client_changed = False
            if client is None:
                client = Client(client_no=client_no, opened_on=row["opened_on"], **client_fields)
                client.save()
                clients[client_no] = client
                client_changed = True
            else:
                if row["opened_on"] < client.opened_on:
                    client_fields["opened_on"] = row["opened_on"]
                if _changed(client, client_fields):
                    for name, value in client_fields.items():
                        setattr(client, name, value)
                    client.save()
                    client_changed = True

            account_fields = {
                "client_id": client.pk,
                "opened_on": row["opened_on"],
                "closed_on": row["closed_on"],
            }
            if row["closed_on"]:
                account_fields["status"] = AccountStatus.CLOSED
            account = accounts.get(row["account_id"])
            if account is None:
                Account.objects.create(account_id=row["account_id"], **account_fields)
                counts.created += 1
            elif _changed(account, account_fields) or client_changed:
                for name, value in account_fields.items():
                    setattr(account, name, value)
                account.save()
                counts.updated += 1
            else:
                counts.unchanged += 1
        return counts


# --- the product reference table, as the importer reads it ----------------------------------


class ProductReference:
    """Products and effective-dated exchange fee rates held in memory (a few hundred rows)."""

    def __init__(self):
        self.by_code: dict[str, list[FuturesProduct]] = defaultdict(list)
        self.by_folded: dict[str, list[FuturesProduct]] = defaultdict(list)
        for product in FuturesProduct.objects.all():
            self.by_code[product.code].append(product)
            self.by_folded[product.code.casefold()].append(product)
        self.rates: dict[int, tuple[list, list]] = {}
        for rate in ExchangeFeeRate.objects.order_by("product_id", "valid_from"):
            days, items = self.rates.setdefault(rate.product_id, ([], []))
            days.append(rate.valid_from)
            items.append(rate)
        self._split: dict[str, tuple[str, bool]] = {}

    def split(self, instrument: str) -> tuple[str, bool]:
        found = self._split.get(instrument)
        if found is None:
            found = self._split[instrument] = v.split_instrument(instrument)
        return found

    def find(self, code: str, exchange: str | None) -> FuturesProduct | None:
        candidates = self.by_code.get(code) or self.by_folded.get(code.casefold()) or []
        if exchange:
            candidates = [p for p in candidates if p.exchange == exchange] or candidates
        return candidates[0] if len(candidates) == 1 or exchange else None

    def rate_on(self, product_id: int, day) -> ExchangeFeeRate | None:
        found = self.rates.get(product_id)
        if not found:
            return None
        days, items = found
        index = bisect.bisect_right(days, day) - 1
        return items[index] if index >= 0 else None


def exchange_fee_for(rate: ExchangeFeeRate, *, offset: str, volume: int, turnover: Decimal):
    if offset == Offset.OPEN:
        value = rate.open_rate
    elif offset == Offset.CLOSE_TODAY:
        value = rate.close_today_rate
    else:  # close, close yesterday and the forced closes pay the close rate
        value = rate.close_rate
    base = volume if rate.basis == RateBasis.PER_LOT else turnover
    return quantize_yuan(value * base)


# --- trades ---------------------------------------------------------------------------------


@register
class TradesKind(ImportKind):
    name = "trades"
    streaming = True
    natural_key = ("account_id", "trading_day", "exchange", "trade_id", "direction")
    columns = (
        Column("account_id", ("InvestorID", "资金账号", "客户号", "Client ID",
                              "客户期货期权内部资金账户"), required=True, parse=v.text_id),
        Column("trading_day", ("TradingDay", "交易日", "交易日期"), required=True, parse=v.date),
        Column("trade_date", ("TradeDate", "成交日期", "实际成交日期"), parse=v.date),
        Column("trade_time", ("TradeTime", "成交时间"), parse=v.time),
        Column("exchange", ("ExchangeID", "交易所"), parse=v.exchange),
        Column("instrument", ("InstrumentID", "合约", "合约代码"), required=True,
               parse=v.instrument),
        Column("direction", ("Direction", "买卖", "买/卖", "B/S"), required=True,
               parse=v.direction),
        Column("offset", ("OffsetFlag", "开平", "开/平", "O/C"), required=True, parse=v.offset),
        Column("hedge_flag", ("HedgeFlag", "投保", "投/保", "S/H", "投机（一般）/套保/套利"),
               parse=v.hedge_flag, default=HedgeFlag.SPECULATION.value),
        Column("price", ("Price", "成交价"), required=True, parse=v.decimal_positive),
        Column("volume", ("Volume", "手数", "Lots"), required=True, parse=v.int_positive),
        Column("turnover", ("成交额", "Turnover"), required=True, parse=v.decimal_non_negative),
        Column("fee", ("Commission", "手续费", "Fee"), required=True,
               parse=v.decimal_non_negative),
        Column("exchange_fee", ("交易所手续费", "上交手续费"), parse=v.decimal_non_negative),
        Column("close_pnl", ("CloseProfit", "平仓盈亏", "Realized P/L"), parse=v.decimal),
        Column("premium", ("权利金收支",), parse=v.decimal),
        Column("trade_id", ("TradeID", "成交编号", "成交序号", "Trans.No."), required=True,
               parse=v.text_id),
        Column("order_sys_id", ("OrderSysID", "报单编号"), parse=v.text_id, default=""),
    )

    def prepare(self, row: Row, ref: ProductReference) -> tuple | RowError:
        """The staging tuple for a parsed row, or the reason it cannot be stored."""
        values = row.values
        instrument = values["instrument"]
        code, is_option = ref.split(instrument)
        exchange = values["exchange"]
        product = ref.find(code, exchange)
        if product is None:
            return RowError(row.line, "instrument", instrument,
                            _("unknown product: not in the product reference table"))
        if exchange is None:
            exchange = product.exchange
        elif exchange != product.exchange:
            return RowError(row.line, "exchange", exchange,
                            _("this product is traded on %(exchange)s") % {"exchange": product.exchange})
        exchange_fee = values["exchange_fee"]
        computed = False
        if exchange_fee is None:
            rate = ref.rate_on(product.pk, values["trading_day"])
            if rate is None:
                return RowError(row.line, "exchange_fee", "",
                                _("no exchange fee in the file and no fee rate for this product "
                                  "on this trading day"))
            exchange_fee = exchange_fee_for(rate, offset=values["offset"], volume=values["volume"],
                                            turnover=values["turnover"])
            computed = True
        return (
            row.line, values["account_id"], values["trading_day"], values["trade_date"],
            values["trade_time"], exchange, instrument, product.code, is_option,
            values["direction"], values["offset"], values["hedge_flag"], values["price"],
            values["volume"], values["turnover"], values["fee"], exchange_fee, computed,
            values["close_pnl"], values["premium"], values["trade_id"], values["order_sys_id"],
        )

    def run(self, parsed, batch, *, correction=False):
        """PostgreSQL: the raw COPY (copy.RawTrades), then the direct insert
        (TradeStager.insert_direct: converted, checked and stored in one statement). When
        that declines (a bad row, an unknown account, a key stored before or repeated in the
        file), its savepoint is rolled back and the same raw rows go through the typed
        staging table, the set-based checks and the ON CONFLICT insert; when the SQL cannot
        convert the file, the Python parser reads it again. SQLite: the Python parser."""
        from .pipeline import MAX_REPORTED_ERRORS

        ref = ProductReference()
        timings = parsed.timings
        extra = {}
        with transaction.atomic():
            started = time.perf_counter()
            stager = TradeStager(batch.pk)
            path = "python"
            raw = None
            if stager.postgres and USE_RAW_COPY:
                _session_settings()
                try:
                    with transaction.atomic():  # a savepoint: the fallback starts clean
                        raw = RawTrades(parsed, stager.table, ref)
                except Exception as exc:  # noqa: BLE001 — the Python path decides, exactly
                    logger.info("trades batch %s: raw COPY path gave up (%s); parsing in "
                                "Python", batch.pk, exc)
                    parsed.rewind()
            if raw is not None:
                timings["parse"] = round(time.perf_counter() - started, 3)
                loading = time.perf_counter()
                try:
                    with transaction.atomic():
                        created = stager.insert_direct(raw, batch.pk)  # + DailyAccountActivity
                except Exception as exc:  # noqa: BLE001 — the staged path decides, exactly
                    logger.info("trades batch %s: direct insert declined (%s); staging the "
                                "rows", batch.pk, str(exc).partition("\n")[0])
                    extra["direct_insert_declined"] = type(exc).__name__
                else:
                    # The checks ran inside the insert (conversion flags, account join,
                    # unique key): nothing to time apart.
                    timings["validate"] = 0.0
                    timings["load"] = round(time.perf_counter() - loading, 3)
                    raw.drop()
                    stager.drop()
                    return LoadCounts(created=created, unchanged=parsed.rows_read - created,
                                      extra={"trades_path": "postgres_direct",
                                             **_holds(raw.products, raw.trading_days)})
                try:
                    with transaction.atomic():
                        raw.stage(stager)
                    path = "postgres_raw_copy"
                    products, days = set(raw.products), set(raw.trading_days)
                except Exception as exc:  # noqa: BLE001 — the Python path decides, exactly
                    logger.info("trades batch %s: raw COPY path gave up (%s); parsing in "
                                "Python", batch.pk, exc)
                    parsed.rewind()
                raw.drop()
            if path == "python":
                products, days = set(), set()
                for row in parsed.rows():
                    prepared = self.prepare(row, ref)
                    if isinstance(prepared, RowError):
                        parsed.add_error(prepared)
                    else:
                        stager.add(prepared)
                        products.add((prepared[5], prepared[7], prepared[8]))  # exchange, code, option?
                        days.add(prepared[2])
                stager.flush()
            timings["parse"] = round(time.perf_counter() - started, 3)

            started = time.perf_counter()
            errors = stager.check(MAX_REPORTED_ERRORS)
            timings["validate"] = round(time.perf_counter() - started, 3)
            if errors or parsed.error_count:
                raise ImportRefused(errors)  # rolls the staging table back too

            started = time.perf_counter()
            created = stager.insert(batch.pk)  # + DailyAccountActivity
            stager.drop()
            timings["load"] = round(time.perf_counter() - started, 3)
        return LoadCounts(created=created, unchanged=parsed.rows_read - created,
                          extra={"trades_path": path, **extra, **_holds(products, days)})


def _holds(products, trading_days) -> dict:
    """What a trades batch holds, recorded on it for suitability's mismatch detection (which
    then needs no scan of the batch's trades): [exchange, code, option?] and ISO days."""
    return {"products": sorted(products), "trading_days": [day.isoformat() for day in sorted(trading_days)]}


def _session_settings() -> None:
    """PostgreSQL, for this import's transaction only (SET LOCAL): the sort of a million
    rows in memory rather than in temporary files; no JIT (the conversion query's estimate
    crosses the JIT optimise/inline thresholds, and compiling cost ~0.9 s on 1M rows for
    no gain in execution)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")


# --- snapshots ------------------------------------------------------------------------------

SNAPSHOT_MONEY = ("pre_balance", "deposit", "withdrawal", "other_cash", "close_pnl",
                  "position_pnl", "fee", "premium_net", "equity", "margin", "available",
                  "margin_call")
IDENTITY_TOLERANCE = Decimal("0.01")
RISK_TOLERANCE = Decimal("0.0001")


@register
class SnapshotsKind(ImportKind):
    name = "snapshots"
    streaming = True
    natural_key = ("account_id", "trading_day")
    columns = (
        Column("account_id", ("AccountID", "资金账号", "客户号"), required=True, parse=v.text_id),
        Column("trading_day", ("TradingDay", "交易日", "日期", "交易日期"), required=True,
               parse=v.date),
        Column("pre_balance", ("PreBalance", "期初结存", "上日结存", "Balance b/f"),
               required=True, parse=v.decimal),
        Column("deposit", ("Deposit", "入金"), parse=v.decimal_non_negative),
        Column("withdrawal", ("Withdraw", "出金"), parse=v.decimal_non_negative),
        Column("net_cash_flow", ("出入金", "当日存取合计", "Deposit/Withdrawal"), parse=v.decimal),
        Column("other_cash", ("其他资金", "手续费返还", "利息"), parse=v.decimal),
        Column("close_pnl", ("CloseProfit", "平仓盈亏", "Realized P/L"), parse=v.decimal),
        Column("position_pnl", ("PositionProfit", "持仓盯市盈亏", "浮动盈亏", "MTM P/L"),
               parse=v.decimal),
        Column("fee", ("Commission", "手续费", "当日手续费"), parse=v.decimal_non_negative),
        Column("premium_net", ("CashIn", "当日总权利金"), parse=v.decimal),
        Column("equity", ("Balance", "客户权益", "Client Equity"), required=True, parse=v.decimal),
        Column("margin", ("CurrMargin", "保证金占用", "Margin Occupied"), required=True,
               parse=v.decimal_non_negative),
        Column("available", ("Available", "可用资金", "Fund Avail."), parse=v.decimal),
        Column("risk_degree", ("风险度", "Risk Degree"), parse=v.percent),
        Column("margin_call", ("应追加资金", "追加保证金", "Margin Call"),
               parse=v.decimal_non_negative),
    )

    @staticmethod
    def values_of(row: Row) -> dict:
        """The model's values for a row: cash flow split, zero defaults, risk degree."""
        values = row.values
        zero = Decimal("0")
        deposit, withdrawal = values["deposit"], values["withdrawal"]
        if deposit is None and withdrawal is None and values["net_cash_flow"] is not None:
            flow = values["net_cash_flow"]
            deposit, withdrawal = (flow, zero) if flow >= 0 else (zero, -flow)
        out = {
            "pre_balance": values["pre_balance"],
            "deposit": deposit or zero,
            "withdrawal": withdrawal or zero,
            "other_cash": values["other_cash"] or zero,
            "close_pnl": values["close_pnl"] or zero,
            "position_pnl": values["position_pnl"] or zero,
            "fee": values["fee"] or zero,
            "premium_net": values["premium_net"] or zero,
            "equity": values["equity"],
            "margin": values["margin"],
            "available": values["available"],
            "margin_call": values["margin_call"] or zero,
        }
        risk = values["risk_degree"]
        if risk is None:
            risk = (values["margin"] / values["equity"]) if values["equity"] > 0 else zero
        out["risk_degree"] = risk.quantize(Decimal("0.000001"))
        for name in SNAPSHOT_MONEY:
            if out[name] is not None:
                out[name] = quantize_yuan(out[name])
        return out

    @staticmethod
    def identity_checkable(present) -> bool:
        has_flow = bool(present & {"deposit", "withdrawal", "net_cash_flow"})
        return has_flow and {"close_pnl", "position_pnl", "fee"} <= present

    def prepare(self, row: Row, checkable: bool) -> tuple:
        """The staging tuple (copy.SNAPSHOT_STAGE_COLUMNS) of a parsed row; a row that
        breaks the balance identity carries the expected equity for the report."""
        values = self.values_of(row)
        expected_text = equity_raw = None
        if checkable:
            expected = (values["pre_balance"] + values["deposit"] - values["withdrawal"]
                        + values["other_cash"] + values["close_pnl"] + values["position_pnl"]
                        + values["premium_net"] - values["fee"])
            if abs(expected - values["equity"]) > IDENTITY_TOLERANCE:
                expected_text, equity_raw = str(expected), str(row["equity"])
        return (row.line, row["account_id"], row["trading_day"],
                *(values[name] for name in SNAPSHOT_MONEY), values["risk_degree"],
                expected_text, equity_raw)

    def run(self, parsed, batch, *, correction=False):
        """Stream the file into a staging table in chunks (copy.FLUSH_ROWS rows), check it
        set-based, then load it: memory stays flat however large the file."""
        from .pipeline import MAX_REPORTED_ERRORS

        # The report shape of the in-memory kinds (no warnings for snapshots).
        batch.report = {**batch.report, "warnings": []}
        timings = parsed.timings
        checkable = self.identity_checkable(parsed.present)
        with transaction.atomic():
            started = time.perf_counter()
            stager = SnapshotStager(batch.pk)
            for row in parsed.rows():
                stager.add(self.prepare(row, checkable))
            stager.flush()
            timings["parse"] = round(time.perf_counter() - started, 3)

            started = time.perf_counter()
            errors, hidden = stager.check(MAX_REPORTED_ERRORS, correction=correction)
            timings["validate"] = round(time.perf_counter() - started, 3)
            if errors or parsed.error_count:
                parsed.error_count += hidden  # batch.errors stays the exact count
                raise ImportRefused(errors)  # rolls the staging table back too

            started = time.perf_counter()
            counts = stager.load(batch.pk, correction=correction)  # + overnight flags
            stager.drop()
            timings["load"] = round(time.perf_counter() - started, 3)
        return counts


# --- helpers ---------------------------------------------------------------------------------


def _duplicates(rows, key: tuple[str, ...], column: str) -> list[RowError]:
    seen: dict[tuple, int] = {}
    errors = []
    for row in rows:
        k = tuple(row[name] for name in key)
        if k in seen:
            errors.append(RowError(row.line, column, str(row[column]),
                                   _("duplicate of line %(line)s (same %(key)s)")
                                   % {"line": seen[k], "key": ", ".join(key)}))
        else:
            seen[k] = row.line
    return errors


def _changed(instance, fields: dict) -> bool:
    return any(getattr(instance, name) != value for name, value in fields.items())
