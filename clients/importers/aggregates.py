"""DailyAccountActivity kept current set-based: each trades import adds its own new
rows (one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE), each snapshots
import refreshes the overnight flag. Nothing here rescans older trades.
"""

from __future__ import annotations

from django.db import connection

from clients.models.activity import FORCED_OFFSETS, HedgeFlag

_FORCED = ", ".join(f"'{offset.value}'" for offset in FORCED_OFFSETS)


def upsert_sql(source: str, *, merge: bool = True) -> str:
    """The upsert of daily rows from `source` (an SQL FROM item aliased t, holding new trades).
    merge=False: a plain insert, for a caller that knows no row exists yet for those days."""
    sql = f"""
            INSERT INTO clients_dailyaccountactivity (
                account_id, trading_day, trades, lots, turnover, fee, exchange_fee, net_fee,
                hedge_lots, arbitrage_lots, forced_liquidations, close_pnl, overnight)
            SELECT t.account_id, t.trading_day, COUNT(*), SUM(t.volume), SUM(t.turnover),
                   SUM(t.fee), SUM(t.exchange_fee), SUM(t.fee) - SUM(t.exchange_fee),
                   SUM(CASE WHEN t.hedge_flag = '{HedgeFlag.HEDGE.value}' THEN t.volume ELSE 0 END),
                   SUM(CASE WHEN t.hedge_flag = '{HedgeFlag.ARBITRAGE.value}'
                       THEN t.volume ELSE 0 END),
                   SUM(CASE WHEN t."offset" IN ({_FORCED}) THEN 1 ELSE 0 END),
                   COALESCE(SUM(t.close_pnl), 0),
                   COALESCE((SELECT s.margin > 0 FROM clients_accountsnapshot s
                             WHERE s.account_id = t.account_id
                               AND s.trading_day = t.trading_day), FALSE)
            FROM {source}
            GROUP BY t.account_id, t.trading_day
            ORDER BY t.account_id, t.trading_day
            ON CONFLICT (account_id, trading_day) DO UPDATE SET
                trades = clients_dailyaccountactivity.trades + EXCLUDED.trades,
                lots = clients_dailyaccountactivity.lots + EXCLUDED.lots,
                turnover = clients_dailyaccountactivity.turnover + EXCLUDED.turnover,
                fee = clients_dailyaccountactivity.fee + EXCLUDED.fee,
                exchange_fee = clients_dailyaccountactivity.exchange_fee + EXCLUDED.exchange_fee,
                net_fee = clients_dailyaccountactivity.net_fee + EXCLUDED.net_fee,
                hedge_lots = clients_dailyaccountactivity.hedge_lots + EXCLUDED.hedge_lots,
                arbitrage_lots = clients_dailyaccountactivity.arbitrage_lots
                                 + EXCLUDED.arbitrage_lots,
                forced_liquidations = clients_dailyaccountactivity.forced_liquidations
                                      + EXCLUDED.forced_liquidations,
                close_pnl = clients_dailyaccountactivity.close_pnl + EXCLUDED.close_pnl,
                overnight = EXCLUDED.overnight
            """
    return sql if merge else sql[:sql.index("ON CONFLICT")]


def add_trades_of_batch(batch_id: int) -> int:
    """Fold the trades stored by `batch_id` into the daily rows; returns rows touched."""
    with connection.cursor() as cursor:
        cursor.execute(upsert_sql("clients_trade t WHERE t.batch_id = %s"), [batch_id])
        return cursor.rowcount


def refresh_overnight_of_batch(batch_id: int) -> int:
    """Set `overnight` on the activity rows of the days a snapshots batch stored."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE clients_dailyaccountactivity SET overnight = (
                SELECT s.margin > 0 FROM clients_accountsnapshot s
                WHERE s.account_id = clients_dailyaccountactivity.account_id
                  AND s.trading_day = clients_dailyaccountactivity.trading_day)
            WHERE EXISTS (
                SELECT 1 FROM clients_accountsnapshot s
                WHERE s.batch_id = %s
                  AND s.account_id = clients_dailyaccountactivity.account_id
                  AND s.trading_day = clients_dailyaccountactivity.trading_day)
            """,
            [batch_id],
        )
        return cursor.rowcount
