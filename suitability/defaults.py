"""Shipped defaults: the persons and institutions questionnaires, the product catalog
and the first rule set. Plain data, loaded by a data migration (and reused by tests)."""

from __future__ import annotations

import datetime as dt


def _q(qid, en, zh, options, *, multi=False, max_points=None, dimension=None, veto_reason=""):
    return {
        "id": qid, "text_en": en, "text_zh": zh, "multi": multi, "max_points": max_points,
        "dimension": dimension, "veto_reason": veto_reason,
        "options": [
            {"value": v, "text_en": oen, "text_zh": ozh, "points": p, **extra}
            for v, oen, ozh, p, extra in (o if len(o) == 5 else (*o, {}) for o in options)
        ],
    }


# 12 scored questions (maximum 100 points) and two veto questions (0 points).
PERSON_QUESTIONS = [
    _q("income_source", "Main source of income", "您的主要收入来源", [
        ("none", "No stable income (retired, student, unemployed)", "无固定收入", 0),
        ("wage", "Wages and salary", "工资、劳务报酬", 4),
        ("business", "Business or investment income", "生产经营所得、投资收益", 6),
    ]),
    _q("annual_income", "Annual household income", "家庭年收入", [
        ("lt100k", "Below 100,000", "10万元以下", 0),
        ("100k_500k", "100,000–500,000", "10万–50万元", 4),
        ("500k_1m", "500,000–1,000,000", "50万–100万元", 7),
        ("gt1m", "Above 1,000,000", "100万元以上", 10),
    ]),
    _q("investable_share", "Share of income you can invest", "可用于投资的收入比例", [
        ("lt10", "Below 10%", "10%以下", 0),
        ("10_25", "10–25%", "10%–25%", 3),
        ("25_50", "25–50%", "25%–50%", 6),
        ("gt50", "Above 50%", "50%以上", 8),
    ]),
    _q("debts", "Outstanding debts", "您的负债情况", [
        ("large", "Large debts beyond my means", "有较大负债", 0),
        ("some", "Some debts within my means", "有少量负债", 3),
        ("none", "No debts", "没有负债", 6),
    ]),
    _q("knowledge", "Knowledge of financial investment", "金融投资知识", [
        ("none", "Little or none", "缺乏投资知识", 0),
        ("basic", "Basic", "有一些了解", 3),
        ("good", "Good: I understand the products I buy", "比较了解", 6),
        ("expert", "Professional", "专业水平", 8),
    ]),
    _q("experience_kinds", "Products you have invested in (all that apply)", "您投资过的产品（可多选）", [
        ("deposits", "Deposits and bank wealth products only", "银行存款、理财", 0),
        ("bonds_funds", "Bonds and funds", "债券、基金", 3),
        ("stocks", "Stocks", "股票", 3),
        ("futures", "Futures", "期货", 4),
        ("options", "Options and other derivatives", "期权等衍生品", 4),
    ], multi=True, max_points=10),
    _q("experience_years", "Years of investment experience", "投资经验年限", [
        ("none", "None", "没有经验", 0),
        ("lt2", "Less than 2 years", "2年以下", 3),
        ("2_5", "2–5 years", "2–5年", 6),
        ("gt5", "More than 5 years", "5年以上", 10),
    ]),
    _q("horizon", "Intended investment horizon", "计划投资期限", [
        ("short", "Less than 1 year", "1年以下", 2, {"maps_to": "short"}),
        ("medium", "1–3 years", "1–3年", 5, {"maps_to": "medium"}),
        ("long", "More than 3 years", "3年以上", 8, {"maps_to": "long"}),
    ], dimension="horizon"),
    _q("product_kinds", "Products you intend to invest in (all that apply)", "拟投资的产品（可多选）", [
        ("am_products", "Asset-management products", "资产管理产品", 2, {"maps_to": "am_products"}),
        ("futures", "Futures", "期货", 4, {"maps_to": "futures"}),
        ("options", "Options", "期权", 4, {"maps_to": "options"}),
        ("otc", "OTC derivatives", "场外衍生品", 4, {"maps_to": "otc"}),
    ], multi=True, max_points=8, dimension="product_kinds"),
    _q("goal", "Investment goal", "投资目标", [
        ("preserve", "Preserve capital", "保本保值", 0),
        ("steady", "Steady growth", "稳健增值", 4),
        ("growth", "High growth", "较高收益", 8),
    ]),
    _q("risk_preference", "Attitude to risk", "风险偏好", [
        ("avoid", "Avoid any risk", "不愿承担风险", 0),
        ("low", "Accept small fluctuations", "可承受小幅波动", 3),
        ("medium", "Accept moderate fluctuations for higher returns", "可承受一定波动", 6),
        ("high", "Accept large fluctuations for high returns", "可承受较大波动", 10),
    ]),
    _q("max_loss", "Largest loss you can accept", "可承受的最大亏损", [
        ("lt10", "Below 10%", "10%以内", 0),
        ("10_30", "10–30%", "10%–30%", 3),
        ("30_50", "30–50%", "30%–50%", 6),
        ("gt50", "Above 50% (more than the principal)", "50%以上", 8),
    ]),
    _q("civil_capacity", "Do you have full civil capacity?", "您是否具有完全民事行为能力？", [
        ("yes", "Yes", "是", 0),
        ("no", "No", "否", 0, {"veto": True}),
    ], veto_reason="lacks full civil capacity"),
    _q("loss_tolerance", "Can you bear any loss of principal?", "您能否承受本金损失？", [
        ("yes", "Yes, within the limit stated above", "能够承受", 0),
        ("no", "No: I am unwilling to bear any loss", "不能承受任何损失", 0, {"veto": True}),
    ], veto_reason="unwilling to bear any loss"),
]

INSTITUTION_QUESTIONS = [
    _q("net_assets", "Net assets at last year-end", "上年末净资产", [
        ("lt5m", "Below 5 million", "500万元以下", 5),
        ("5m_20m", "5–20 million", "500万–2000万元", 15),
        ("gt20m", "Above 20 million", "2000万元以上", 25),
    ]),
    _q("experience_years", "Years of investment experience", "投资经验年限", [
        ("none", "None", "没有经验", 0),
        ("lt2", "Less than 2 years", "2年以下", 10),
        ("gt2", "2 years or more", "2年以上", 20),
    ]),
    _q("purpose", "Purpose of trading", "交易目的", [
        ("hedge", "Hedging", "套期保值", 10),
        ("mixed", "Hedging and investment", "套保与投资", 15),
        ("investment", "Investment", "投资", 20),
    ]),
    _q("horizon", "Intended investment horizon", "计划投资期限", [
        ("short", "Less than 1 year", "1年以下", 5, {"maps_to": "short"}),
        ("medium", "1–3 years", "1–3年", 10, {"maps_to": "medium"}),
        ("long", "More than 3 years", "3年以上", 15, {"maps_to": "long"}),
    ], dimension="horizon"),
    _q("max_loss", "Largest loss you can accept", "可承受的最大亏损", [
        ("lt10", "Below 10%", "10%以内", 0),
        ("10_30", "10–30%", "10%–30%", 10),
        ("gt30", "Above 30%", "30%以上", 20),
    ]),
]

DEFAULT_QUESTIONNAIRES = [
    {"code": "P-2017.1", "audience": "person", "title": "投资者风险承受能力评估问卷（自然人）",
     "questions": PERSON_QUESTIONS, "effective_from": dt.date(2017, 7, 1)},
    {"code": "I-2017.1", "audience": "institution", "title": "投资者风险承受能力评估问卷（机构）",
     "questions": INSTITUTION_QUESTIONS, "effective_from": dt.date(2017, 7, 1)},
]

FINANCIAL_CODES = ["IF", "IH", "IC", "IM", "T", "TF", "TS", "TL"]
COMMODITY_CODES = {
    "SHFE": ["cu", "al", "zn", "pb", "ni", "sn", "au", "ag", "rb", "wr", "hc", "ss", "fu", "bu",
             "ru", "sp", "ao", "br"],
    "INE": ["lu", "nr", "bc", "ec"],
    "DCE": ["a", "b", "m", "y", "p", "c", "cs", "jd", "rr", "lh", "fb", "bb", "l", "v", "pp", "eg",
            "eb", "pg", "j", "jm", "i", "lg"],
    "CZCE": ["WH", "PM", "CF", "CY", "SR", "OI", "RI", "RS", "RM", "JR", "LR", "AP", "CJ", "PK",
             "TA", "MA", "FG", "SF", "SM", "ZC", "UR", "SA", "PF", "SH", "PX", "PR"],
    "GFEX": ["si", "lc", "ps"],
}

RATED_ON = dt.date(2017, 7, 1)

DEFAULT_CATALOG = [
    {"code": "AM-R1", "name_zh": "低风险资产管理计划", "name_en": "Low-risk asset-management plan",
     "kind": "am_product", "risk_level": 1, "horizon": "medium", "covers": [],
     "rationale": "Money-market and short bond portfolio; R1 by the firm's AM rating."},
    {"code": "AM-R2", "name_zh": "中低风险资产管理计划", "name_en": "Medium-low-risk asset-management plan",
     "kind": "am_product", "risk_level": 2, "horizon": "medium", "covers": [],
     "rationale": "Fixed-income plan with limited equity exposure; R2 by the firm's AM rating."},
    {"code": "FUT-COMMODITY", "name_zh": "商品期货经纪", "name_en": "Commodity futures brokerage",
     "kind": "commodity_futures", "risk_level": 3, "horizon": "short", "is_default_for_kind": True,
     "covers": [f"{ex}:{code}" for ex, codes in COMMODITY_CODES.items() for code in codes],
     "rationale": "Leveraged, margin-traded; losses may exceed the margin. Crude oil excepted (R4)."},
    {"code": "FUT-FINANCIAL", "name_zh": "金融期货经纪", "name_en": "Financial futures brokerage (CFFEX)",
     "kind": "financial_futures", "risk_level": 4, "horizon": "short", "is_default_for_kind": True,
     "covers": [f"CFFEX:{code}" for code in FINANCIAL_CODES],
     "rationale": "Stock-index and treasury futures; exchange entry requirements apply."},
    {"code": "FUT-CRUDE", "name_zh": "原油期货", "name_en": "Crude oil futures (INE sc)",
     "kind": "crude_futures", "risk_level": 4, "horizon": "short", "covers": ["INE:sc"],
     "rationale": "International crude contract; exchange entry requirements apply."},
    {"code": "OPTIONS", "name_zh": "期权经纪", "name_en": "Options brokerage (all exchanges)",
     "kind": "options", "risk_level": 4, "horizon": "short", "is_default_for_kind": True, "covers": [],
     "rationale": "All exchange-traded options: non-linear risk; sellers' losses unbounded by premium."},
    {"code": "OTC-BOUNDED", "name_zh": "场外衍生品（损失有限）", "name_en": "OTC derivatives, bounded loss",
     "kind": "otc_bounded", "risk_level": 4, "horizon": "short", "covers": [],
     "rationale": "Risk-management subsidiary's OTC options bought by the client: loss ≤ premium."},
    {"code": "OTC-UNBOUNDED", "name_zh": "场外衍生品（损失无上限）", "name_en": "OTC derivatives, unbounded loss",
     "kind": "otc_unbounded", "risk_level": 5, "horizon": "short", "covers": [],
     "rationale": "OTC swaps and sold options: loss not bounded."},
]

DEFAULT_RULE_SET = {
    "version": "2017.1",
    "source": "CSRC 《证券期货投资者适当性管理办法》 (2017-07-01) and the futures association's guideline",
    "effective_from": dt.date(2017, 7, 1),
}


def ensure_defaults(rule_set_model, questionnaire_model, catalog_model) -> None:
    """Create the shipped rule set, questionnaires and catalog where missing (the data
    migration passes its historical models; tests pass the real ones)."""
    if not rule_set_model.objects.filter(version=DEFAULT_RULE_SET["version"]).exists():
        rule_set_model.objects.create(**DEFAULT_RULE_SET)
    for q in DEFAULT_QUESTIONNAIRES:
        questionnaire_model.objects.get_or_create(code=q["code"], defaults=q)
    for entry in DEFAULT_CATALOG:
        catalog_model.objects.get_or_create(code=entry["code"], defaults={**entry, "rated_on": RATED_ON})
