"""Risk and behaviour metrics, and the quantitative score with its drivers."""

import datetime as dt

import numpy as np

from segmentation import compute
from tests.segmentation.helpers import Book, business_days

CAL = business_days(dt.date(2026, 11, 20), 60)


def test_risk_metrics_over_the_behaviour_window():
    book = Book(CAL)
    book.client(1)
    pnls = [float(i - 50) * 100 for i in range(60)]  # −5,000 … +4,900
    for i, day in enumerate(CAL):
        margin = 0 if i < 30 else 500_000
        if i == 59:
            margin = 1_100_000  # risk degree 110 % → a margin-call day
        book.snapshot(1, day, equity=1_000_000, margin=margin, pnl=pnls[i],
                      margin_call=10 if i == 40 else 0)
    book.trade_day(1, CAL[-1], forced=2)
    r = book.compute().loc[1]
    assert r.max_risk_degree == 1.1
    assert round(r.avg_overnight_risk_degree, 6) == round((29 * 0.5 + 1.1) / 30, 6)
    assert round(r.capital_utilisation, 6) == round((29 * 0.5 + 1.1) / 60, 6)
    assert r.margin_call_days == 2
    assert r.forced_liquidations == 2
    assert r.var95 == -np.percentile(pnls, 5)
    assert round(r.pnl_volatility, 6) == round(float(np.std(pnls, ddof=1)), 6)
    assert r.return_rate == sum(pnls) / 1_000_000


def test_var95_is_zero_when_even_the_5th_percentile_is_a_gain():
    book = Book(CAL)
    book.client(1)
    book.equity_every_day(1, 100_000, pnl=10)
    assert book.compute().loc[1, "var95"] == 0


def population(n=40, seed=3):
    rng = np.random.default_rng(seed)
    book = Book(CAL)
    for cid in range(1, n + 1):
        book.client(cid)
        equity = float(rng.uniform(50_000, 20_000_000))
        for day in CAL:
            book.snapshot(cid, day, equity=equity, margin=equity * rng.uniform(0, 0.9),
                          pnl=float(rng.normal(0, equity / 100)))
        for day in CAL[-int(rng.integers(1, 60)):]:
            book.trade_day(cid, day, trades=int(rng.integers(1, 30)), lots=int(rng.integers(1, 50)),
                           net_fee=float(rng.uniform(0, 2_000)), forced=int(rng.integers(0, 2)))
    return book


def test_the_score_splits_a_b_c_by_rank_and_is_reproducible():
    out = population().compute(final=True)
    again = population().compute(final=True)
    assert out["quant_score"].tolist() == again["quant_score"].tolist()
    counts = out["quant_class"].value_counts().to_dict()
    assert counts == {"A": 8, "B": 12, "C": 20}
    worst_a = out.loc[out.quant_class == "A", "quant_score"].min()
    best_b = out.loc[out.quant_class == "B", "quant_score"].max()
    assert worst_a > best_b


def test_drivers_are_the_three_largest_parts_of_the_score_and_add_up():
    out = population().compute(final=True)
    row = out.iloc[0]
    assert len(row.drivers) == 3
    sizes = [abs(d["contribution"]) for d in row.drivers]
    assert sizes == sorted(sizes, reverse=True)
    names = {name for name, _, _ in compute.QUANT_INDICATORS}
    assert {d["indicator"] for d in row.drivers} <= names


def test_a_client_with_more_fee_and_equity_and_less_risk_scores_higher():
    book = population()
    book.client(99)
    for day in CAL:
        book.snapshot(99, day, equity=30_000_000, margin=3_000_000, pnl=30_000)
        book.trade_day(99, day, trades=40, lots=400, net_fee=20_000)
    out = book.compute(final=True)
    assert out.loc[99, "quant_class"] == "A"
    assert out.loc[99, "quant_score"] == out["quant_score"].max()


def test_factor_coefficients_weight_factors_by_explained_variance():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 6))
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    coef = compute.factor_coefficients(z, np.ones(6), 4)
    assert coef.shape == (6,)
    assert np.isfinite(coef).all()
    loadings = compute.varimax(np.linalg.eigh(np.corrcoef(z, rowvar=False))[1][:, -4:])
    # varimax is a rotation: communalities are unchanged
    base = np.linalg.eigh(np.corrcoef(z, rowvar=False))[1][:, -4:]
    assert np.allclose((loadings**2).sum(axis=1), (base**2).sum(axis=1))


def test_margin_with_no_equity_left_is_the_worst_risk_and_a_margin_call_day():
    book = Book(CAL)
    book.client(1)
    for i, day in enumerate(CAL):
        equity = -50_000 if i == 59 else 1_000_000  # losses beyond the funds (穿仓) on the last day
        book.snapshot(1, day, equity=equity, margin=80_000)
    r = book.compute().loc[1]
    assert r.max_risk_degree == compute.RISK_NO_EQUITY
    assert r.margin_call_days == 1
    assert round(r.avg_overnight_risk_degree, 6) == 0.08  # the means leave the day without a ratio out
