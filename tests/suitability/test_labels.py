"""The display labels of the suitability codes (suitability_labels filters) and the pages
that show them: levels with their names, results, warnings, categories, product kinds and
threshold names, in English and in Simplified Chinese; the stored codes stay as they are."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils.translation import override

from suitability import rules, services
from suitability.models import LEVEL_CHOICES, MismatchCase
from suitability.templatetags.suitability_labels import (
    category_label,
    client_level_label,
    match_result_label,
    product_kind_label,
    threshold_label,
    warning_label,
)
from tests import factories

from .factories import assess, make_professional

ZH = "zh-hans"


def test_the_chinese_language_code_is_the_one_the_settings_offer():
    assert ZH in dict(settings.LANGUAGES)


# --- client levels -------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "english"), [
    ("C1", "C1 Conservative"),
    ("C2", "C2 Cautious"),
    ("C3", "C3 Balanced"),
    ("C4", "C4 Active"),
    ("C5", "C5 Aggressive"),
    ("C1 lowest", "C1 Conservative · lowest category"),
    ("unassessed", "unassessed"),
    ("professional", "Professional"),
    ("professional B", "Professional B"),
    (3, "C3 Balanced"),
    ("3", "C3 Balanced"),
    ("C3 稳健型", "C3 Balanced"),  # an already labelled level reads the same
    ("C1 保守型 (lowest 最低类别)", "C1 Conservative · lowest category"),
    (None, "—"),
    ("", "—"),
    ("something else", "something else"),
])
def test_client_level_label_in_english(stored, english):
    with override("en"):
        assert client_level_label(stored) == english


@pytest.mark.parametrize(("stored", "chinese"), [
    ("C1", "C1 保守型"),
    ("C2", "C2 谨慎型"),
    ("C3", "C3 稳健型"),
    ("C4", "C4 积极型"),
    ("C5", "C5 激进型"),
    ("C1 lowest", "C1 保守型 · 最低类别"),
    ("unassessed", "未评估"),
    ("professional", "专业投资者"),
    ("professional B", "专业投资者 B"),
    (4, "C4 积极型"),
])
def test_client_level_label_in_chinese(stored, chinese):
    with override(ZH):
        assert client_level_label(stored) == chinese


def test_level_names_are_the_rules_names():
    """The labels use the names rules.py and models.LEVEL_CHOICES already give the levels."""
    with override("en"):
        for level, _choice in LEVEL_CHOICES:
            assert client_level_label(level) == f"C{level} {rules.LEVEL_NAMES_EN[level].capitalize()}"


def test_level_names_are_the_rules_names_in_chinese():
    with override(ZH):
        for level, choice in LEVEL_CHOICES:
            assert client_level_label(level) == choice == rules.level_label(level)


def test_client_level_label_takes_every_investor_state_label():
    states = [
        rules.InvestorState(category="professional", professional_class="A"),
        rules.InvestorState(level=None),
        rules.InvestorState(level=1, lowest=True),
        *[rules.InvestorState(level=n) for n in range(1, 6)],
    ]
    with override("en"):
        shown = [client_level_label(state.label) for state in states]
        assert shown == [
            "Professional A", "unassessed", "C1 Conservative · lowest category",
            "C1 Conservative", "C2 Cautious", "C3 Balanced", "C4 Active", "C5 Aggressive",
        ]
        assert client_level_label(states[0]) == "Professional A"  # the state itself works too


# --- results, warnings, categories, product kinds, thresholds ------------------------


def test_match_result_label():
    with override("en"):
        assert [match_result_label(code) for code, _label in rules.RESULT_CHOICES] == [
            "match", "mismatch", "prohibited"]
        assert match_result_label("other") == "other"


def test_match_result_label_in_chinese():
    with override(ZH):
        assert [match_result_label(code) for code, _label in rules.RESULT_CHOICES] == ["匹配", "不匹配", "禁止"]


def test_every_warning_rules_match_gives_has_a_label():
    investor = rules.InvestorState(level=5, horizon="short", product_kinds=("options",))
    product = rules.Product(key="X", level=3, kind="commodity_futures", horizon="long", flagged=True)
    warnings = rules.match(investor, product).warnings
    assert set(warnings) == {"unrated_product", "horizon", "product_kind"}
    with override("en"):
        assert warning_label("unrated_product") == "unrated product"
        assert warning_label("horizon") == "term beyond the client's investment horizon"
        assert warning_label("product_kind") == "not among the client's intended products"
        assert warning_label("other") == "other"


def test_warning_label_in_chinese():
    with override(ZH):
        assert warning_label("unrated_product") == "未评级产品"
        assert warning_label("horizon") == "产品期限超出客户投资期限"
        assert warning_label("product_kind") == "不属于客户拟投资品种"


def test_category_label():
    with override("en"):
        assert category_label("ordinary") == "Ordinary investor"
        assert category_label("ordinary", "") == "Ordinary investor"
        assert category_label("professional", "B") == "Professional investor B"
        assert category_label("other") == "other"


def test_category_label_in_chinese():
    with override(ZH):
        assert category_label("ordinary") == "普通投资者"
        assert category_label("professional", "B") == "专业投资者 B"


def test_product_kind_label_for_intended_and_catalog_kinds():
    intended = set(rules.KIND_COVERED_BY.values())
    assert intended == {"futures", "options", "am_products", "advisory", "otc"}
    with override("en"):
        assert [product_kind_label(k) for k in ("futures", "options", "am_products", "advisory", "otc")] == [
            "Futures", "Options", "Asset-management product", "Advisory service", "OTC derivatives"]
        assert product_kind_label("crude_futures") == "Crude oil futures"  # a catalog kind
        assert product_kind_label("other") == "other"
    with override(ZH):  # names the catalog already has
        assert [product_kind_label(k) for k in ("options", "am_products", "advisory", "crude_futures")] == [
            "期权", "资产管理产品", "投资咨询服务", "原油期货"]


def test_product_kind_label_in_chinese():
    with override(ZH):
        assert product_kind_label("futures") == "期货"
        assert product_kind_label("otc") == "场外衍生品"


def test_every_threshold_criterion_has_a_label():
    person = rules.check_thresholds(rule="art11", applicant_type="person").checks
    institution = rules.check_thresholds(rule="art8", applicant_type="institution").checks
    with override("en"):
        assert {name: threshold_label(name) for name in {*person, *institution}} == {
            "net_assets": "Net assets",
            "financial_assets": "Financial assets",
            "average_income": "3-year average annual income",
            "experience_years": "Investment experience (years)",
            "work_years": "Relevant work (years)",
        }
        assert threshold_label("other") == "other"
    with override(ZH):  # the Conversion fields' names, already in the catalog
        assert threshold_label("financial_assets") == "金融资产"
        assert threshold_label("work_years") == "相关工作经历（年）"


FILTERS_TEMPLATE = (
    "{% load suitability_labels %}{{ level|client_level_label }}|{{ result|match_result_label }}|"
    "{{ category|category_label:pclass }}"
)
FILTERS_CONTEXT = {"level": "C2", "result": "mismatch", "category": "professional", "pclass": "C"}


def test_the_filters_load_in_a_template():
    with override("en"):
        rendered = Template(FILTERS_TEMPLATE).render(Context(FILTERS_CONTEXT))
        assert rendered == "C2 Cautious|mismatch|Professional investor C"


def test_the_filters_load_in_a_template_in_chinese():
    with override(ZH):
        assert Template(FILTERS_TEMPLATE).render(Context(FILTERS_CONTEXT)) == "C2 谨慎型|不匹配|专业投资者 C"


# --- pages ---------------------------------------------------------------------------


@pytest.fixture
def mine(manager_a, branch_a):
    person = factories.ClientFactory(client_no="C3101", name="周敏", manager=manager_a, branch=branch_a)
    factories.AccountFactory(account_id="80031001", client=person)
    return person


@pytest.fixture
def c2_case(mine, manager_a):
    assess(mine, 2, on=dt.date(2026, 1, 5))
    return services.presale_check(client=mine, product="rb", user=manager_a).case


def test_the_queue_and_the_case_page_name_the_level(client, compliance_user, c2_case):
    assert c2_case.client_level == "C2"  # stored as it was
    client.force_login(compliance_user)
    queue = client.get("/suitability/cases/").content.decode()
    assert "<td>C2 Cautious / R3</td>" in queue and "<td>C2 / R3</td>" not in queue
    page = client.get(f"/suitability/cases/{c2_case.pk}/").content.decode()
    assert "<dd>C2 Cautious / R3 中风险</dd>" in page
    assert 'id="today-outcome">C2 Cautious / R3 · mismatch</dd>' in page
    MismatchCase.objects.get(pk=c2_case.pk, client_level="C2")


def test_the_queue_and_the_case_page_name_the_level_in_chinese(client, compliance_user, c2_case):
    client.force_login(compliance_user)
    client.cookies["django_language"] = ZH
    queue = client.get("/suitability/cases/").content.decode()
    assert "<td>C2 谨慎型 / R3</td>" in queue
    page = client.get(f"/suitability/cases/{c2_case.pk}/").content.decode()
    assert "<dd>C2 谨慎型 / R3 中风险</dd>" in page and "<dd>不匹配</dd>" in page


def test_the_presale_check_names_level_result_and_warnings(client, manager_a, mine):
    assess(mine, 2, on=dt.date(2026, 1, 5), horizon="short", product_kinds=["options"])
    client.force_login(manager_a)
    html = client.post("/suitability/check/", {"account": "80031001", "product": "IF2512"}).content.decode()
    assert 'id="client-level">C2 Cautious</dd>' in html and 'id="result">mismatch<' in html
    assert "not among the client&#x27;s intended products" in html and ">product_kind<" not in html


def test_the_presale_check_names_level_result_and_warnings_in_chinese(client, manager_a, mine):
    assess(mine, 2, on=dt.date(2026, 1, 5), horizon="short", product_kinds=["options"])
    client.force_login(manager_a)
    client.cookies["django_language"] = ZH
    html = client.post("/suitability/check/", {"account": "80031001", "product": "IF2512"}).content.decode()
    assert 'id="client-level">C2 谨慎型</dd>' in html and 'id="result">不匹配<' in html
    assert "不属于客户拟投资品种" in html and ">product_kind<" not in html


def test_the_assessment_page_names_category_and_intended_products(client, manager_a, mine):
    assessment = assess(mine, 3, on=dt.date(2026, 1, 5), product_kinds=["futures", "otc"])
    client.force_login(manager_a)
    html = client.get(f"/suitability/assessments/{assessment.pk}/").content.decode()
    assert "<dd>Futures, OTC derivatives</dd>" in html and "futures" not in html.replace("Futures", "")
    assert "<dd>C3 Balanced</dd>" in html


def test_the_client_panel_names_a_professional_and_the_unassessed(client, manager_a, mine, branch_a):
    make_professional(mine, "B")
    other = factories.ClientFactory(client_no="C3102", manager=manager_a, branch=branch_a)
    client.force_login(manager_a)
    assert "Now:</strong> Professional B" in client.get(f"/clients/{mine.pk}/").content.decode()
    assert "Now:</strong> unassessed" in client.get(f"/clients/{other.pk}/").content.decode()
    client.cookies["django_language"] = ZH
    assert "专业投资者 B" in client.get(f"/clients/{mine.pk}/").content.decode()  # already in the catalog


def test_the_client_panel_names_the_unassessed_in_chinese(client, manager_a, mine):
    client.force_login(manager_a)
    client.cookies["django_language"] = ZH
    html = client.get(f"/clients/{mine.pk}/").content.decode()
    assert "未评估" in html and "unassessed" not in html


def test_the_conversion_pages_name_category_and_thresholds(client, manager_a, compliance_user, mine):
    client.force_login(manager_a)
    assert "· Ordinary investor</p>" in client.get(f"/suitability/clients/{mine.pk}/conversion/").content.decode()
    response = client.post(f"/suitability/clients/{mine.pk}/conversion/", {
        "direction": "to_professional", "applicant_type": "person", "financial_assets": "3200000",
        "experience_years": "2", "evidence": "statements", "protections_explained": "on",
    })
    assert response.status_code == 302
    client.force_login(compliance_user)
    english = client.get(response["Location"]).content.decode()
    assert "<dt>Financial assets</dt>" in english and "<dt>financial_assets</dt>" not in english
    client.cookies["django_language"] = ZH
    chinese = client.get(response["Location"]).content.decode()
    assert "<dt>金融资产</dt>" in chinese and "<dt>相关工作经历（年）</dt>" in chinese


def test_records_name_their_result_and_states_in_the_readers_language():
    from django.utils import translation

    from suitability.models import CaseTransition, MismatchCase

    case = MismatchCase(pk=7, client_id=3, product_key="CFFEX:IF", result="mismatch", state="under_review")
    step = CaseTransition(case_id=7, from_state="warning_signed", to_state="under_review")
    with translation.override("zh-hans"):
        assert case.get_result_display() == "不匹配"
        assert "under_review" not in str(case) and "warning_signed" not in str(step)
    with translation.override("en"):
        assert case.get_result_display() == "mismatch"
