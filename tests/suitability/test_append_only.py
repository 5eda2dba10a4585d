"""Suitability records are never deleted: not by the model, a queryset, the admin or the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from suitability import models, services
from tests import factories

from .factories import assess

RECORDS = [
    models.Assessment, models.InvestorCategoryRecord, models.Conversion, models.MismatchCase,
    models.CaseTransition, models.CaseTradeDay, models.ReturnVisit, models.RuleSet,
    models.QuestionnaireVersion, models.ProductCatalogEntry,
]


@pytest.fixture
def a_case(manager_a, branch_a):
    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    account = factories.AccountFactory(client=person)
    assess(person, 2, on=dt.date(2026, 1, 5))
    return services.presale_check(account=account, product="rb", user=manager_a).case


def test_model_delete_raises(a_case):
    for obj in [a_case, a_case.transitions.get(), a_case.assessment, models.RuleSet.objects.first(),
                models.QuestionnaireVersion.objects.first(), models.ProductCatalogEntry.objects.first()]:
        with pytest.raises(PermissionDenied):
            obj.delete()
    assert models.MismatchCase.objects.count() == 1


@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m.__name__)
def test_queryset_delete_raises(a_case, model):
    with pytest.raises(PermissionDenied):
        model.objects.all().delete()


@pytest.mark.parametrize("model", RECORDS, ids=lambda m: m.__name__)
def test_the_admin_offers_no_delete(admin_user_role, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = admin_user_role
    assert model_admin.has_delete_permission(request) is False
    assert "delete_selected" not in model_admin.get_actions(request)


@pytest.mark.parametrize("model", [models.Assessment, models.MismatchCase, models.CaseTransition,
                                   models.Conversion, models.ReturnVisit])
def test_decision_records_are_read_only_in_the_admin(admin_user_role, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = admin_user_role
    assert model_admin.has_change_permission(request) is False
    assert model_admin.has_add_permission(request) is False


def test_classification_decisions_are_added_never_changed_in_the_admin(client, admin_user_role):
    person = factories.ClientFactory()
    client.force_login(admin_user_role)
    response = client.post("/admin/suitability/investorcategoryrecord/add/", {
        "client": person.pk, "category": "professional", "professional_class": "B",
        "legal_basis": "art8_b_person", "evidence": "asset proof 2026", "effective_from": "2026-11-01", "note": "",
    })
    assert response.status_code == 302
    record = models.InvestorCategoryRecord.objects.get()
    assert (record.professional_class, record.decided_by, record.rule_set.version) == ("B", admin_user_role, "2017.1")
    model_admin = admin.site._registry[models.InvestorCategoryRecord]
    request = RequestFactory().get("/admin/")
    request.user = admin_user_role
    assert model_admin.has_change_permission(request, record) is False


def test_a_professional_without_a_class_is_a_field_error_in_the_admin(client, admin_user_role):
    person = factories.ClientFactory()
    client.force_login(admin_user_role)
    response = client.post("/admin/suitability/investorcategoryrecord/add/", {
        "client": person.pk, "category": "professional", "professional_class": "",
        "legal_basis": "art8_b_person", "evidence": "", "effective_from": "2026-11-01", "note": "",
    })
    assert response.status_code == 200
    assert "professional_class" in response.context["adminform"].form.errors
    assert not models.InvestorCategoryRecord.objects.exists()


def test_the_admin_delete_page_is_forbidden(client, admin_user_role, a_case):
    client.force_login(admin_user_role)
    response = client.get(f"/admin/suitability/mismatchcase/{a_case.pk}/delete/")
    assert response.status_code == 403
    assert client.get(f"/admin/suitability/mismatchcase/{a_case.pk}/change/").status_code == 200


def test_a_correction_is_a_new_assessment_pointing_at_the_old(manager_a, branch_a):
    from .test_scoring import answers_scoring

    person = factories.ClientFactory(manager=manager_a, branch=branch_a)
    first = services.assessment_create(client=person, answers=answers_scoring(40), entered_by=manager_a)
    fixed = services.assessment_create(client=person, answers=answers_scoring(60), entered_by=manager_a,
                                       supersedes=first, note="typo in question 2")
    assert models.Assessment.objects.count() == 2
    assert fixed.supersedes == first and first.level == 3 and fixed.level == 4
