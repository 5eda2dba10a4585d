"""Demo step: investor categories, assessments for most clients (some expired, missing or
lowest), detection over the imported trades, a few cases in every state, conversions.

Runs after clients.demo and clients.demo_activity. Idempotent: a second run finds demo
assessments and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from clients.models import Client

from . import rules, services
from .models import Assessment, Category, LegalBasis, MismatchCase, QuestionnaireVersion, RuleSet

DEMO_NOTE = "demo"


def _random_answers(rng: random.Random, version: QuestionnaireVersion, boldness: float) -> dict:
    """Answers leaning towards the richer options as boldness grows (0..1); no vetoes."""
    answers = {}
    for q in version.questions:
        options = [o for o in q["options"] if not o.get("veto")]
        options.sort(key=lambda o: o["points"])
        if q.get("multi"):
            k = max(1, round(boldness * len(options)))
            answers[q["id"]] = [o["value"] for o in options[:k]] if boldness < 0.5 else [o["value"] for o in options[-k:]]
        else:
            index = min(len(options) - 1, max(0, round(boldness * (len(options) - 1) + rng.uniform(-0.6, 0.6))))
            answers[q["id"]] = options[index]["value"]
    return answers


def load(ctx: dict) -> None:
    out = ctx["stdout"]
    if Assessment.objects.filter(note=DEMO_NOTE).exists():
        out.write("suitability demo: already loaded")
        return
    rng = random.Random(ctx.get("seed", 7) * 31 + 4)
    today = timezone.localdate()
    users = ctx.get("users") or {u.username: u for u in get_user_model().objects.all()}
    compliance = users.get("compliance")
    rule_set = RuleSet.current(today)
    persons_q = QuestionnaireVersion.current("person", today)
    counts = {"assessments": 0, "professional": 0, "missing": 0, "expired": 0, "lowest": 0}

    for client in Client.objects.select_related("manager").order_by("client_no"):
        roll = rng.random()
        if client.client_type == "product":
            services.category_record_create(
                client=client, category=Category.PROFESSIONAL, professional_class="A",
                legal_basis=LegalBasis.ART8_A, evidence="产品备案证明", effective_from=client.opened_on,
                user=compliance,
            )
            counts["professional"] += 1
            continue
        if client.client_type == "institution" and roll < 0.35:
            services.category_record_create(
                client=client, category=Category.PROFESSIONAL, professional_class="B",
                legal_basis=LegalBasis.ART8_B_INSTITUTION, evidence="2025年审计报告",
                effective_from=client.opened_on, user=compliance,
            )
            counts["professional"] += 1
            continue
        if roll < 0.06:
            counts["missing"] += 1
            continue
        if roll < 0.12:  # assessed long ago: expired before the demo's trading period
            assessed_on = today - dt.timedelta(days=rng.randint(760, 900))
            counts["expired"] += 1
        else:
            assessed_on = today - dt.timedelta(days=rng.randint(100, 725))  # some expire within 30 days
        if roll < 0.16 and client.client_type == "person" and roll >= 0.12:
            level, lowest = 1, True
            counts["lowest"] += 1
        else:
            level = rng.choices([1, 2, 3, 4, 5], weights=[5, 12, 38, 30, 15])[0]
            lowest = False
        if client.client_type == "person" and persons_q is not None and rng.random() < 0.3 and not lowest:
            # entered through the questionnaire (real answers, scored by the rules)
            answers = _random_answers(rng, persons_q, boldness=(level - 1) / 4)
            scored = rules.score(persons_q.as_spec(), answers)
            Assessment.objects.create(
                client=client, questionnaire=persons_q, questionnaire_label=persons_q.code, rule_set=rule_set,
                answers=answers, score=scored.score, level=scored.level, lowest=scored.lowest,
                horizon=scored.horizon, product_kinds=list(scored.product_kinds), assessed_on=assessed_on,
                expires_on=rules.expires_on(assessed_on, rule_set.validity_months),
                client_signed_on=assessed_on, esign_ref=f"ES-{client.client_no}", entered_by=client.manager,
                note=DEMO_NOTE,
            )
        else:
            low, high = {1: (0, 20), 2: (21, 35), 3: (36, 55), 4: (56, 80), 5: (81, 100)}[level]
            Assessment.objects.create(
                client=client, questionnaire_label="旧问卷 2019", rule_set=rule_set, level=level, lowest=lowest,
                lowest_reason="不愿承担任何损失" if lowest else "", score=0 if lowest else rng.randint(low, high),
                horizon=rng.choice(["short", "medium", "long"]), product_kinds=["futures"],
                investor_category="ordinary", assessed_on=assessed_on,
                expires_on=rules.expires_on(assessed_on, rule_set.validity_months), migrated=True,
                note=DEMO_NOTE,
            )
        counts["assessments"] += 1

    detected = services.detect_mismatches_in_new_trades()
    _move_some_cases(rng, users, compliance)
    _conversions(rng, users, compliance)
    due = services.raise_due_tasks(as_of=today)
    ctx["summary"]["suitability"] = {
        **counts, "cases": MismatchCase.objects.count(), "mismatched_trades": detected.get("mismatched_trades", 0),
        "reassessment_tasks": due["reassessment_tasks"],
    }
    out.write(f"suitability demo: {counts}, detection {detected}")


def _move_some_cases(rng: random.Random, users: dict, compliance) -> None:
    """Walk a few open mismatch cases down each path so every state has examples."""
    if compliance is None:
        return
    opened = list(
        MismatchCase.objects.filter(state="open", result="mismatch", client__manager__isnull=False)
        .select_related("client__manager").order_by("id")[:12]
    )
    signed_on = timezone.localdate()
    plans = [
        ["give_notice"],
        ["give_notice", "sign_warning"],
        ["give_notice", "sign_warning", "submit_for_review"],
        ["give_notice", "sign_warning", "submit_for_review", "accept"],
        ["give_notice", "sign_warning", "submit_for_review", "reject"],
        ["give_notice", "withdraw"],
    ]
    for index, case in enumerate(opened[: len(plans) * 2]):
        manager = case.client.manager
        for action in plans[index % len(plans)]:
            user = compliance if action in ("accept", "reject") else manager
            services.case_transition(
                case=case, user=user, action=action,
                note={"give_notice": "电话告知产品不适当", "withdraw": "客户放弃购买",
                      "accept": "客户经验充足，已签署警示书", "reject": "风险过高，限制交易"}.get(action, ""),
                evidence=f"特别风险警示书 SW-{case.pk:05d}" if action == "sign_warning" else "",
                signed_on=signed_on if action == "sign_warning" else None,
            )
    prohibited = MismatchCase.objects.filter(state="under_review", result="prohibited").order_by("id").first()
    if prohibited is not None:
        services.case_transition(case=prohibited, user=compliance, action="reject",
                                 note="最低类别/未评估客户不得交易该产品")


def _conversions(rng: random.Random, users: dict, compliance) -> None:
    ordinary = list(
        Client.objects.filter(client_type="person", investor_category="ordinary", manager__isnull=False,
                       category_records__isnull=True)
        .select_related("manager").order_by("client_no")[:3]
    )
    if len(ordinary) < 3 or compliance is None:
        return
    first = services.conversion_submit(
        client=ordinary[0], direction="to_professional", user=ordinary[0].manager,
        financial_assets=3_600_000, experience_years=3, evidence="银行资产证明 2026-10",
        protections_explained=True,
    )
    services.conversion_decide(conversion=first, user=compliance, approve=True, reason="符合第十一条条件")
    services.conversion_submit(
        client=ordinary[1], direction="to_professional", user=ordinary[1].manager,
        average_income=350_000, work_years=2, evidence="收入证明 2023–2025", protections_explained=True,
    )
    services.conversion_submit(
        client=ordinary[2], direction="to_professional", user=ordinary[2].manager,
        financial_assets=1_200_000, experience_years=1, evidence="资产证明",
    )
