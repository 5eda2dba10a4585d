"""Monthly statements from trades: who earns what, carry-forwards, corrections, four eyes."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from brokers import exports, services
from brokers.models import BrokerStatus, CommissionStatement, StatementLine, StatementState
from tests import factories as f
from tests.brokers.factories import BrokerFactory, InstitutionBrokerFactory, LinkFactory

NOV = dt.date(2026, 11, 1)
DEC = dt.date(2026, 12, 1)
pytestmark = pytest.mark.django_db


def trade(account, day, fee, exchange_fee, product="rb", volume=1, turnover="35000.00"):
    return f.TradeFactory(account=account, trading_day=day, fee=D(fee), exchange_fee=D(exchange_fee),
                          product_code=product, instrument=f"{product}2605", volume=volume,
                          turnover=D(turnover))


def statement(broker, month=NOV):
    return CommissionStatement.objects.get(broker=broker, month=month)


def test_statement_lines_per_account_and_product_and_the_six_steps():
    ib = BrokerFactory(code="IB01")
    a1 = LinkFactory(broker=ib).account
    a2 = LinkFactory(broker=ib).account
    trade(a1, dt.date(2026, 11, 3), "6000.00", "1000.00", volume=3, turnover="100000.00")
    trade(a1, dt.date(2026, 11, 4), "2000.00", "500.00", volume=2, turnover="50000.00")
    trade(a1, dt.date(2026, 11, 5), "1500.00", "0.00", product="m", volume=5, turnover="20000.00")
    trade(a2, dt.date(2026, 11, 30), "2500.00", "500.00")
    trade(a2, dt.date(2026, 10, 31), "999.00", "0.00")  # other month
    summary = services.compute_commissions(month=NOV)
    assert summary["statements"] == 1
    s = statement(ib)
    lines = {(ln.account_id, ln.product_code): ln for ln in s.lines.all()}
    rb = lines[(a1.id, "rb")]
    assert (rb.trades, rb.lots, rb.turnover, rb.fee, rb.exchange_fee, rb.net_retained) == (
        2, 5, D("150000.00"), D("8000.00"), D("1500.00"), D("6500.00"))
    assert lines[(a1.id, "m")].net_retained == D("1500.00")
    assert lines[(a2.id, "rb")].net_retained == D("2000.00")
    # gross 10,000 → vat 672, reserve 500, base 8,828, payout 4,414, tax 706.24
    assert (s.gross, s.vat, s.reserve, s.base, s.payout, s.tax, s.net_pay) == (
        D("10000.00"), D("672.00"), D("500.00"), D("8828.00"), D("4414.00"), D("706.24"),
        D("3707.76"))
    assert s.state == StatementState.DRAFT
    assert s.scheme.broker is None  # the shipped default scheme


def test_recompute_replaces_drafts_without_doubling():
    ib = BrokerFactory()
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 3), "300.00", "100.00")
    services.compute_commissions(month=NOV)
    first_id = statement(ib).id
    trade(account, dt.date(2026, 11, 4), "300.00", "100.00")
    services.compute_commissions(month=NOV)
    s = statement(ib)
    assert s.id == first_id
    assert s.gross == D("400.00")
    assert s.lines.count() == 1


def test_tiered_schemes_of_an_institution_from_trades():
    ib = InstitutionBrokerFactory()
    services.scheme_save(broker=ib, mode="tiered_progressive", bands="0:0.40;100000:0.50;500000:0.60",
                         valid_from=dt.date(2026, 1, 1))
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 10), "250000.00", "50000.00")
    services.compute_commissions(month=NOV)
    s = statement(ib)
    assert (s.gross, s.base, s.payout, s.tax, s.net_pay) == (
        D("200000.00"), D("176560.00"), D("78280.00"), D("0.00"), D("78280.00"))
    # A whole-base scheme from December on does not touch November.
    services.scheme_save(broker=ib, mode="tiered_whole", bands="0:0.40;100000:0.50",
                         valid_from=DEC)
    trade(account, dt.date(2026, 12, 1), "250000.00", "50000.00")
    services.compute_commissions(month=DEC)
    assert statement(ib, DEC).payout == D("88280.00")
    services.compute_commissions(month=NOV)
    assert statement(ib).payout == D("78280.00")


def test_a_client_moving_between_ibs_mid_month_splits_the_commission():
    ib1, ib2 = BrokerFactory(code="IB01"), BrokerFactory(code="IB02")
    link = LinkFactory(broker=ib1, valid_from=dt.date(2025, 1, 1))
    services.link_move(account=link.account, broker=ib2, on=dt.date(2026, 11, 16))
    link.refresh_from_db()
    assert link.valid_to == dt.date(2026, 11, 15)
    trade(link.account, dt.date(2026, 11, 15), "1000.00", "200.00")
    trade(link.account, dt.date(2026, 11, 16), "500.00", "100.00")
    services.compute_commissions(month=NOV)
    assert statement(ib1).gross == D("800.00")
    assert statement(ib2).gross == D("400.00")


def test_an_ib_suspended_mid_month_earns_only_on_active_days():
    ib = BrokerFactory()
    services.broker_set_status(broker=ib, status=BrokerStatus.SUSPENDED, effective_from=dt.date(2026, 11, 12))
    services.broker_set_status(broker=ib, status=BrokerStatus.ACTIVE, effective_from=dt.date(2026, 11, 19))
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 11), "1000.00", "0.00")
    trade(account, dt.date(2026, 11, 12), "2000.00", "0.00")
    trade(account, dt.date(2026, 11, 18), "4000.00", "0.00")
    trade(account, dt.date(2026, 11, 19), "8000.00", "0.00")
    services.compute_commissions(month=NOV)
    assert statement(ib).gross == D("9000.00")
    assert services.broker_status_on(broker=ib, day=dt.date(2026, 11, 15)) == BrokerStatus.SUSPENDED


def test_no_commission_outside_the_contract():
    ib = BrokerFactory(contract_start=dt.date(2026, 11, 10), contract_end=dt.date(2026, 11, 20))
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 9), "1000.00", "0.00")
    trade(account, dt.date(2026, 11, 10), "300.00", "0.00")
    trade(account, dt.date(2026, 11, 21), "1000.00", "0.00")
    services.compute_commissions(month=NOV)
    assert statement(ib).gross == D("300.00")


def test_unlinked_trades_earn_nothing():
    trade(f.AccountFactory(), dt.date(2026, 11, 3), "100.00", "0.00")
    assert services.compute_commissions(month=NOV)["statements"] == 0


def test_carry_forward_below_minimum_to_next_month():
    ib = BrokerFactory()
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 3), "200.00", "0.00")
    trade(account, dt.date(2026, 12, 3), "300.00", "0.00")
    services.compute_commissions(month=NOV)
    services.compute_commissions(month=DEC)
    nov, dec = statement(ib), statement(ib, DEC)
    assert (nov.payout, nov.net_pay, nov.carried_out_payout) == (D("88.28"), D("0.00"), D("88.28"))
    assert (dec.carried_in_payout, dec.payout, dec.net_pay) == (D("88.28"), D("132.42"), D("220.70"))


def test_a_carried_payout_alone_makes_a_statement_next_month():
    ib = InstitutionBrokerFactory()
    services.scheme_save(broker=ib, mode="flat", bands="0:1", vat_rate=0, reserve_rate=0,
                         min_payout=50, valid_from=dt.date(2026, 1, 1))
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 3), "30.00", "0.00")
    services.compute_commissions(month=NOV)
    services.compute_commissions(month=DEC)
    # December has no trades but its 30.00 brought forward is still below 50.
    dec = statement(ib, DEC)
    assert (dec.gross, dec.carried_in_payout, dec.net_pay, dec.carried_out_payout) == (
        D("0.00"), D("30.00"), D("0.00"), D("30.00"))


def test_negative_base_carries_into_next_month():
    ib = BrokerFactory()
    services.scheme_save(broker=ib, mode="flat", bands="0:0.5", other_deductions=200,
                         valid_from=dt.date(2026, 1, 1))
    account = LinkFactory(broker=ib).account
    trade(account, dt.date(2026, 11, 3), "100.00", "0.00")
    trade(account, dt.date(2026, 12, 3), "1000.00", "0.00")
    services.compute_commissions(month=NOV)
    services.compute_commissions(month=DEC)
    assert statement(ib).carried_out_base == D("-111.72")
    dec = statement(ib, DEC)
    assert (dec.carried_in_base, dec.base, dec.payout) == (D("-111.72"), D("571.08"), D("285.54"))


def test_four_eyes_approve_then_pay(finance_user):
    other = f.staff_user("finance2", "finance")
    ib = BrokerFactory()
    trade(LinkFactory(broker=ib).account, dt.date(2026, 11, 3), "10000.00", "0.00")
    services.compute_commissions(month=NOV, user=finance_user)
    s = statement(ib)
    assert s.prepared_by == finance_user
    with pytest.raises(ValidationError) as excinfo:
        services.statement_approve(statement=s, user=finance_user)
    assert "approved_by" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        services.statement_pay(statement=s, user=other, paid_on=dt.date(2026, 12, 10), bank_ref="X1")
    s = services.statement_approve(statement=s, user=other)
    assert (s.state, s.approved_by) == (StatementState.APPROVED, other)
    with pytest.raises(ValidationError):
        services.statement_pay(statement=s, user=other, paid_on=dt.date(2026, 12, 10), bank_ref=" ")
    s = services.statement_pay(statement=s, user=other, paid_on=dt.date(2026, 12, 10), bank_ref="CMB-001")
    assert (s.state, s.paid_on, s.bank_ref) == (StatementState.PAID, dt.date(2026, 12, 10), "CMB-001")


def test_a_statement_computed_by_the_job_needs_a_preparer_before_approval(finance_user):
    other = f.staff_user("finance2", "finance")
    ib = BrokerFactory()
    trade(LinkFactory(broker=ib).account, dt.date(2026, 11, 3), "10000.00", "0.00")
    services.compute_commissions(month=NOV)
    s = statement(ib)
    with pytest.raises(ValidationError):
        services.statement_approve(statement=s, user=finance_user)
    services.statement_prepare(statement=s, user=finance_user)
    assert services.statement_approve(statement=s, user=other).state == StatementState.APPROVED


def test_only_finance_approves(manager_a):
    ib = BrokerFactory()
    trade(LinkFactory(broker=ib).account, dt.date(2026, 11, 3), "10000.00", "0.00")
    services.compute_commissions(month=NOV)
    with pytest.raises(PermissionDenied):
        services.statement_approve(statement=statement(ib), user=manager_a)


def test_approved_statements_never_change_and_corrections_become_adjustments_next_month(finance_user):
    other = f.staff_user("finance2", "finance")
    ib = BrokerFactory()
    account = LinkFactory(broker=ib).account
    corrected = trade(account, dt.date(2026, 11, 3), "10000.00", "0.00")
    services.compute_commissions(month=NOV, user=finance_user)
    nov = services.statement_approve(statement=statement(ib), user=other)
    original_line = nov.lines.get()
    # After approval: a late trade in November and a corrected fee on the first one.
    trade(account, dt.date(2026, 11, 20), "500.00", "100.00", product="m")
    corrected.fee = D("9000.00")
    corrected.save()
    services.compute_commissions(month=NOV, user=finance_user)
    nov.refresh_from_db()
    assert (nov.state, nov.gross, nov.net_pay) == (StatementState.APPROVED, D("10000.00"), D("3707.76"))
    assert nov.lines.count() == 1
    trade(account, dt.date(2026, 12, 2), "2000.00", "0.00")
    services.compute_commissions(month=DEC, user=finance_user)
    dec = statement(ib, DEC)
    adjustments = {ln.product_code: ln for ln in dec.lines.filter(is_adjustment=True)}
    assert adjustments["rb"].net_retained == D("-1000.00")
    assert adjustments["rb"].original_line == original_line
    assert adjustments["rb"].original_statement == nov
    assert adjustments["m"].net_retained == D("400.00")
    assert adjustments["m"].original_line is None
    assert adjustments["m"].original_statement == nov
    # December gross = 2,000 of its own − 1,000 + 400 of corrections
    assert dec.gross == D("1400.00")
    # Recomputing December books the adjustments once, not twice.
    services.compute_commissions(month=DEC, user=finance_user)
    assert StatementLine.objects.filter(statement__month=DEC, is_adjustment=True).count() == 2
    assert statement(ib, DEC).gross == D("1400.00")


def test_commission_accrue_builds_the_month_to_date():
    ib = BrokerFactory()
    trade(LinkFactory(broker=ib).account, dt.date(2026, 11, 3), "10000.00", "0.00")
    summary = services.commission_accrue(as_of=dt.date(2026, 11, 20))
    assert (summary["month"], summary["statements"], summary["gross"]) == ("2026-11", 1, "10000.00")


def test_an_unchanged_approved_month_books_no_adjustments_next_month(finance_user):
    # Cent amounts whose float sum is not exact (0.10 + 0.20 + …): SQLite sums them
    # as floats, which must not turn into adjustment lines of 1e-15.
    other = f.staff_user("finance2", "finance")
    ib = BrokerFactory()
    account = LinkFactory(broker=ib).account
    for day, fee, exchange_fee in ((3, "381.14", "0.11"), (4, "222.69", "36.08"),
                                   (5, "114.38", "47.26"), (6, "450.71", "1.53")):
        trade(account, dt.date(2026, 11, day), fee, exchange_fee)
    services.compute_commissions(month=NOV, user=finance_user)
    services.statement_approve(statement=statement(ib), user=other)
    assert statement(ib).gross == D("1083.94")  # 1,168.92 − 84.98
    trade(account, dt.date(2026, 12, 2), "100.00", "0.00")
    services.compute_commissions(month=DEC, user=finance_user)
    assert not StatementLine.objects.filter(statement__month=DEC, is_adjustment=True).exists()
    assert statement(ib, DEC).gross == D("100.00")


OCT = dt.date(2026, 10, 1)


def approve_month(month, preparer, approver):
    for s in CommissionStatement.objects.filter(month=month, state=StatementState.DRAFT):
        services.statement_prepare(statement=s, user=preparer)
        services.statement_approve(statement=s, user=approver)


def adjustment_lines(broker, month=NOV):
    return list(StatementLine.objects.filter(statement__broker=broker, statement__month=month,
                                             is_adjustment=True))


def backdated_move_after_october_approved(finance_user):
    """October approved for IB A (1,500 + 5,000); the account then moves to B from the 15th."""
    other = f.staff_user("finance2", "finance")
    ib_a, ib_b = BrokerFactory(code="IBA"), BrokerFactory(code="IBB")
    account = LinkFactory(broker=ib_a, valid_from=dt.date(2025, 1, 1)).account
    trade(account, dt.date(2026, 10, 10), "1500.00", "0.00")
    trade(account, dt.date(2026, 10, 20), "5000.00", "0.00")
    services.compute_commissions(month=OCT, user=finance_user)
    approve_month(OCT, finance_user, other)
    assert statement(ib_a, OCT).gross == D("6500.00")
    assert not CommissionStatement.objects.filter(broker=ib_b).exists()
    services.link_move(account=account, broker=ib_b, on=dt.date(2026, 10, 15))
    return ib_a, ib_b, account, other


def test_a_backdated_move_into_an_approved_month_pays_the_new_ib_next_month(finance_user):
    ib_a, ib_b, account, _other = backdated_move_after_october_approved(finance_user)
    services.compute_commissions(month=NOV, user=finance_user)
    october = statement(ib_a, OCT)
    # A: the 5,000 traded after the 15th is clawed back, pointing at its October line.
    (clawback,) = adjustment_lines(ib_a)
    assert (clawback.account_id, clawback.fee, clawback.net_retained) == (
        account.id, D("-5000.00"), D("-5000.00"))
    assert (clawback.original_statement, clawback.original_month) == (october, OCT)
    assert clawback.original_line == october.lines.get()
    a_nov = statement(ib_a)
    assert (a_nov.gross, a_nov.vat, a_nov.reserve, a_nov.base, a_nov.payout,
            a_nov.carried_out_base) == (D("-5000.00"), D("-336.00"), D("-250.00"),
                                        D("-4414.00"), D("0.00"), D("-4414.00"))
    # B had no October statement: it gets the 5,000 as adjustment lines of October.
    credit = adjustment_lines(ib_b)
    assert sum(ln.fee for ln in credit) == D("5000.00")
    assert {(ln.original_month, ln.original_statement_id, ln.original_line_id) for ln in credit} == {
        (OCT, None, None)}
    assert sum(ln.trades for ln in credit) == 1
    b_nov = statement(ib_b)
    assert (b_nov.gross, b_nov.base, b_nov.payout, b_nov.tax, b_nov.net_pay) == (
        D("5000.00"), D("4414.00"), D("2207.00"), D("281.40"), D("1925.60"))
    assert not CommissionStatement.objects.filter(broker=ib_b, month=OCT).exists()


def test_recomputing_the_month_books_a_credit_to_an_ib_without_statement_once(finance_user):
    ib_a, ib_b, _account, _other = backdated_move_after_october_approved(finance_user)
    services.compute_commissions(month=NOV, user=finance_user)
    services.compute_commissions(month=NOV, user=finance_user)
    assert sum(ln.fee for ln in adjustment_lines(ib_b)) == D("5000.00")
    assert sum(ln.fee for ln in adjustment_lines(ib_a)) == D("-5000.00")
    assert (statement(ib_a).gross, statement(ib_b).gross) == (D("-5000.00"), D("5000.00"))
    # Recomputing October itself makes no October draft for B: November pays it.
    services.compute_commissions(month=OCT, user=finance_user)
    assert not CommissionStatement.objects.filter(broker=ib_b, month=OCT).exists()
    services.compute_commissions(month=NOV, user=finance_user)
    assert sum(ln.fee for ln in adjustment_lines(ib_b)) == D("5000.00")


def test_the_month_after_books_nothing_again_for_an_ib_without_statement(finance_user):
    ib_a, ib_b, account, other = backdated_move_after_october_approved(finance_user)
    services.compute_commissions(month=NOV, user=finance_user)
    assert sum(ln.fee for ln in adjustment_lines(ib_b)) == D("5000.00")
    approve_month(NOV, finance_user, other)
    trade(account, dt.date(2026, 12, 2), "1000.00", "0.00")
    services.compute_commissions(month=DEC, user=finance_user)
    assert not StatementLine.objects.filter(statement__month=DEC, is_adjustment=True).exists()
    assert statement(ib_b, DEC).gross == D("1000.00")
    a_dec = statement(ib_a, DEC)  # only the negative base brought forward
    assert (a_dec.gross, a_dec.carried_in_base) == (D("0.00"), D("-4414.00"))


def test_a_late_trade_for_an_ib_without_statement_in_an_approved_month_is_paid_next_month(
    finance_user,
):
    other = f.staff_user("finance2", "finance")
    ib_a, ib_c = BrokerFactory(code="IBA"), BrokerFactory(code="IBC")
    trade(LinkFactory(broker=ib_a).account, dt.date(2026, 10, 5), "2000.00", "0.00")
    quiet = LinkFactory(broker=ib_c).account
    services.compute_commissions(month=OCT, user=finance_user)
    approve_month(OCT, finance_user, other)
    assert not CommissionStatement.objects.filter(broker=ib_c).exists()
    # Booked after October was approved: a trade of C's client on 28 October.
    trade(quiet, dt.date(2026, 10, 28), "800.00", "300.00", product="m", volume=4,
          turnover="12000.00")
    services.compute_commissions(month=NOV, user=finance_user)
    (late,) = adjustment_lines(ib_c)
    assert (late.account_id, late.product_code, late.trades, late.lots, late.turnover, late.fee,
            late.exchange_fee, late.net_retained) == (
        quiet.id, "m", 1, 4, D("12000.00"), D("800.00"), D("300.00"), D("500.00"))
    assert (late.original_month, late.original_statement, late.original_line) == (OCT, None, None)
    assert exports.line_row(late, account_label="X")[-1] == "2026-10"  # CSV `adjustment_of`
    assert statement(ib_c).gross == D("500.00")
    assert not adjustment_lines(ib_a)
