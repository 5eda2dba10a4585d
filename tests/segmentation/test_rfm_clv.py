"""RFM quintile scores, the label table, churn per tier and CLV."""

import datetime as dt

from segmentation import compute
from tests.segmentation.helpers import Book, business_days

CAL = business_days(dt.date(2026, 11, 20), 60)
LONG = business_days(dt.date(2026, 11, 20), 300)


def test_quintiles_among_clients_who_traded_and_no_score_for_the_others():
    book = Book(CAL)
    for cid in range(1, 11):
        book.client(cid)
        book.equity_every_day(cid, 100_000)
        # client k: last trade k−1 days ago, k active days, fee 100·k
        for day in CAL[-(cid + 10): -(cid - 1) or None][-cid:]:
            book.trade_day(cid, day, net_fee=100 * cid / cid)
        book.acts[-1]["net_fee"] = 100 * cid
    book.client(11)  # never traded
    out = book.compute(final=True)
    assert out.loc[1:10, "rfm_m"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert out.loc[1:10, "rfm_f"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert out.loc[1:10, "rfm_r"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out.loc[11, ["rfm_r", "rfm_f", "rfm_m"]].isna().all()
    assert out.loc[11, "rfm_label"] == ""


def test_labels_come_from_the_table_first_match_wins():
    rules = compute.Rules()
    first = next(r.code for r in rules.rfm_labels if r.matches(5, 5, 5))
    assert first == "champions"
    assert next(r.code for r in rules.rfm_labels if r.matches(1, 5, 3)) == "at_risk"
    custom = compute.Rules(rfm_labels=(compute.RfmLabelRule("everyone"),))
    book = Book(CAL)
    book.client(1)
    book.trade_day(1, CAL[-1])
    assert book.compute(custom, final=True).loc[1, "rfm_label"] == "everyone"


def test_clv_uses_the_default_churn_with_less_than_250_days_of_history():
    book = Book(CAL)
    book.client(1)
    book.equity_every_day(1, 100_000)
    book.trade_day(1, CAL[-1], net_fee=4_800)  # annual 20,000
    out = book.compute(final=True)
    assert out.loc[1, "churn"] == 0.20
    assert out.loc[1, "clv"] == 100_000


def test_churn_is_the_share_of_the_tier_active_a_year_ago_now_dormant_or_closed():
    book = Book(LONG)
    then = LONG[-251]
    # Four medium clients active a year ago: one dormant now, one closed, two active.
    for cid in range(1, 5):
        book.client(cid, closed=(cid == 2))
        book.equity_every_day(cid, 1_000_000)
        book.trade_day(cid, then)
        if cid != 1:
            book.trade_day(cid, LONG[-1], net_fee=1_200)  # annual 5,000
    out = book.compute(final=True)
    assert out.loc[3, "tier_then"] == "medium"
    assert out.loc[3, "churn"] == 0.5
    assert out.loc[3, "clv"] == 10_000


def test_churn_is_floored_at_five_percent():
    book = Book(LONG)
    for cid in range(1, 4):
        book.client(cid)
        book.equity_every_day(cid, 1_000_000)
        book.trade_day(cid, LONG[-251])
        book.trade_day(cid, LONG[-1], net_fee=1_200)
    out = book.compute(final=True)
    assert out.loc[1, "churn"] == 0.05
    assert out.loc[1, "clv"] == 100_000


def test_idle_clients_score_the_lowest_frequency_and_fee_and_can_hibernate():
    # six clients traded long ago (no active day, no fee in the behaviour window), four trade
    # every day with a fee: shared-highest ties would give the idle six F = M = 3
    book = Book(LONG)
    for cid in range(1, 11):
        book.client(cid)
        book.equity_every_day(cid, 100_000, days=LONG[-60:])
    for cid in range(1, 7):
        book.trade_day(cid, LONG[-200], net_fee=0)
    for cid in range(7, 11):
        for day in LONG[-20:]:
            book.trade_day(cid, day, net_fee=50 * cid)
    out = book.compute(final=True)
    assert out.loc[1:6, "rfm_f"].tolist() == [1] * 6
    assert out.loc[1:6, "rfm_m"].tolist() == [1] * 6
    assert out.loc[7:10, "rfm_f"].tolist() == [5] * 4
    assert out.loc[7:10, "rfm_m"].tolist() == [4, 4, 5, 5]
    assert set(out.loc[1:6, "rfm_label"]) == {"hibernating"}
