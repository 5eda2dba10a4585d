"""Classification decisions and conversions (spec §1): legal bases, opting down, the
applicant's type; and the checks on what staff type into assessments and checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from suitability import rules, selectors, services
from suitability.models import Assessment, Conversion, InvestorCategoryRecord, MismatchCase
from tests import factories

from .factories import assess, make_professional
from .test_scoring import answers_scoring


@pytest.fixture
def person(manager_a, branch_a):
    return factories.ClientFactory(client_no="C6001", name="王芳", manager=manager_a, branch=branch_a)


@pytest.fixture
def institution(manager_a, branch_a):
    return factories.ClientFactory(client_no="C6002", name="恒远贸易有限公司", client_type="institution",
                                   manager=manager_a, branch=branch_a)


# --- opting down -----------------------------------------------------------------------------


def test_after_opting_down_an_older_assessment_no_longer_counts(person, manager_a):
    assess(person, 4, on=timezone.localdate() - dt.timedelta(days=200))
    make_professional(person, "B", on=timezone.localdate() - dt.timedelta(days=100))
    services.conversion_submit(client=person, direction="to_ordinary", user=manager_a, evidence="written notice N-1")
    assert services.check(client=person, product="IF2512").outcome.result == "prohibited"
    assess(person, 4, on=timezone.localdate())  # the questionnaire taken after the notice
    assert services.check(client=person, product="IF2512").outcome.result == "match"


def test_opting_down_needs_the_written_notice(person, manager_a):
    make_professional(person, "B")
    with pytest.raises(services.SuitabilityError) as caught:
        services.conversion_submit(client=person, direction="to_ordinary", user=manager_a, evidence=" ")
    assert "evidence" in caught.value.message_dict
    assert not Conversion.objects.exists()


def test_a_professional_of_unrecorded_class_cannot_opt_down(person, manager_a):
    person.investor_category = "professional"  # the back office's word only: it may be class A
    person.save()
    with pytest.raises(services.SuitabilityError, match="class is not recorded"):
        services.conversion_submit(client=person, direction="to_ordinary", user=manager_a, evidence="notice")
    assert selectors.investor_state(person, timezone.localdate()).state.category == "professional"


# --- ordinary → professional: the client's own thresholds ------------------------------------------


def test_an_institution_cannot_apply_with_a_persons_thresholds(institution, manager_a):
    with pytest.raises(services.SuitabilityError) as caught:
        services.conversion_submit(client=institution, direction="to_professional", user=manager_a,
                                   applicant_type="person", average_income=300_000, experience_years=1,
                                   evidence="income proof", protections_explained=True)
    assert "applicant_type" in caught.value.message_dict
    conversion = services.conversion_submit(client=institution, direction="to_professional", user=manager_a,
                                            average_income=300_000, experience_years=1, evidence="income proof",
                                            protections_explained=True)
    assert (conversion.applicant_type, conversion.check_passed) == ("institution", False)


# --- classification records -------------------------------------------------------------------


@pytest.mark.parametrize("category,pclass,basis,person,field", [
    ("professional", "C", "opt_down", True, "legal_basis"),
    ("professional", "C", "art11_conversion", True, "legal_basis"),  # only through a conversion
    ("professional", "A", "art8_b_person", True, "legal_basis"),
    ("professional", "B", "art8_b_person", False, "legal_basis"),
    ("professional", "B", "art8_b_institution", True, "legal_basis"),
    ("professional", "", "art8_a", True, "professional_class"),
    ("ordinary", "", "art8_a", True, "legal_basis"),
    ("ordinary", "", "opt_down", True, "legal_basis"),  # only through a conversion
])
def test_a_classification_its_legal_basis_does_not_give_is_refused(category, pclass, basis, person, field):
    errors = rules.classification_errors(category=category, professional_class=pclass, legal_basis=basis,
                                         person=person, from_conversion=False, evidence="proof")
    assert list(errors) == [field]


@pytest.mark.parametrize("category,pclass,basis,person", [
    ("professional", "A", "art8_a", False),
    ("professional", "B", "art8_b_person", True),
    ("professional", "B", "art8_b_institution", False),
    ("professional", "B", "migrated", True),
    ("ordinary", "", "default_ordinary", True),
])
def test_a_classification_on_its_legal_basis_is_recorded(category, pclass, basis, person):
    assert rules.classification_errors(category=category, professional_class=pclass, legal_basis=basis,
                                       person=person, from_conversion=False, evidence="proof") == {}


def test_a_professional_classification_needs_its_evidence(person):
    with pytest.raises(services.SuitabilityError) as caught:
        services.category_record_create(client=person, category="professional", professional_class="B",
                                        legal_basis="art8_b_person")
    assert "evidence" in caught.value.message_dict
    assert not InvestorCategoryRecord.objects.exists()


def test_the_admin_names_the_field_of_a_wrong_legal_basis(client, admin_user_role, person):
    client.force_login(admin_user_role)
    response = client.post("/admin/suitability/investorcategoryrecord/add/", {
        "client": person.pk, "category": "professional", "professional_class": "C",
        "legal_basis": "art8_b_person", "evidence": "audit report", "effective_from": "2026-11-16", "note": "",
    })
    assert response.status_code == 200
    assert "This legal basis does not give that classification." in response.content.decode()
    assert not InvestorCategoryRecord.objects.exists()


# --- what staff type in -----------------------------------------------------------------------


@pytest.mark.parametrize("answers", ["abc", [1, 2], {"goal": {"x": 1}}])
def test_answers_of_the_wrong_shape_are_a_field_error(client, manager_a, person, answers):
    client.force_login(manager_a)
    response = client.post("/api/v1/suitability/assessments/", {"client": person.pk, "answers": answers},
                           content_type="application/json")
    assert response.status_code == 400
    assert "answers" in response.json()["errors"]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize("field", ["assessed_on", "client_signed_on"])
def test_an_assessment_dated_in_the_future_is_refused(client, manager_a, person, field):
    client.force_login(manager_a)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post("/api/v1/suitability/assessments/", {
        "client": person.pk, "answers": answers_scoring(56), field: tomorrow,
    }, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Assessment.objects.exists()


def test_a_correction_must_correct_the_same_clients_assessment(manager_a, person, branch_a):
    other = factories.ClientFactory(manager=manager_a, branch=branch_a)
    theirs = assess(other, 3)
    with pytest.raises(services.SuitabilityError) as caught:
        services.assessment_create(client=person, answers=answers_scoring(56), entered_by=manager_a,
                                   supersedes=theirs)
    assert "supersedes" in caught.value.message_dict


def test_a_presale_check_of_an_unknown_product_is_refused_and_opens_nothing(client, manager_a, person):
    account = factories.AccountFactory(client=person)
    client.force_login(manager_a)
    response = client.post("/api/v1/suitability/check/", {"account": account.account_id, "product": "xyz123"})
    assert response.status_code == 400
    assert "Unknown product “xyz123”" in response.json()["errors"]["product"][0]
    assert not MismatchCase.objects.exists()


@pytest.mark.parametrize("text,key", [("SHFE:RB", "SHFE:rb"), ("czce:ta", "CZCE:TA"), ("if2512", "CFFEX:IF")])
def test_products_are_found_whatever_the_case_typed(db, text, key):
    resolved = selectors.resolve_product(text)
    assert (resolved.product.key, resolved.product.flagged) == (key, False)


def test_the_check_page_names_an_unknown_product_on_its_field(client, manager_a, person):
    account = factories.AccountFactory(client=person)
    client.force_login(manager_a)
    page = client.post("/suitability/check/", {"account": account.account_id, "product": "xyz123"})
    assert page.status_code == 200
    assert "Unknown product “xyz123”" in page.content.decode()
    assert not MismatchCase.objects.exists()


def test_negative_amounts_in_a_conversion_are_refused(client, manager_a, person):
    client.force_login(manager_a)
    response = client.post("/api/v1/suitability/conversions/", {
        "client": person.pk, "direction": "to_professional", "financial_assets": "-5",
        "experience_years": "2", "evidence": "proof",
    })
    assert response.status_code == 400
    assert "financial_assets" in response.json()["errors"]
    assert not Conversion.objects.exists()


# --- the lowest category for another legal reason (spec §2) ---------------------------------


def test_another_legal_reason_makes_a_person_lowest_whatever_the_score(manager_a, person):
    assessment = services.assessment_create(client=person, answers=answers_scoring(90), entered_by=manager_a,
                                            lowest_other_reason="法院判决限制民事行为能力 court ruling 2026-10")
    assert (assessment.score, assessment.level, assessment.lowest) == (90, 1, True)
    assert assessment.lowest_reason == "法院判决限制民事行为能力 court ruling 2026-10"
    assert services.check(client=person, product="rb").outcome.result == "prohibited"


def test_only_a_natural_person_is_placed_in_the_lowest_category(manager_a, institution):
    with pytest.raises(services.SuitabilityError) as caught:
        services.assessment_create(client=institution, answers={}, entered_by=manager_a,
                                   lowest_other_reason="reason")
    assert "lowest_other_reason" in caught.value.message_dict


def test_the_questionnaire_page_records_another_legal_reason(client, manager_a, person):
    client.force_login(manager_a)
    url = f"/suitability/clients/{person.pk}/questionnaire/"
    assert "lowest_other_reason" in client.get(url).content.decode()
    data = {f"q_{k}": v for k, v in answers_scoring(70).items()}
    data["lowest_other_reason"] = "监护人代理 guardian acts for the client"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assessment = Assessment.objects.get(client=person)
    assert (assessment.level, assessment.lowest, assessment.lowest_reason) == (
        1, True, "监护人代理 guardian acts for the client")


def test_the_client_record_follows_the_classification_in_force(client, manager_a, compliance_user, person):
    conversion = services.conversion_submit(client=person, direction="to_professional", user=manager_a,
                                            financial_assets=3_500_000, experience_years=2, evidence="statements",
                                            protections_explained=True)
    services.conversion_decide(conversion=conversion, user=compliance_user, approve=True, reason="Thresholds met.")
    person.refresh_from_db()
    assert person.investor_category == "professional"
    client.force_login(manager_a)
    page = client.get(person.get_absolute_url()).content.decode()
    assert "Professional" in page.split("Investor category", 1)[1][:200]
