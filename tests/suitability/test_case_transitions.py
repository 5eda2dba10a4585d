"""The mismatch-case state machine (spec §5): every step, allowed and forbidden, per role."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from clients import roles
from clients.models import Task
from suitability import rules, services
from suitability.models import CaseTransition, MismatchCase
from tests import factories

from .factories import assess

STATES = list(rules.OPEN_STATES) + list(rules.TERMINAL_STATES)

# (action, from state, case result) → the actor who may do it; anything absent is forbidden.
ALLOWED = {
    ("give_notice", "open", "mismatch"): "manager",
    ("sign_warning", "notice_given", "mismatch"): "manager",
    ("submit_for_review", "warning_signed", "mismatch"): "manager",
    ("withdraw", "open", "mismatch"): "manager",
    ("withdraw", "notice_given", "mismatch"): "manager",
    ("withdraw", "warning_signed", "mismatch"): "manager",
    ("withdraw", "under_review", "mismatch"): "manager",
    ("accept", "under_review", "mismatch"): "compliance",
    ("reject", "under_review", "mismatch"): "compliance",
    ("resolve_by_reassessment", "under_review", "mismatch"): "compliance",
    ("reject", "under_review", "prohibited"): "compliance",
    ("resolve_by_reassessment", "under_review", "prohibited"): "compliance",
}


@pytest.mark.parametrize(
    "action,state,result,actor",
    list(itertools.product(rules.STEPS, STATES, ["mismatch", "prohibited"], ["manager", "compliance"])),
)
def test_each_step_from_each_state_for_each_actor(action, state, result, actor):
    expected = ALLOWED.get((action, state, result)) == actor
    try:
        to_state = rules.check_step(
            action, state=state, result=result, lowest=False, actors={actor},
            note="reason", evidence="DOC-1", signed_on=dt.date(2026, 11, 16),
        )
    except rules.TransitionError:
        assert not expected
    else:
        assert expected
        assert to_state == rules.STEPS[action].to_state


def test_the_lowest_category_can_never_sign_a_warning():
    with pytest.raises(rules.TransitionError, match="lowest"):
        rules.check_step("sign_warning", state="notice_given", result="mismatch", lowest=True,
                         actors={"manager"}, evidence="DOC", signed_on=dt.date(2026, 11, 16))


def test_prohibited_cases_start_under_review():
    assert rules.initial_state("prohibited") == "under_review"
    assert rules.initial_state("mismatch") == "open"


@pytest.mark.parametrize("missing,field", [("note", "note"), ("evidence", "evidence"), ("signed_on", "signed_on")])
def test_required_fields_are_named(missing, field):
    action = {"note": "accept", "evidence": "sign_warning", "signed_on": "sign_warning"}[missing]
    state = {"accept": "under_review", "sign_warning": "notice_given"}[action]
    kwargs = {"note": "why", "evidence": "DOC", "signed_on": dt.date(2026, 11, 16)}
    kwargs[missing] = "" if missing != "signed_on" else None
    actor = "compliance" if action == "accept" else "manager"
    with pytest.raises(rules.TransitionError) as caught:
        rules.check_step(action, state=state, result="mismatch", lowest=False, actors={actor}, **kwargs)
    assert caught.value.field == field


# --- through the service, with real users --------------------------------------------------


@pytest.fixture
def cast(manager_a, manager_b, branch_a, branch_manager_a, compliance_user, admin_user_role, finance_user):
    client = factories.ClientFactory(client_no="C9001", name="赵敏", manager=manager_a, branch=branch_a)
    account = factories.AccountFactory(account_id="80090001", client=client)
    assess(client, 2, on=dt.date(2026, 1, 5))
    return {
        "client": client, "account": account, "own_manager": manager_a, "other_manager": manager_b,
        "branch_manager": branch_manager_a, "compliance": compliance_user, "admin": admin_user_role,
        "finance": finance_user,
    }


def open_case(cast, product="IF2512"):
    check = services.presale_check(account=cast["account"], product=product, user=cast["own_manager"])
    return check.case


USERS = ["own_manager", "other_manager", "branch_manager", "compliance", "admin", "finance"]
PATH = [
    ("give_notice", {}, "own_manager"),
    ("sign_warning", {"evidence": "特别风险警示书 SW-2026-001", "signed_on": dt.date(2026, 11, 16)}, "own_manager"),
    ("submit_for_review", {}, "own_manager"),
    ("accept", {"note": "Client experienced; warning signed."}, "compliance"),
]


@pytest.mark.parametrize("step_index", range(len(PATH)))
@pytest.mark.parametrize("who", USERS)
def test_each_step_of_the_warning_path_per_role(cast, step_index, who):
    case = open_case(cast)
    for action, kwargs, actor in PATH[:step_index]:
        services.case_transition(case=case, user=cast[actor], action=action, **kwargs)
    action, kwargs, actor = PATH[step_index]
    before = MismatchCase.objects.get(pk=case.pk).state
    if who == actor:
        transition = services.case_transition(case=case, user=cast[who], action=action, **kwargs)
        assert (transition.from_state, transition.to_state) == (before, rules.STEPS[action].to_state)
        assert transition.by == cast[who]
    else:
        with pytest.raises(services.SuitabilityError):
            services.case_transition(case=case, user=cast[who], action=action, note="x", evidence="x",
                                     signed_on=dt.date(2026, 11, 16))
        assert MismatchCase.objects.get(pk=case.pk).state == before


def test_the_full_path_is_recorded_and_schedules_a_return_visit(cast):
    case = open_case(cast)
    for action, kwargs, actor in PATH:
        services.case_transition(case=case, user=cast[actor], action=action, **kwargs)
    case.refresh_from_db()
    assert case.state == "accepted" and case.closed_at is not None
    steps = list(CaseTransition.objects.filter(case=case).values_list("action", "from_state", "to_state"))
    assert steps == [
        ("open", "", "open"), ("give_notice", "open", "notice_given"),
        ("sign_warning", "notice_given", "warning_signed"),
        ("submit_for_review", "warning_signed", "under_review"), ("accept", "under_review", "accepted"),
    ]
    signed = CaseTransition.objects.get(case=case, action="sign_warning")
    assert (signed.evidence, signed.signed_on) == ("特别风险警示书 SW-2026-001", dt.date(2026, 11, 16))
    # IF is R4 sold to an ordinary investor on warning: a return visit within 5 business days
    task = Task.objects.get(kind="return_visit")
    assert (task.client, task.assignee, task.origin, task.source) == (cast["client"], cast["own_manager"], "system", case)
    assert task.due_on == rules.add_business_days(timezone.localdate(), 5)


def test_an_r3_acceptance_needs_no_return_visit(cast):
    case = open_case(cast, "rb")
    for action, kwargs, actor in PATH:
        services.case_transition(case=case, user=cast[actor], action=action, **kwargs)
    assert not Task.objects.filter(kind="return_visit").exists()


def test_a_prohibited_case_goes_to_compliance_and_cannot_be_withdrawn_or_accepted(cast):
    lowest = factories.ClientFactory(client_no="C9002", manager=cast["own_manager"])
    account = factories.AccountFactory(account_id="80090002", client=lowest)
    assess(lowest, 1, lowest=True, on=dt.date(2026, 1, 5))
    case = services.presale_check(account=account, product="rb", user=cast["own_manager"]).case
    assert (case.result, case.state) == ("prohibited", "under_review")
    for action, user in [("withdraw", "own_manager"), ("accept", "compliance"), ("give_notice", "own_manager")]:
        with pytest.raises(services.SuitabilityError):
            services.case_transition(case=case, user=cast[user], action=action, note="x")
    services.case_transition(case=case, user=cast["compliance"], action="reject", note="Lowest category.")
    case.refresh_from_db()
    assert case.state == "rejected"
    # rejected: the product is now closed to the client, even after a higher assessment
    assess(lowest, 5, on=dt.date(2026, 2, 1))
    again = services.check(client=lowest, product="rb")
    assert again.outcome.result == "prohibited"


def test_resolution_by_reassessment_needs_an_assessment_that_resolves_it(cast):
    unassessed = factories.ClientFactory(client_no="C9003", manager=cast["own_manager"])
    account = factories.AccountFactory(account_id="80090003", client=unassessed)
    case = services.presale_check(account=account, product="cu", user=cast["own_manager"]).case
    assert case.result == "prohibited"
    with pytest.raises(services.SuitabilityError, match="does not resolve"):
        services.case_transition(case=case, user=cast["compliance"], action="resolve_by_reassessment",
                                 note="new questionnaire")
    assess(unassessed, 3, on=dt.date(2026, 2, 1))
    services.case_transition(case=case, user=cast["compliance"], action="resolve_by_reassessment",
                             note="C3 now: R3 matches")
    case.refresh_from_db()
    assert case.state == "resolved_by_reassessment"


def test_a_second_presale_check_returns_the_open_case(cast):
    first = open_case(cast)
    second = open_case(cast, "IF2603")
    assert first.pk == second.pk
    assert MismatchCase.objects.count() == 1


def test_account_manager_roles_alone_do_not_make_a_manager_of_someone_elses_client(cast):
    case = open_case(cast)
    assert services.case_allowed_actions(case, cast["own_manager"]) == ["give_notice", "withdraw"]
    assert services.case_allowed_actions(case, cast["other_manager"]) == []
    assert services.case_allowed_actions(case, cast["compliance"]) == []
    both = factories.staff_user("am_and_compliance", roles.COMPLIANCE)
    assert services.case_allowed_actions(case, both) == []


# --- the client's state changes while the case is open -----------------------------------


def test_a_client_who_became_the_lowest_category_cannot_sign_or_be_accepted(cast):
    case = open_case(cast)  # C2 vs IF (R4): mismatch
    services.case_transition(case=case, user=cast["own_manager"], action="give_notice")
    assess(cast["client"], 1, lowest=True, on=timezone.localdate())  # e.g. civil capacity lost
    case.refresh_from_db()
    assert services.case_allowed_actions(case, cast["own_manager"]) == ["withdraw"]
    with pytest.raises(services.SuitabilityError, match="lowest risk category"):
        services.case_transition(case=case, user=cast["own_manager"], action="sign_warning",
                                 evidence="SW-9", signed_on=timezone.localdate())
    assert MismatchCase.objects.get(pk=case.pk).state == "notice_given"


def test_a_signed_warning_is_not_accepted_once_the_assessment_has_expired(cast):
    case = open_case(cast)
    for action, kwargs, actor in PATH[:3]:
        services.case_transition(case=case, user=cast[actor], action=action, **kwargs)
    # the only assessment expires: the client is unassessed, the warning path needs a level
    from suitability.models import Assessment

    Assessment.objects.filter(client=cast["client"]).update(expires_on=timezone.localdate())
    case.refresh_from_db()
    assert services.case_allowed_actions(case, cast["compliance"]) == ["reject", "resolve_by_reassessment"]
    with pytest.raises(services.SuitabilityError, match="no valid assessment"):
        services.case_transition(case=case, user=cast["compliance"], action="accept", note="ok")
    services.case_transition(case=case, user=cast["compliance"], action="reject", note="Assessment expired.")
    assert MismatchCase.objects.get(pk=case.pk).state == "rejected"


def test_a_new_assessment_at_a_known_level_lets_the_warning_path_go_on(cast):
    case = open_case(cast)
    services.case_transition(case=case, user=cast["own_manager"], action="give_notice")
    assess(cast["client"], 1, lowest=True, on=timezone.localdate() - dt.timedelta(days=2))
    assess(cast["client"], 3, on=timezone.localdate())  # a correction: C3, still below R4
    services.case_transition(case=case, user=cast["own_manager"], action="sign_warning",
                             evidence="SW-10", signed_on=timezone.localdate())
    assert MismatchCase.objects.get(pk=case.pk).state == "warning_signed"


def test_the_case_page_says_the_product_became_prohibited(cast, client):
    case = open_case(cast)
    services.case_transition(case=case, user=cast["own_manager"], action="give_notice")
    client.force_login(cast["own_manager"])
    assert 'id="prohibited-now"' not in client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assess(cast["client"], 1, lowest=True, on=timezone.localdate())
    page = client.get(f"/suitability/cases/{case.pk}/").content.decode()
    assert 'id="prohibited-now"' in page and "no longer be signed or accepted" in page
    assert 'data-action="sign_warning"' not in page and 'data-action="withdraw"' in page


def test_a_signing_date_in_the_future_is_refused(cast):
    case = open_case(cast)
    services.case_transition(case=case, user=cast["own_manager"], action="give_notice")
    with pytest.raises(services.SuitabilityError) as caught:
        services.case_transition(case=case, user=cast["own_manager"], action="sign_warning", evidence="SW-11",
                                 signed_on=timezone.localdate() + dt.timedelta(days=1))
    assert "signed_on" in caught.value.message_dict
    assert MismatchCase.objects.get(pk=case.pk).state == "notice_given"


def test_the_opening_step_reads_in_the_readers_language(cast):
    from django.utils import translation

    from suitability import selectors

    with translation.override("zh-hans"):  # opened by a manager working in Chinese
        case = open_case(cast)
    with translation.override("en"):
        assert selectors.case_timeline(case)[0].note == "Pre-sale check: C2 vs R4"
