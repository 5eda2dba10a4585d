"""Services: assessments, expiry, re-assessment cases, tasks, conversions, return visits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clients.models import Task
from suitability import rules, selectors, services
from suitability.models import Conversion, InvestorCategoryRecord, MismatchCase, ReturnVisit
from tests import factories

from .factories import assess, make_professional
from .test_scoring import answers_scoring


@pytest.fixture
def person(manager_a, branch_a):
    return factories.ClientFactory(client_no="C5001", name="周杰", manager=manager_a, branch=branch_a)


def test_an_assessment_expires_after_24_months(person):
    a = assess(person, 4, on=dt.date(2024, 2, 29))
    assert a.expires_on == dt.date(2026, 2, 28)
    assert selectors.investor_state(person, dt.date(2026, 2, 27)).state.level == 4
    expired = selectors.investor_state(person, dt.date(2026, 2, 28)).state
    assert (expired.level, expired.label) == (None, "unassessed")
    assert rules.match(expired, 3).result == "prohibited"
    assert rules.match(expired, 1).result == "match"


def test_the_validity_comes_from_the_rule_set(person):
    from suitability.models import RuleSet

    RuleSet.objects.create(version="2026.1", source="firm policy", effective_from=dt.date(2026, 1, 1),
                           validity_months=12)
    a = services.assessment_create(client=person, answers=answers_scoring(50), assessed_on=dt.date(2026, 3, 1))
    assert (a.expires_on, a.rule_set.version) == (dt.date(2027, 3, 1), "2026.1")


def test_a_lower_reassessment_opens_cases_for_recently_traded_products(person, manager_a):
    account = factories.AccountFactory(client=person)
    today = timezone.localdate()
    factories.TradeFactory(account=account, trading_day=today - dt.timedelta(days=10), exchange="SHFE",
                           instrument="rb2605", product_code="rb")
    factories.TradeFactory(account=account, trading_day=today - dt.timedelta(days=10), exchange="CFFEX",
                           instrument="IF2512", product_code="IF")
    factories.TradeFactory(account=account, trading_day=today - dt.timedelta(days=200), exchange="INE",
                           instrument="sc2601", product_code="sc")
    services.assessment_create(client=person, answers=answers_scoring(85), entered_by=manager_a,
                               assessed_on=today - dt.timedelta(days=30))
    assert not MismatchCase.objects.exists()
    services.assessment_create(client=person, answers=answers_scoring(40), entered_by=manager_a)  # C3
    cases = {(c.product_key, c.source, c.result, c.client_level) for c in MismatchCase.objects.all()}
    # rb (R3) still matches C3; IF (R4) does not; sc was traded too long ago
    assert cases == {("CFFEX:IF", "reassessment", "mismatch", "C3")}


def test_a_higher_reassessment_opens_nothing(person, manager_a):
    account = factories.AccountFactory(client=person)
    factories.TradeFactory(account=account, trading_day=timezone.localdate(), exchange="CFFEX",
                           instrument="IF2512", product_code="IF")
    assess(person, 2, on=timezone.localdate() - dt.timedelta(days=5))
    services.assessment_create(client=person, answers=answers_scoring(60), entered_by=manager_a)
    assert not MismatchCase.objects.exists()


def test_raise_due_tasks_for_expiring_assessments_once(person, manager_a):
    as_of = dt.date(2026, 11, 20)
    assess(person, 3, on=dt.date(2024, 12, 10))  # expires 2026-12-10: within 30 days
    other = factories.ClientFactory(manager=manager_a)
    assess(other, 3, on=dt.date(2025, 6, 1))  # expires 2027-06-01: not yet
    first = services.raise_due_tasks(as_of=as_of)
    assert (first["reassessment_tasks"], first["reassessment_skipped"]) == (1, 0)
    task = Task.objects.get(kind="reassessment")
    assert (task.client, task.assignee, task.due_on, task.origin) == (person, manager_a, dt.date(2026, 12, 10), "system")
    again = services.raise_due_tasks(as_of=as_of)
    assert (again["reassessment_tasks"], again["reassessment_skipped"]) == (0, 1)
    assert Task.objects.filter(kind="reassessment").count() == 1


def test_a_new_assessment_closes_the_reassessment_task(person, manager_a):
    assess(person, 3, on=dt.date(2024, 12, 10))
    services.raise_due_tasks(as_of=dt.date(2026, 11, 20))
    services.assessment_create(client=person, answers=answers_scoring(40), entered_by=manager_a)
    assert Task.objects.get(kind="reassessment").status == "done"


def test_return_visit_recorded_and_due_counts(person, manager_a, compliance_user):
    account = factories.AccountFactory(client=person)
    assess(person, 3, on=dt.date(2026, 1, 5))
    case = services.presale_check(account=account, product="sc", user=manager_a).case
    for action, kw, who in [("give_notice", {}, manager_a),
                            ("sign_warning", {"evidence": "SW-9", "signed_on": dt.date(2026, 11, 16)}, manager_a),
                            ("submit_for_review", {}, manager_a), ("accept", {"note": "ok"}, compliance_user)]:
        services.case_transition(case=case, user=who, action=action, **kw)
    task = Task.objects.get(kind="return_visit")
    due = services.raise_due_tasks(as_of=task.due_on)
    assert (due["return_visits_due"], due["return_visit_tasks"]) == (1, 0)
    visit = services.return_visit_record(task=task, user=manager_a, outcome="confirmed", note="understands")
    task.refresh_from_db()
    assert (task.status, visit.case) == ("done", case)
    assert ReturnVisit.objects.count() == 1
    assert services.raise_due_tasks(as_of=task.due_on)["return_visits_due"] == 0


def test_business_days_skip_weekends():
    assert rules.add_business_days(dt.date(2026, 11, 20), 5) == dt.date(2026, 11, 27)  # Fri → Fri
    assert rules.add_business_days(dt.date(2026, 11, 21), 1) == dt.date(2026, 11, 23)  # Sat → Mon


# --- conversions -----------------------------------------------------------------------------


def test_thresholds_art11_and_art8():
    ok = rules.check_thresholds(rule="art11", applicant_type="person", financial_assets=3_000_000, experience_years=1)
    assert ok.passed is True
    income = rules.check_thresholds(rule="art11", applicant_type="person", average_income=300_000, work_years=1)
    assert income.passed is True
    short = rules.check_thresholds(rule="art11", applicant_type="person", financial_assets=2_999_999.99,
                                   average_income=299_999, experience_years=5)
    assert short.passed is False
    no_experience = rules.check_thresholds(rule="art11", applicant_type="person", financial_assets=9_000_000)
    assert no_experience.passed is False
    inst = rules.check_thresholds(rule="art11", applicant_type="institution", net_assets=10_000_000,
                                  financial_assets=5_000_000, experience_years=1)
    assert inst.passed is True
    assert rules.check_thresholds(rule="art8", applicant_type="institution", net_assets=19_999_999,
                                  financial_assets=10_000_000, experience_years=2).passed is False
    assert rules.check_thresholds(rule="art8", applicant_type="person", financial_assets=5_000_000,
                                  experience_years=2).passed is True


def test_ordinary_to_professional_needs_compliance(person, manager_a, compliance_user):
    conversion = services.conversion_submit(
        client=person, direction="to_professional", user=manager_a, financial_assets=3_500_000,
        experience_years=2, evidence="bank statements 2026-10", protections_explained=True,
    )
    assert (conversion.state, conversion.check_passed) == ("submitted", True)
    with pytest.raises(services.SuitabilityError):
        services.conversion_decide(conversion=conversion, user=manager_a, approve=True, reason="x")
    decided = services.conversion_decide(conversion=conversion, user=compliance_user, approve=True,
                                         reason="Thresholds met; protections explained.")
    assert decided.state == "approved"
    state = selectors.investor_state(person, timezone.localdate()).state
    assert (state.category, state.professional_class) == ("professional", "C")
    assert rules.match(state, 5).result == "match"


def test_compliance_may_refuse_but_never_approve_below_the_thresholds(person, manager_a, compliance_user):
    conversion = services.conversion_submit(client=person, direction="to_professional", user=manager_a,
                                            financial_assets=1_000_000, experience_years=3, evidence="proof",
                                            protections_explained=True)
    assert conversion.check_passed is False
    with pytest.raises(services.SuitabilityError, match="not met"):
        services.conversion_decide(conversion=conversion, user=compliance_user, approve=True, reason="VIP")
    refused = services.conversion_decide(conversion=conversion, user=compliance_user, approve=False,
                                         reason="Financial assets below 3,000,000.")
    assert refused.state == "refused"
    assert not InvestorCategoryRecord.objects.exists()


def test_class_b_opts_down_at_once_and_needs_a_questionnaire(person, manager_a):
    make_professional(person, "B")
    conversion = services.conversion_submit(client=person, direction="to_ordinary", user=manager_a,
                                            evidence="written notice 2026-11-16")
    assert conversion.state == "effective"
    state = selectors.investor_state(person, timezone.localdate()).state
    assert (state.category, state.level) == ("ordinary", None)
    assert rules.match(state, 2).result == "prohibited"  # a questionnaire first
    task = Task.objects.get(kind="reassessment")
    assert (task.client, task.due_on) == (person, timezone.localdate())


def test_class_a_cannot_opt_down(person, manager_a):
    make_professional(person, "A")
    with pytest.raises(services.SuitabilityError, match="Class A"):
        services.conversion_submit(client=person, direction="to_ordinary", user=manager_a)
    assert not Conversion.objects.exists()
