"""The statements' CSV shape (export_commissions, the statement and queue pages)."""

from __future__ import annotations

import csv

EXPORT_COLUMNS = (
    "broker_code", "month", "gross", "vat", "reserve", "protection", "base", "payout", "tax",
    "net_pay", "carried",
)


def statement_row(statement) -> list[str]:
    """Money with 2 decimals; `carried` = the payout carried to the next month."""
    return [
        statement.broker.code, statement.month.strftime("%Y-%m"),
        *(f"{getattr(statement, name):.2f}" for name in
          ("gross", "vat", "reserve", "protection", "base", "payout", "tax", "net_pay",
           "carried_out_payout")),
    ]


def statement_rows(statements) -> list[list[str]]:
    return [statement_row(s) for s in statements]


def write_csv(stream, rows) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)


LINE_COLUMNS = ("account_id", "product", "trades", "lots", "turnover", "fee", "exchange_fee",
                "net_retained", "adjustment_of")


def line_row(line, *, account_label: str) -> list[str]:
    return [
        account_label, line.product_code, str(line.trades), str(line.lots), f"{line.turnover:.2f}",
        f"{line.fee:.2f}", f"{line.exchange_fee:.2f}", f"{line.net_retained:.2f}",
        line.original_month.strftime("%Y-%m") if line.original_month else "",
    ]
