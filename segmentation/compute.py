"""The segmentation rules, pure pandas: DataFrames in, DataFrames out.

Nothing here knows the ORM. The service loads per-account daily figures for a
shard of clients (snapshots and the daily trade aggregates), `compute_clients`
turns them into one row per client, and once every shard is done `finalize`
adds the cross-client parts (RFM quintiles, churn → CLV, shares of the firm,
the factor-analysis score).

Money thresholds are compared in integer cents, so a client at exactly
5,000,000.00 is large and one at 4,999,999.99 is not, whatever float rounding
would say. Money that leaves this module is still float: the service sends it
through `brokercrm.money.quantize_yuan` before storing it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

# --- the rules -------------------------------------------------------------------

DEFAULT_TIER_BANDS: tuple[tuple[str, int], ...] = (
    ("large", 5_000_000),
    ("medium", 500_000),
    ("retail", 0),
)
# Seed 004's four bands: an admin switches by editing the rule set's bands.
SEED_004_TIER_BANDS: tuple[tuple[str, int], ...] = (
    ("large", 5_000_000),
    ("medium", 1_000_000),
    ("small", 200_000),
    ("retail", 0),
)


@dataclass(frozen=True)
class RfmLabelRule:
    """A row of the label table: the first row whose ranges hold names the client."""

    code: str
    r_min: int = 1
    r_max: int = 5
    f_min: int = 1
    f_max: int = 5
    m_min: int = 1
    m_max: int = 5

    def matches(self, r: int, f: int, m: int) -> bool:
        return (
            self.r_min <= r <= self.r_max
            and self.f_min <= f <= self.f_max
            and self.m_min <= m <= self.m_max
        )


DEFAULT_RFM_LABELS: tuple[RfmLabelRule, ...] = (
    RfmLabelRule("champions", r_min=5, f_min=5, m_min=5),
    RfmLabelRule("loyal", r_min=4, f_min=4),
    RfmLabelRule("at_risk", r_max=2, f_min=4),
    RfmLabelRule("big_spender", m_min=4),
    RfmLabelRule("promising", r_min=4, f_max=2),
    RfmLabelRule("hibernating", r_max=2, f_max=2),
    RfmLabelRule("needs_attention"),
)


@dataclass(frozen=True)
class Rules:
    """Every threshold of the spec; the defaults are the seeds' values."""

    tier_window: int = 20
    behaviour_window: int = 60
    annualisation: int = 250
    rfm_window: int = 250
    # (code, minimum average equity in yuan), highest band first; the last is the floor.
    tier_bands: tuple[tuple[str, int], ...] = DEFAULT_TIER_BANDS
    dormant_days: int = 20
    day_trader_min_active_days: int = 30
    day_trader_min_trades_per_day: float = 20.0
    day_trader_max_overnight_share: float = 0.10
    key_service_hedge_share: float = 0.50
    key_service_min_loss_days: int = 10
    key_service_loss_share: float = 0.10
    vip_min_annual_net_fee: int = 1_000_000
    vip_min_avg_equity: int = 10_000_000
    key_min_annual_net_fee: int = 20_000
    key_min_avg_equity: int = 100_000
    churn_floor: float = 0.05
    churn_default: float = 0.20
    purpose_share: float = 0.50
    new_client_days: int = 365
    loyal_min_tenure_days: int = 730
    loyal_months: int = 12
    loyal_max_cv: float = 0.5
    quant_factors: int = 4
    quant_a_share: float = 0.20
    quant_b_share: float = 0.30
    rfm_labels: tuple[RfmLabelRule, ...] = field(default=DEFAULT_RFM_LABELS)

    @classmethod
    def from_params(cls, params: dict, rfm_labels: Iterable[RfmLabelRule] | None = None) -> Rules:
        """Build from a rule set's JSON; unknown keys are ignored, missing ones default."""
        known = {f.name for f in fields(cls)} - {"rfm_labels", "tier_bands"}
        kwargs = {k: v for k, v in params.items() if k in known}
        if "tier_bands" in params:
            bands = [(str(b["code"]), int(b["min"])) for b in params["tier_bands"]]
            kwargs["tier_bands"] = tuple(sorted(bands, key=lambda b: -b[1]))
        if rfm_labels is not None:
            kwargs["rfm_labels"] = tuple(rfm_labels)
        return cls(**kwargs)

    def history_window(self) -> int:
        """Trading days of activity a shard must load (RFM, loyalty, churn)."""
        return max(self.rfm_window, self.behaviour_window) + self.tier_window + 1


# The quantitative score's indicators, grouped by the factor they are meant to load
# on, with the direction that makes a client more valuable (+1) or less (−1).
QUANT_INDICATORS: tuple[tuple[str, str, int], ...] = (
    ("annual_net_fee", "contribution", 1),
    ("share_volume", "contribution", 1),
    ("share_net_fee", "contribution", 1),
    ("max_risk_degree", "risk", -1),
    ("avg_overnight_risk_degree", "risk", -1),
    ("margin_call_days", "risk", -1),
    ("forced_liquidations", "risk", -1),
    ("var95", "risk", -1),
    ("pnl_volatility", "risk", -1),
    ("return_rate", "profitability", 1),
    ("pnl_sum", "profitability", 1),
    ("avg_equity_behaviour", "fund_management", 1),
    ("capital_utilisation", "fund_management", 1),
    ("share_equity", "fund_management", 1),
)


# --- helpers -----------------------------------------------------------------------


def _cents(values) -> np.ndarray:
    """Float yuan → exact int64 cents (safe far beyond any account's equity)."""
    arr = np.asarray(values, dtype="float64")
    return np.rint(np.nan_to_num(arr) * 100).astype("int64")


def _as_epoch_days(values) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]").astype("int64")


def day_positions(days, calendar: Sequence[dt.date]) -> np.ndarray:
    """Position of each trading day in the calendar (−1 when not a calendar day)."""
    cal = _as_epoch_days(list(calendar))
    d = _as_epoch_days(days)
    pos = np.searchsorted(cal, d)
    pos_clipped = np.minimum(pos, len(cal) - 1)
    ok = (len(cal) > 0) & (cal[pos_clipped] == d) if len(cal) else np.zeros(len(d), bool)
    return np.where(ok, pos_clipped, -1)


def sum_per_client_day(frame: pd.DataFrame, value_columns: Sequence[str]) -> pd.DataFrame:
    """A client may hold several accounts: add their figures day by day."""
    if frame.empty:
        return frame
    keys = ["client_id", "trading_day"]
    if not frame.duplicated(keys).any():
        return frame
    return frame.groupby(keys, sort=False, as_index=False)[list(value_columns)].sum()


# The risk degree (margin / equity) of a day with margin and no positive equity: shown
# as 99,900 %, far above any real ratio, so "max risk degree" ranks such a client first.
RISK_NO_EQUITY = 999.0
SNAPSHOT_VALUES = ("equity", "margin", "margin_call", "pnl")
ACTIVITY_VALUES = (
    "trades", "lots", "turnover", "net_fee", "hedge_lots", "arbitrage_lots",
    "forced_liquidations",
)


# --- per client (one shard) -----------------------------------------------------------


def compute_clients(
    *,
    snapshots: pd.DataFrame,
    activity: pd.DataFrame,
    clients: pd.DataFrame,
    calendar: Sequence[dt.date],
    as_of: dt.date,
    rules: Rules,
) -> pd.DataFrame:
    """One row per client of the shard, everything that needs only that client's data.

    snapshots: client_id, trading_day, equity, margin, margin_call, pnl (daily P&L =
      close_pnl + position_pnl − fee), one row per account or per client and day.
    activity: client_id, trading_day, trades, lots, turnover, net_fee, hedge_lots,
      arbitrage_lots, forced_liquidations (the per-account daily aggregates).
    clients: client_id, first_opened (date), closed (bool, closed as of T).
    calendar: every trading day ≤ as_of, ascending.
    """
    calendar = [d for d in calendar if d <= as_of]
    n = len(calendar)
    ids = pd.Index(np.sort(clients["client_id"].to_numpy()), name="client_id")
    out = pd.DataFrame(index=ids)
    client_info = clients.set_index("client_id").reindex(ids)

    snaps = sum_per_client_day(snapshots, SNAPSHOT_VALUES)
    acts = sum_per_client_day(activity, ACTIVITY_VALUES)
    snaps = snaps.assign(pos=day_positions(snaps["trading_day"], calendar)) if n else snaps
    acts = acts.assign(pos=day_positions(acts["trading_day"], calendar)) if n else acts
    if n == 0:
        snaps = snaps.assign(pos=np.array([], dtype="int64"))[0:0]
        acts = acts.assign(pos=np.array([], dtype="int64"))[0:0]
    snaps = snaps[snaps["pos"] >= 0]
    acts = acts[(acts["pos"] >= 0) & (acts["trades"] > 0)]

    last = n - 1
    tier_start = n - rules.tier_window
    beh_start = n - rules.behaviour_window
    beh_days = min(rules.behaviour_window, n)

    # --- fund-size tier: average equity over the tier window, days with a snapshot
    tier_snaps = snaps[snaps["pos"] >= tier_start]
    eq_sum, eq_days = _sum_and_count(tier_snaps, "equity", ids)
    out["avg_equity"] = np.where(eq_days > 0, eq_sum / np.maximum(eq_days, 1) / 100.0, 0.0)
    out["fund_tier"] = _tier(eq_sum, eq_days, rules.tier_bands)

    # --- behaviour window
    bsnaps = snaps[snaps["pos"] >= beh_start]
    bacts = acts[acts["pos"] >= beh_start]
    beq_sum, beq_days = _sum_and_count(bsnaps, "equity", ids)
    out["avg_equity_behaviour"] = np.where(
        beq_days > 0, beq_sum / np.maximum(beq_days, 1) / 100.0, 0.0
    )
    sums = bacts.groupby("client_id")[list(ACTIVITY_VALUES)].sum().reindex(ids, fill_value=0)
    active_days = bacts.groupby("client_id").size().reindex(ids, fill_value=0).to_numpy()
    out["active_days"] = active_days
    for col in ("trades", "lots", "hedge_lots", "arbitrage_lots", "forced_liquidations"):
        out[col] = sums[col].to_numpy().astype("int64")
    out["turnover"] = sums["turnover"].to_numpy()
    net_fee_cents = _cents(sums["net_fee"].to_numpy())
    out["net_fee_window"] = net_fee_cents / 100.0
    out["annual_net_fee"] = (
        net_fee_cents * rules.annualisation / max(beh_days, 1) / 100.0 if beh_days else 0.0
    )

    # Overnight on active days: the day's snapshot shows margin > 0.
    margin_by_day = bsnaps[["client_id", "pos", "margin"]]
    active_with_margin = bacts[["client_id", "pos"]].merge(margin_by_day, how="left")
    overnight_active = (
        active_with_margin[active_with_margin["margin"].fillna(0) > 0]
        .groupby("client_id").size().reindex(ids, fill_value=0).to_numpy()
    )
    out["overnight_active_days"] = overnight_active

    # Daily P&L, risk degree (margin / equity of the client's accounts together).
    pnl = bsnaps["pnl"].to_numpy(dtype="float64")
    equity = bsnaps["equity"].to_numpy(dtype="float64")
    margin = bsnaps["margin"].to_numpy(dtype="float64")
    # Margin held with no positive equity (losses beyond the funds, 穿仓) has no ratio:
    # the means leave it out, but it is the worst risk, not a missing one — the maximum
    # counts it as RISK_NO_EQUITY, and it is a margin-call day.
    no_equity = (equity <= 0) & (margin > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = np.where(equity > 0, margin / equity, np.where(no_equity, np.nan, 0.0))
    r = pd.DataFrame({
        "client_id": bsnaps["client_id"].to_numpy(),
        "pnl": pnl,
        "risk": risk,
        "worst_risk": np.where(no_equity, RISK_NO_EQUITY, risk),
        "overnight_risk": np.where(margin > 0, risk, np.nan),
        "call": (bsnaps["margin_call"].to_numpy(dtype="float64") > 0) | (risk > 1.0) | no_equity,
    })
    g = r.groupby("client_id")
    pnl_sum = g["pnl"].sum().reindex(ids, fill_value=0.0)
    out["pnl_sum"] = pnl_sum.to_numpy()
    out["max_risk_degree"] = g["worst_risk"].max().reindex(ids).fillna(0.0).to_numpy()
    out["avg_overnight_risk_degree"] = g["overnight_risk"].mean().reindex(ids).fillna(0.0).to_numpy()
    out["capital_utilisation"] = g["risk"].mean().reindex(ids).fillna(0.0).to_numpy()
    out["margin_call_days"] = g["call"].sum().reindex(ids, fill_value=0).to_numpy().astype("int64")
    q05 = g["pnl"].quantile(0.05).reindex(ids).fillna(0.0).to_numpy()
    out["var95"] = np.maximum(-q05, 0.0)
    out["pnl_volatility"] = g["pnl"].std(ddof=1).reindex(ids).fillna(0.0).to_numpy()
    avg_eq_b = out["avg_equity_behaviour"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["return_rate"] = np.where(avg_eq_b > 0, out["pnl_sum"].to_numpy() / avg_eq_b, 0.0)

    # --- activity class: first rule that holds wins
    last_pos = acts.groupby("client_id")["pos"].max().reindex(ids)
    traded_recently = (last_pos >= n - rules.dormant_days).to_numpy() if n else np.zeros(len(ids), bool)
    lots = out["lots"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        hedge_share = np.where(lots > 0, out["hedge_lots"].to_numpy() / np.maximum(lots, 1), 0.0)
        arb_share = np.where(lots > 0, out["arbitrage_lots"].to_numpy() / np.maximum(lots, 1), 0.0)
    day_trader = (
        (active_days >= rules.day_trader_min_active_days)
        & (out["trades"].to_numpy() >= rules.day_trader_min_trades_per_day * active_days - 1e-9)
        & (overnight_active <= rules.day_trader_max_overnight_share * active_days + 1e-9)
        & (active_days > 0)
    )
    loss_cents = -_cents(out["pnl_sum"].to_numpy())
    big_loss = (
        (active_days >= rules.key_service_min_loss_days)
        & (loss_cents > 0)
        & (loss_cents >= np.rint(rules.key_service_loss_share * beq_sum / np.maximum(beq_days, 1)))
    )
    key_service = (hedge_share >= rules.key_service_hedge_share) & (lots > 0) | big_loss
    out["activity_class"] = np.select(
        [~traded_recently, day_trader, key_service],
        ["dormant", "day_trader", "key_service"],
        default="ordinary",
    )

    # --- value class: integer comparisons in cents (annual = window × 250 / days)
    days = max(beh_days, 1)
    annual_x_days = net_fee_cents * rules.annualisation  # annual fee (cents) × days
    # avg equity ≥ X  ⇔  equity sum ≥ X × days-with-snapshot (cents)
    vip = (
        (annual_x_days >= rules.vip_min_annual_net_fee * 100 * days)
        & (beq_days > 0)
        & (beq_sum >= rules.vip_min_avg_equity * 100 * beq_days)
    )
    key = (annual_x_days >= rules.key_min_annual_net_fee * 100 * days) | (
        (beq_days > 0) & (beq_sum >= rules.key_min_avg_equity * 100 * beq_days)
    )
    out["value_class"] = np.select(
        [vip, out["activity_class"].to_numpy() == "day_trader", key],
        ["vip", "scalper", "key"],
        default="small",
    )

    # --- RFM raw values (scored across all clients in `finalize`)
    rfm_acts = acts[acts["pos"] >= n - rules.rfm_window]
    rfm_last = rfm_acts.groupby("client_id")["pos"].max().reindex(ids)
    out["traded_rfm_window"] = rfm_last.notna().to_numpy()
    out["recency_days"] = (last - rfm_last).astype("Int64").to_numpy()
    last_any = last_pos.to_numpy(dtype="float64")
    out["last_trade_day"] = [None if np.isnan(p) else calendar[int(p)] for p in last_any]
    out["frequency"] = active_days
    out["monetary"] = out["net_fee_window"].to_numpy()

    # --- purpose: the flag carrying ≥ 50 % of the window's lots
    out["purpose"] = np.select(
        [lots <= 0, hedge_share >= rules.purpose_share, arb_share >= rules.purpose_share],
        ["", "hedger", "arbitrageur"],
        default="speculator",
    )

    # --- tenure and loyalty
    first_opened = pd.to_datetime(client_info["first_opened"]).to_numpy(dtype="datetime64[D]")
    tenure_days = (np.datetime64(as_of, "D") - first_opened).astype("int64")
    out["tenure_days"] = tenure_days
    out["tenure"] = np.where(tenure_days < rules.new_client_days, "new", "established")
    out["closed"] = client_info["closed"].fillna(False).astype(bool).to_numpy()
    out["loyal"] = _loyal(acts, calendar, ids, as_of, rules, tenure_days, out["value_class"].to_numpy())

    # --- then (for the tier's churn): tier and activity one year of trading days ago
    then = n - 1 - rules.annualisation
    if then >= 0:
        t_snaps = snaps[(snaps["pos"] <= then) & (snaps["pos"] > then - rules.tier_window)]
        t_sum, t_days = _sum_and_count(t_snaps, "equity", ids)
        t_acts = acts[(acts["pos"] <= then) & (acts["pos"] > then - rules.dormant_days)]
        active_then = np.isin(ids.to_numpy(), t_acts["client_id"].unique())
        out["tier_then"] = np.where(active_then, _tier(t_sum, t_days, rules.tier_bands), "")
    else:
        out["tier_then"] = ""
    out["history_days"] = n
    return out


def _sum_and_count(frame: pd.DataFrame, column: str, ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Per client: the column's sum in cents and the number of rows (days)."""
    if frame.empty:
        return np.zeros(len(ids), "int64"), np.zeros(len(ids), "int64")
    tmp = pd.DataFrame({"client_id": frame["client_id"].to_numpy(), "c": _cents(frame[column])})
    g = tmp.groupby("client_id")["c"]
    total = g.sum().reindex(ids, fill_value=0).to_numpy().astype("int64")
    count = g.size().reindex(ids, fill_value=0).to_numpy().astype("int64")
    return total, count


def _tier(sum_cents: np.ndarray, days: np.ndarray, bands: Sequence[tuple[str, int]]) -> np.ndarray:
    """Highest band whose minimum the average reaches; exact in integer cents."""
    # No snapshot → average 0: only a band starting at 0 holds.
    conditions = [
        (sum_cents >= minimum * 100 * days) & ((days > 0) | (minimum <= 0))
        for _, minimum in bands[:-1]
    ]
    return np.select(conditions, [code for code, _ in bands[:-1]], default=bands[-1][0])


def _month_key(d) -> int:
    return d.year * 12 + d.month - 1


def _loyal(acts, calendar, ids, as_of, rules, tenure_days, value_class) -> np.ndarray:
    """Seed 004: ≥ 2 years, traded in each of the last 12 calendar months (T's month
    included), steady monthly lots (CV ≤ 0.5), and revenue says small or key."""
    if acts.empty or not len(calendar):
        return np.zeros(len(ids), bool)
    months_of_pos = np.array([_month_key(d) for d in calendar], dtype="int64")
    end = _month_key(as_of)
    start = end - rules.loyal_months + 1
    month = months_of_pos[acts["pos"].to_numpy()]
    sel = month >= start
    m = pd.DataFrame({
        "client_id": acts["client_id"].to_numpy()[sel],
        "month": month[sel],
        "lots": acts["lots"].to_numpy()[sel],
    })
    monthly = m.groupby(["client_id", "month"])["lots"].sum().unstack(fill_value=0)
    monthly = monthly.reindex(columns=range(start, end + 1), fill_value=0).reindex(ids, fill_value=0)
    values = monthly.to_numpy(dtype="float64")
    every_month = (values > 0).all(axis=1)
    mean = values.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, values.std(axis=1) / np.where(mean > 0, mean, 1), np.inf)
    return (
        (tenure_days >= rules.loyal_min_tenure_days)
        & every_month
        & (cv <= rules.loyal_max_cv)
        & np.isin(value_class, ["small", "key"])
    )


# --- across clients (the final step) ----------------------------------------------------


def finalize(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Add RFM scores and labels, churn and CLV, shares of the firm, the quant score.

    `frame` is the union of every shard's `compute_clients` output, indexed by client.
    """
    out = frame.sort_index().copy()
    out = _rfm(out, rules)
    out = _clv(out, rules)
    for col, share in (("lots", "share_volume"), ("avg_equity_behaviour", "share_equity"),
                       ("net_fee_window", "share_net_fee")):
        total = float(out[col].astype("float64").sum())
        out[share] = out[col].astype("float64") / total if total else 0.0
    return quant_score(out, rules)


def _quintile(values: pd.Series, *, none_is_lowest: bool = False) -> pd.Series:
    """1–5 by quintile of rank; higher value → higher score. Ties share the highest score
    of their group (everyone who traded today is R = 5), except the group of the lowest
    value, which shares the lowest: a crowd of idle clients tied at the bottom is the
    bottom (with shared-highest ties they scored 3 and "hibernating" stayed empty).

    none_is_lowest: a value ≤ 0 (no active day, no fee) scores 1 even when negative
    values sit below it."""
    at_bottom = (values == values.min()) & (values.min() != values.max())  # all tied: the top
    pct = values.rank(method="max", pct=True).where(~at_bottom, values.rank(method="min", pct=True))
    score = np.clip(np.ceil(pct * 5), 1, 5)
    if none_is_lowest:
        score = score.where(values > 0, 1)
    return score.astype("Int64")


def _rfm(out: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    scored = out["traded_rfm_window"].astype(bool)
    out["rfm_r"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["rfm_f"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["rfm_m"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["rfm_label"] = ""
    if scored.any():
        sub = out[scored]
        out.loc[scored, "rfm_r"] = _quintile(-sub["recency_days"].astype("float64"))
        out.loc[scored, "rfm_f"] = _quintile(sub["frequency"].astype("float64"), none_is_lowest=True)
        out.loc[scored, "rfm_m"] = _quintile(sub["monetary"].astype("float64"), none_is_lowest=True)
        r = out.loc[scored, "rfm_r"].to_numpy(dtype="int64")
        f = out.loc[scored, "rfm_f"].to_numpy(dtype="int64")
        m = out.loc[scored, "rfm_m"].to_numpy(dtype="int64")
        conditions = [
            (rule.r_min <= r) & (r <= rule.r_max) & (rule.f_min <= f) & (f <= rule.f_max)
            & (rule.m_min <= m) & (m <= rule.m_max)
            for rule in rules.rfm_labels
        ]
        codes = [rule.code for rule in rules.rfm_labels]
        out.loc[scored, "rfm_label"] = np.select(conditions, codes, default="") if codes else ""
    return out


def churn_by_tier(out: pd.DataFrame, rules: Rules) -> dict[str, float]:
    """Share of each tier's clients active a year of trading days ago that are dormant
    or closed now; floored; the default when history is shorter than that year."""
    history = int(out["history_days"].max()) if len(out) else 0
    tiers = [code for code, _ in rules.tier_bands]
    if history <= rules.annualisation:
        return dict.fromkeys(tiers, rules.churn_default)
    churn = {}
    for tier in tiers:
        cohort = out[out["tier_then"] == tier]
        if cohort.empty:
            churn[tier] = rules.churn_default
            continue
        lost = ((cohort["activity_class"] == "dormant") | cohort["closed"].astype(bool)).mean()
        churn[tier] = max(float(lost), rules.churn_floor)
    return churn


def _clv(out: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    churn = churn_by_tier(out, rules)
    out["churn"] = out["fund_tier"].map(churn).astype("float64").fillna(rules.churn_default)
    out["clv"] = out["annual_net_fee"].astype("float64") / out["churn"]
    return out


def quant_score(out: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Standardise the indicators, extract `quant_factors` factors (principal factors
    of the correlation matrix, varimax-rotated), weight them by explained variance
    into one composite and split A/B/C by rank. The composite is linear in the
    standardised indicators, so each indicator's part of a client's score is exact:
    the top three make `drivers`.

    Only clients with a snapshot in the behaviour window are scored.
    """
    names = [name for name, _, _ in QUANT_INDICATORS]
    directions = np.array([d for _, _, d in QUANT_INDICATORS], dtype="float64")
    out["quant_score"] = np.nan
    out["quant_class"] = ""
    out["drivers"] = [[] for _ in range(len(out))]
    mask = out["avg_equity_behaviour"].astype("float64") > 0
    if mask.sum() < 3:
        return out
    x = out.loc[mask, names].astype("float64").to_numpy()
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    live = std > 1e-9 * np.maximum(1.0, np.abs(mean))
    z = np.zeros_like(x)
    z[:, live] = (x[:, live] - mean[live]) / std[live]
    full_coef = np.zeros(len(names))
    if live.any():
        full_coef[live] = factor_coefficients(z[:, live], directions[live], rules.quant_factors)
    parts = z * full_coef  # each indicator's contribution to the composite
    score = np.round(parts.sum(axis=1), 12)
    out.loc[mask, "quant_score"] = score
    # Rank 0 = best; tied scores share the better class.
    ranks = pd.Series(-score).rank(method="min").to_numpy() - 1
    n = len(score)
    a_cut = int(math.ceil(n * rules.quant_a_share))
    b_cut = int(math.ceil(n * (rules.quant_a_share + rules.quant_b_share)))
    out.loc[mask, "quant_class"] = np.where(ranks < a_cut, "A", np.where(ranks < b_cut, "B", "C"))
    top = np.argsort(-np.abs(parts), axis=1, kind="stable")[:, :3]
    rows = np.arange(len(parts))[:, None]
    top_z = np.round(z[rows, top], 3).tolist()
    top_part = np.round(parts[rows, top], 4).tolist()
    drivers = [
        [{"indicator": names[i], "z": zz, "contribution": cc}
         for i, zz, cc in zip(idx, zrow, crow, strict=True) if cc != 0]
        for idx, zrow, crow in zip(top.tolist(), top_z, top_part, strict=True)
    ]
    out.loc[mask, "drivers"] = pd.Series(drivers, index=out.index[mask])
    return out


def factor_coefficients(z: np.ndarray, directions: np.ndarray, n_factors: int) -> np.ndarray:
    """Composite-score weights per standardised indicator.

    Principal-factor extraction on the correlation matrix, varimax rotation,
    regression (Thurstone) factor scores, and each factor weighted by its share of
    the explained variance. Factor signs are arbitrary in factor analysis: each is
    oriented so that it points towards value (the indicators' `directions`).
    """
    p = z.shape[1]
    k = max(1, min(n_factors, p))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.corrcoef(z, rowvar=False) if p > 1 else np.ones((1, 1))
    corr = np.nan_to_num(corr)
    eigval, eigvec = np.linalg.eigh(corr)
    idx = np.argsort(eigval)[::-1][:k]
    eigval = np.clip(eigval[idx], 1e-12, None)
    loadings = eigvec[:, idx] * np.sqrt(eigval)
    loadings = varimax(loadings)
    explained = (loadings**2).sum(axis=0) / p
    for j in range(k):
        if float(directions @ loadings[:, j]) < 0:
            loadings[:, j] = -loadings[:, j]
    # Regression method: scores = Z R⁻¹ Λ.
    score_coef = np.linalg.pinv(corr) @ loadings
    weights = explained / explained.sum()
    return score_coef @ weights


def varimax(loadings: np.ndarray, gamma: float = 1.0, iterations: int = 100,
            tol: float = 1e-8) -> np.ndarray:
    p, k = loadings.shape
    if k < 2:
        return loadings.copy()
    rotation = np.eye(k)
    total = 0.0
    for _ in range(iterations):
        lam = loadings @ rotation
        u, s, vt = np.linalg.svd(
            loadings.T @ (lam**3 - (gamma / p) * lam @ np.diag((lam**2).sum(axis=0)))
        )
        rotation = u @ vt
        new_total = s.sum()
        if total and new_total < total * (1 + tol):
            break
        total = new_total
    return loadings @ rotation
