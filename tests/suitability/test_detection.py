"""Mismatch cases detected in imported trades (spec §5 source b), through the real importer."""

from __future__ import annotations

import datetime as dt

import pytest

from clients.models import Trade
from suitability import selectors, services
from suitability.models import CaseTransition, MismatchCase, ProcessedTradeBatch

from .conftest import DATA

ASSESSMENTS = """client_no,investor_category,professional_class,risk_level,lowest_category,score,assessed_on,expires_on,questionnaire
C0001,普通,,C3,N,48,2025-06-01,,P-2017.1
C0002,ordinary,,C2,N,30,2025-06-01,,P-2017.1
C0003,普通,,C1,是,0,2025-06-01,,P-2017.1
C0006,ordinary,,C4,N,70,2026-10-12,,P-2017.1
C0004,ordinary,,C5,N,90,2023-01-10,2025-01-10,I-2017.1
"""


@pytest.fixture
def assessed_book(sample_book, import_file_now, tmp_path):
    path = tmp_path / "assessments.csv"
    path.write_text(ASSESSMENTS, encoding="utf-8")
    batch = import_file_now("assessments", path)
    assert (batch.status, batch.created) == ("imported", 5)
    return sample_book


def cases_by_client():
    return {
        (c.client.client_no, c.product_key): (c.result, c.state, c.client_level, c.product_level,
                                           selectors.case_trades(c).count())
        for c in MismatchCase.objects.select_related("client")
    }


EXPECTED = {
    # C0001 is C3: IF and sc are R4 → mismatch; m, i, TA, cu, rb (R3) match.
    ("C0001", "CFFEX:IF"): ("mismatch", "open", "C3", 4, 3),
    ("C0001", "INE:sc"): ("mismatch", "open", "C3", 4, 3),
    # C0002 is C2: every futures product is above it.
    ("C0002", "DCE:m"): ("mismatch", "open", "C2", 3, 3),
    ("C0002", "SHFE:cu"): ("mismatch", "open", "C2", 3, 2),
    ("C0002", "CFFEX:IF"): ("mismatch", "open", "C2", 4, 2),
    # C0003 is the lowest category: prohibited, straight to compliance.
    ("C0003", "CZCE:TA"): ("prohibited", "under_review", "C1 lowest", 3, 3),
    ("C0003", "DCE:i"): ("prohibited", "under_review", "C1 lowest", 3, 3),
    ("C0003", "DCE:m"): ("prohibited", "under_review", "C1 lowest", 3, 1),
    ("C0003", "INE:sc"): ("prohibited", "under_review", "C1 lowest", 4, 3),
    ("C0003", "SHFE:cu"): ("prohibited", "under_review", "C1 lowest", 3, 1),
    ("C0003", "SHFE:rb"): ("prohibited", "under_review", "C1 lowest", 3, 1),
    # C0004's assessment expired on 2025-01-10: unassessed → prohibited.
    ("C0004", "SHFE:cu"): ("prohibited", "under_review", "unassessed", 3, 9),
    # C0005 is a professional (declared by the back office); C0006 is C4 trading IF (R4).
}


def test_a_trades_import_opens_one_case_per_client_and_product(assessed_book, import_file_now):
    batch = import_file_now("trades", DATA / "trades_canonical.csv")
    assert (batch.status, batch.created) == ("imported", 51)
    assert cases_by_client() == EXPECTED
    assert ProcessedTradeBatch.objects.get(batch=batch).mismatched_trades == 34
    # the case record is the opening (no transition row for 12 system openings); every
    # case's timeline starts with it: by the system, in the state it opened in, from the trades
    assert not CaseTransition.objects.exists()
    for case in MismatchCase.objects.all():
        opening = selectors.case_timeline(case)[0]
        assert (opening.action, opening.by, opening.from_state, opening.to_state, opening.at) == (
            "open", None, "", case.state, case.opened_at)
        assert opening.evidence == f"trades of {case.first_trading_day}"
        assert opening.note == f"Imported trades: {case.client_level} vs R{case.product_level}"


@pytest.mark.parametrize("recorded", [True, False], ids=["batch-record", "scan"])
def test_products_and_days_from_the_batch_record_or_a_scan_find_the_same(assessed_book, import_file_now,
                                                                         monkeypatch, recorded):
    from clients.importers import kinds

    if not recorded:  # a batch without the importer's record of what it holds is scanned
        monkeypatch.setattr(kinds, "_holds", lambda products, days: {})
    batch = import_file_now("trades", DATA / "trades_canonical.csv")
    assert ("products" in batch.report["extra"]) is recorded
    assert cases_by_client() == EXPECTED
    processed = ProcessedTradeBatch.objects.get(batch=batch)
    assert (processed.trades, processed.mismatched_trades) == (51, 34)


def test_a_detected_case_shows_its_opening_then_its_steps(assessed_book, import_file_now, client,
                                                         compliance_user):
    import_file_now("trades", DATA / "trades_canonical.csv")
    case = MismatchCase.objects.get(client__client_no="C0004", product_key="SHFE:cu")
    services.case_transition(case=case, user=compliance_user, action="reject", note="No valid assessment.")
    client.force_login(compliance_user)
    detail = client.get(f"/api/v1/suitability/cases/{case.pk}/").json()
    steps = [(t["action"], t["from_state"], t["to_state"], t["by"]) for t in detail["transitions"]]
    assert steps == [("open", "", "under_review", None), ("reject", "under_review", "rejected", "compliance")]
    assert detail["transitions"][0]["evidence"] == "trades of 2026-11-16"
    assert client.get(f"/api/v1/suitability/cases/{case.pk}/transitions/").json() == detail["transitions"]
    page = client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assert page.index('data-action="open"') < page.index('data-action="reject"')


def test_detection_is_idempotent(assessed_book, import_file_now):
    import_file_now("trades", DATA / "trades_canonical.csv")
    again = services.detect_mismatches_in_new_trades()
    assert again == {"batches": 0, "trades": 0, "mismatched_trades": 0, "cases_opened": 0}
    # the same trades in another file's shape add no trade and no case
    ctp = import_file_now("trades", DATA / "trades_ctp.csv")
    assert ctp.status == "imported"
    assert MismatchCase.objects.count() == 12
    assert Trade.objects.count() == 51


def test_later_trades_attach_to_the_open_case(assessed_book, import_file_now, tmp_path):
    import_file_now("trades", DATA / "trades_canonical.csv")
    case = MismatchCase.objects.get(client__client_no="C0001", product_key="CFFEX:IF")
    more = tmp_path / "more.csv"
    more.write_text(
        "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010001,2026-11-19,CFFEX,IF2512,B,O,3900,1,1170000,30,99000001\n"
        "80010001,2026-11-19,SHFE,rb2601,B,O,3100,1,31000,5,99000002\n",
        encoding="utf-8",
    )
    batch = import_file_now("trades", more)
    assert batch.status == "imported", batch.report
    assert MismatchCase.objects.count() == 12
    trades = selectors.case_trades(case)
    assert trades.count() == selectors.case_trade_count(case) == 4
    assert trades.order_by("-trading_day").first().trading_day == dt.date(2026, 11, 19)
    # the rb fill of the same account and day is within C3: not the case's
    assert set(trades.values_list("product_code", flat=True)) == {"IF"}


def test_an_accepted_case_keeps_later_trades_at_the_same_level_only(assessed_book, import_file_now, tmp_path,
                                                                   manager_a, compliance_user):
    from clients.models import Client

    from .factories import assess

    import_file_now("trades", DATA / "trades_canonical.csv")
    person = Client.objects.get(client_no="C0001")
    person.manager = manager_a
    person.save()
    case = MismatchCase.objects.get(client=person, product_key="CFFEX:IF")  # C3 vs R4
    for action, fields, user in [
        ("give_notice", {}, manager_a),
        ("sign_warning", {"evidence": "SW-1", "signed_on": dt.date(2026, 11, 18)}, manager_a),
        ("submit_for_review", {}, manager_a),
        ("accept", {"note": "Experienced; warning signed."}, compliance_user),
    ]:
        case = services.case_transition(case=case, user=user, action=action, **fields).case
    header = "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
    same_level = tmp_path / "same.csv"
    same_level.write_text(header + "80010001,2026-11-19,CFFEX,IF2512,B,O,3900,1,1170000,30,99000011\n", encoding="utf-8")
    import_file_now("trades", same_level)
    # the signed warning still holds at C3: the trade attaches to the accepted case
    assert MismatchCase.objects.filter(client=person, product_key="CFFEX:IF").count() == 1
    assert selectors.case_trades(case).filter(trading_day=dt.date(2026, 11, 19)).count() == 1
    # the client is re-assessed C2: the warning signed at C3 no longer covers → a new case
    assess(person, 2, on=dt.date(2026, 11, 19))
    lower = tmp_path / "lower.csv"
    lower.write_text(header + "80010001,2026-11-20,CFFEX,IF2512,B,O,3900,1,1170000,30,99000012\n", encoding="utf-8")
    import_file_now("trades", lower)
    cases = MismatchCase.objects.filter(client=person, product_key="CFFEX:IF").order_by("id")
    assert [(c.state, c.client_level, selectors.case_trade_count(c)) for c in cases] == [
        ("accepted", "C3", selectors.case_trade_count(case)), ("open", "C2", 1)]


def test_a_closed_case_does_not_swallow_new_trades(assessed_book, import_file_now, tmp_path, compliance_user):
    import_file_now("trades", DATA / "trades_canonical.csv")
    case = MismatchCase.objects.get(client__client_no="C0004", product_key="SHFE:cu")
    services.case_transition(case=case, user=compliance_user, action="reject", note="No valid assessment.")
    more = tmp_path / "more.csv"
    more.write_text(
        "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010004,2026-11-19,SHFE,cu2601,S,C,80000,1,400000,20,99000003\n",
        encoding="utf-8",
    )
    import_file_now("trades", more)
    cases = MismatchCase.objects.filter(client__client_no="C0004", product_key="SHFE:cu").order_by("id")
    assert [(c.state, selectors.case_trades(c).count()) for c in cases] == [("rejected", 9), ("under_review", 1)]


def test_a_new_valid_assessment_before_the_trading_day_prevents_the_case(assessed_book, import_file_now):
    from clients.models import Client

    from .factories import assess

    assess(Client.objects.get(client_no="C0002"), 4, on=dt.date(2026, 11, 1))
    import_file_now("trades", DATA / "trades_canonical.csv")
    assert not MismatchCase.objects.filter(client__client_no="C0002").exists()


def test_detection_waits_until_suitability_results_exist(sample_book, import_file_now, tmp_path):
    import_file_now("trades", DATA / "trades_canonical.csv")
    assert not MismatchCase.objects.exists()
    path = tmp_path / "assessments.csv"
    path.write_text(ASSESSMENTS, encoding="utf-8")
    import_file_now("assessments", path)
    summary = services.detect_mismatches_in_new_trades()
    assert (summary["batches"], summary["trades"], summary["cases_opened"]) == (1, 51, 12)
    assert cases_by_client() == EXPECTED


def test_a_small_batch_computes_levels_only_for_its_clients(assessed_book, import_file_now, monkeypatch):
    monkeypatch.setattr(services, "ALL_CLIENTS_RATIO", 0)  # force the filtered path
    import_file_now("trades", DATA / "trades_canonical.csv")
    assert cases_by_client() == EXPECTED


def test_a_case_lists_exactly_the_trades_above_the_level(assessed_book, import_file_now):
    import_file_now("trades", DATA / "trades_canonical.csv")
    # C0001 (C3) traded IF (R4) and rb/m/… (R3) on the same days: only the IF fills belong
    case = MismatchCase.objects.get(client__client_no="C0001", product_key="CFFEX:IF")
    expected = Trade.objects.filter(account__client__client_no="C0001", product_code="IF")
    assert set(selectors.case_trades(case).values_list("id", flat=True)) == set(expected.values_list("id", flat=True))
    assert Trade.objects.filter(account__client__client_no="C0001").exclude(product_code="IF").exists()
    lots = sum(expected.values_list("volume", flat=True))
    assert sum(case.trade_days.values_list("lots", flat=True)) == lots


def test_a_product_outside_the_reference_table_counts_r5_and_is_flagged(assessed_book):
    from clients.models import Account
    from tests.factories import ImportBatchFactory, TradeFactory

    account = Account.objects.get(client__client_no="C0006")  # C4: R4 is fine, R5 is not
    batch = ImportBatchFactory()
    TradeFactory(batch=batch, account=account, exchange="SHFE", instrument="zz2601", product_code="zz")
    TradeFactory(batch=batch, account=account, exchange="SHFE", instrument="zz2602", product_code="zz")
    summary = services.detect_mismatches_in_new_trades()
    assert (summary["mismatched_trades"], summary["cases_opened"]) == (2, 1)
    case = MismatchCase.objects.get()
    assert (case.product_key, case.product_level, case.product_flagged, case.client_level) == (
        "SHFE:zz", 5, True, "C4")
    assert selectors.case_trades(case).count() == 2


def test_the_admin_shows_a_detected_case_s_whole_timeline(assessed_book, import_file_now, client,
                                                          compliance_user, admin_user_role):
    import_file_now("trades", DATA / "trades_canonical.csv")
    case = MismatchCase.objects.get(client__client_no="C0004", product_key="SHFE:cu")
    services.case_transition(case=case, user=compliance_user, action="reject", note="No valid assessment.")
    client.force_login(admin_user_role)
    page = client.get(f"/admin/suitability/mismatchcase/{case.pk}/change/").content.decode()
    timeline = page[page.index('<table class="table" id="timeline">'):]
    timeline = timeline[:timeline.index("</table>")]
    # the opening is the case record itself (no stored row), then the stored reject step
    steps = timeline.split("<tr data-action=")[1:]
    assert [step.split(">")[0] for step in steps] == ['"open"', '"reject"']
    assert timeline.index("trades of 2026-11-16") < timeline.index("No valid assessment.")
    assert "<td>system</td>" in steps[0] and "<td>compliance</td>" in steps[1]


def test_the_case_page_lists_the_attached_trades(assessed_book, import_file_now, client, compliance_user):
    import_file_now("trades", DATA / "trades_canonical.csv")
    case = MismatchCase.objects.get(client__client_no="C0001", product_key="CFFEX:IF")
    client.force_login(compliance_user)
    html = client.get(case.get_absolute_url()).content.decode()
    instruments = set(Trade.objects.filter(account__client__client_no="C0001").values_list("instrument", flat=True))
    if_instruments = {i for i in instruments if i.startswith("IF")}
    assert if_instruments and all(i in html for i in if_instruments)
    assert not any(i in html for i in instruments - if_instruments)
    assert "<dd>3</dd>" in html  # trades attached
    assert 'id="trades-shown"' not in html


def test_the_case_page_says_when_it_lists_only_the_first_trades(assessed_book, import_file_now, client,
                                                                 compliance_user, monkeypatch):
    from suitability import views

    monkeypatch.setattr(views, "CASE_TRADES_SHOWN", 2)
    import_file_now("trades", DATA / "trades_canonical.csv")
    case = MismatchCase.objects.get(client__client_no="C0001", product_key="CFFEX:IF")
    client.force_login(compliance_user)
    html = client.get(case.get_absolute_url()).content.decode()
    assert '<span class="muted" id="trades-shown">the first 2 of 3</span>' in html
    assert html.count("<td>IF") == 2


def c0001_with_if_rejected(import_file_now, manager, compliance_user):
    """The sample trades imported; C0001 (C3, managed by `manager`) has his IF case taken
    through the warning path and rejected by compliance: IF is closed to him."""
    from clients.models import Client

    import_file_now("trades", DATA / "trades_canonical.csv")
    person = Client.objects.get(client_no="C0001")
    person.manager = manager
    person.save()
    case = MismatchCase.objects.get(client=person, product_key="CFFEX:IF")
    for action, fields, user in [
        ("give_notice", {}, manager),
        ("sign_warning", {"evidence": "SW-1", "signed_on": dt.date(2026, 11, 18)}, manager),
        ("submit_for_review", {}, manager),
        ("reject", {"note": "Restrict IF: too much for this client."}, compliance_user),
    ]:
        services.case_transition(case=case, user=user, action=action, **fields)
    return person


def test_trades_in_a_product_compliance_closed_open_a_prohibited_case(assessed_book, import_file_now, tmp_path,
                                                                      manager_a, compliance_user):

    from .factories import assess

    person = c0001_with_if_rejected(import_file_now, manager_a, compliance_user)
    more = tmp_path / "more.csv"
    more.write_text(
        "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010001,2026-11-19,CFFEX,IF2512,B,O,3900,1,1170000,30,99000021\n",
        encoding="utf-8",
    )
    import_file_now("trades", more)
    # as a pre-sale check says: the product is closed to the client, so compliance sees it
    cases = MismatchCase.objects.filter(client=person, product_key="CFFEX:IF").order_by("id")
    assert [(c.result, c.state, c.client_level, selectors.case_trade_count(c)) for c in cases] == [
        ("mismatch", "rejected", "C3", 3), ("prohibited", "under_review", "C3", 1)]
    assert selectors.case_timeline(cases[1])[0].note == "Imported trades: C3 vs R4 (closed)"
    # more trades while compliance reviews it attach to that case; the product stays closed
    again = tmp_path / "again.csv"
    again.write_text(
        "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010001,2026-11-20,CFFEX,IF2512,S,C,3910,1,1173000,30,99000022\n",
        encoding="utf-8",
    )
    import_file_now("trades", again)
    assert [selectors.case_trade_count(c) for c in cases] == [3, 2]
    assert services.check(client=person, product="IF2512").outcome.result == "prohibited"
    # a new assessment high enough lets compliance reopen the product
    assess(person, 4, on=dt.date(2026, 11, 21))
    services.case_transition(case=cases[1], user=compliance_user, action="resolve_by_reassessment",
                             note="C4 now: IF matches")
    assert services.check(client=person, product="IF2512").outcome.result == "match"


def test_an_assessment_from_before_an_opt_down_does_not_count(assessed_book, import_file_now):
    from clients.models import Client
    from suitability.models import InvestorCategoryRecord, RuleSet

    from .factories import make_professional

    person = Client.objects.get(client_no="C0006")  # assessed C4 on 2026-10-12, trades IF (R4)
    make_professional(person, "B", on=dt.date(2026, 10, 20))
    InvestorCategoryRecord.objects.create(
        client=person, category="ordinary", legal_basis="opt_down", evidence="written notice",
        effective_from=dt.date(2026, 11, 2), rule_set=RuleSet.current(),
    )
    import_file_now("trades", DATA / "trades_canonical.csv")
    # back to ordinary by his own notice: a new questionnaire is due before anything above R1
    assert services.check(client=person, product="IF2512", on=dt.date(2026, 11, 16)).outcome.result == "prohibited"
    case = MismatchCase.objects.get(client=person)
    assert (case.product_key, case.result, case.state, case.client_level, selectors.case_trade_count(case)) == (
        "CFFEX:IF", "prohibited", "under_review", "unassessed", 3)


def test_a_closed_product_stays_closed_when_the_clients_level_rises(assessed_book, import_file_now, tmp_path,
                                                                   manager_a, compliance_user):

    from .factories import assess

    person = c0001_with_if_rejected(import_file_now, manager_a, compliance_user)
    assess(person, 4, on=dt.date(2026, 11, 19))  # IF (R4) is now within his level
    more = tmp_path / "more.csv"
    more.write_text(
        "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010001,2026-11-20,CFFEX,IF2512,B,O,3900,2,2340000,30,99000031\n"
        "80010001,2026-11-20,CFFEX,IF2512,S,C,3905,1,1171500,30,99000032\n"
        "80010001,2026-11-20,SHFE,rb2601,B,O,3100,1,31000,5,99000033\n",
        encoding="utf-8",
    )
    batch = import_file_now("trades", more)
    # still closed, as a pre-sale check says: the IF fills go to compliance, the rb fill does not
    assert services.check(client=person, product="IF2512").outcome.result == "prohibited"
    new = MismatchCase.objects.filter(client=person, product_key="CFFEX:IF").latest("id")
    assert (new.result, new.state, new.client_level, new.first_trading_day) == (
        "prohibited", "under_review", "C4", dt.date(2026, 11, 20))
    assert selectors.case_trade_count(new) == 2
    assert ProcessedTradeBatch.objects.get(batch=batch).mismatched_trades == 2
    # a new assessment alone does not reopen it: the level allows IF, so compliance may now
    services.case_transition(case=new, user=compliance_user, action="resolve_by_reassessment", note="C4: IF fits")
    assert services.check(client=person, product="IF2512").outcome.result == "match"


def test_a_closure_is_not_lifted_while_the_level_is_still_below_the_product(assessed_book, import_file_now,
                                                                            tmp_path, manager_a, compliance_user):

    person = c0001_with_if_rejected(import_file_now, manager_a, compliance_user)
    more = tmp_path / "more.csv"
    more.write_text(
        "account_id,trading_day,exchange,instrument,direction,offset,price,volume,turnover,fee,trade_id\n"
        "80010001,2026-11-20,CFFEX,IF2512,B,O,3900,1,1170000,30,99000041\n",
        encoding="utf-8",
    )
    import_file_now("trades", more)
    closed_case = MismatchCase.objects.filter(client=person, product_key="CFFEX:IF").latest("id")
    assert services.case_allowed_actions(closed_case, compliance_user) == ["reject", "resolve_by_reassessment"]
    with pytest.raises(services.SuitabilityError, match="does not resolve"):
        services.case_transition(case=closed_case, user=compliance_user, action="resolve_by_reassessment",
                                 note="no new assessment")
