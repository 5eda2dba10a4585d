"""Spec defaults for the rule tables, and the nightly schedule (03:00 Asia/Shanghai)."""

import datetime as dt

from django.db import migrations

DEFAULT_PARAMS = {
    "tier_window": 20,
    "behaviour_window": 60,
    "annualisation": 250,
    "rfm_window": 250,
    "tier_bands": [
        {"code": "large", "min": 5000000},
        {"code": "medium", "min": 500000},
        {"code": "retail", "min": 0},
    ],
    "dormant_days": 20,
    "day_trader_min_active_days": 30,
    "day_trader_min_trades_per_day": 20,
    "day_trader_max_overnight_share": 0.10,
    "key_service_hedge_share": 0.50,
    "key_service_min_loss_days": 10,
    "key_service_loss_share": 0.10,
    "vip_min_annual_net_fee": 1000000,
    "vip_min_avg_equity": 10000000,
    "key_min_annual_net_fee": 20000,
    "key_min_avg_equity": 100000,
    "churn_floor": 0.05,
    "churn_default": 0.20,
    "purpose_share": 0.50,
    "new_client_days": 365,
    "loyal_min_tenure_days": 730,
    "loyal_months": 12,
    "loyal_max_cv": 0.5,
    "quant_factors": 4,
    "quant_a_share": 0.20,
    "quant_b_share": 0.30,
}

LABELS = [
    # position, code, en, zh, r_min, r_max, f_min, f_max, m_min, m_max
    (1, "champions", "Champions", "明星客户", 5, 5, 5, 5, 5, 5),
    (2, "loyal", "Loyal", "忠诚客户", 4, 5, 4, 5, 1, 5),
    (3, "at_risk", "At risk", "流失风险客户", 1, 2, 4, 5, 1, 5),
    (4, "big_spender", "Big contributors", "高贡献客户", 1, 5, 1, 5, 4, 5),
    (5, "promising", "Promising", "潜力客户", 4, 5, 1, 2, 1, 5),
    (6, "hibernating", "Hibernating", "沉睡客户", 1, 2, 1, 2, 1, 5),
    (7, "needs_attention", "Needs attention", "需关注客户", 1, 5, 1, 5, 1, 5),
]


def forwards(apps, schema_editor):
    RuleSet = apps.get_model("segmentation", "SegmentRuleSet")
    RfmLabel = apps.get_model("segmentation", "RfmLabel")
    RuleSet.objects.get_or_create(
        valid_from=dt.date(2000, 1, 1),
        defaults={"name": "Spec defaults (seeds 002/003/004)", "params": DEFAULT_PARAMS},
    )
    for pos, code, en, zh, r0, r1, f0, f1, m0, m1 in LABELS:
        RfmLabel.objects.get_or_create(position=pos, defaults=dict(
            code=code, name_en=en, name_zh=zh, r_min=r0, r_max=r1, f_min=f0, f_max=f1,
            m_min=m0, m_max=m1,
        ))
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    cron, _ = Crontab.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="nightly",
        defaults={"task": "segmentation.run_nightly", "crontab": cron, "enabled": True,
                  "description": "Drop-folder import → segments → suitability → tasks → accruals"},
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="nightly").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0001_segments"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
