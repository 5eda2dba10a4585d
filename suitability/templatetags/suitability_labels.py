"""Display labels for the codes the suitability rules store and return.

The rules and the records keep plain codes ("C3", "C1 lowest", "unassessed",
"professional B", "mismatch", "product_kind", "financial_assets", …); these filters turn
them into the translated text staff read, in the active language. Stored values are
never changed. An unknown code is shown as it is.

    {% load suitability_labels %}
    {{ case.client_level|client_level_label }}   → "C3 Balanced" / "C3 稳健型"
"""

from __future__ import annotations

import re

from django import template
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop

from suitability import rules

register = template.Library()

# The level names of rules.LEVEL_NAMES_EN / LEVEL_NAMES_ZH with their code: the Chinese
# of "C3 Balanced" is "C3 稳健型", as models.LEVEL_CHOICES and rules.level_label write it.
LEVEL_LABELS = {
    1: gettext_noop("C1 Conservative"),
    2: gettext_noop("C2 Cautious"),
    3: gettext_noop("C3 Balanced"),
    4: gettext_noop("C4 Active"),
    5: gettext_noop("C5 Aggressive"),
}

RESULT_LABELS = {
    rules.MATCH: gettext_noop("match"),
    rules.MISMATCH: gettext_noop("mismatch"),
    rules.PROHIBITED: gettext_noop("prohibited"),
}

# Warning codes of rules.match.
WARNING_LABELS = {
    "unrated_product": gettext_noop("unrated product"),
    "horizon": gettext_noop("term beyond the client's investment horizon"),
    "product_kind": gettext_noop("not among the client's intended products"),
}

CATEGORY_LABELS = {
    rules.ORDINARY: gettext_noop("Ordinary investor"),
    rules.PROFESSIONAL: gettext_noop("Professional investor"),
}

# Intended product kinds (the questionnaire's answers, rules.KIND_COVERED_BY's values);
# the catalog's kinds fall back to models.ProductKind.
INTENDED_KIND_LABELS = {
    "futures": gettext_noop("Futures"),
    "options": gettext_noop("Options"),
    "am_products": gettext_noop("Asset-management product"),
    "advisory": gettext_noop("Advisory service"),
    "otc": gettext_noop("OTC derivatives"),
}

# The criteria of rules.check_thresholds are the Conversion fields of the same name.
THRESHOLD_FIELDS = ("net_assets", "financial_assets", "average_income", "experience_years", "work_years")

_LEVEL = re.compile(r"^C([1-5])(?:\s+(.*))?$")


def _text(value) -> str:
    return "" if value is None else str(value).strip()


@register.filter
def client_level_label(value) -> str:
    """A stored client level → its display.

    "C3" → "C3 Balanced" / "C3 稳健型"; "C1 lowest" → "C1 Conservative · lowest category" /
    "C1 保守型 · 最低类别"; "unassessed" → "unassessed" / "未评估"; "professional B" →
    "Professional B" / "专业投资者 B". Also takes a level number or a rules.InvestorState.
    """
    if isinstance(value, rules.InvestorState):
        value = value.label
    text = _text(value)
    if not text:
        return "—"
    if text.isdigit() and int(text) in LEVEL_LABELS:
        return gettext(LEVEL_LABELS[int(text)])
    if text == "unassessed":
        return gettext("unassessed")
    words = text.split()
    if words[0] == rules.PROFESSIONAL:
        return " ".join([gettext("Professional"), *words[1:]])
    found = _LEVEL.match(text)
    if found is None:
        return text
    label = gettext(LEVEL_LABELS[int(found.group(1))])
    rest = found.group(2) or ""
    if "lowest" in rest or "最低" in rest:
        label = f"{label} · {gettext('lowest category')}"
    return label


@register.filter
def match_result_label(value) -> str:
    """ "match" / "mismatch" / "prohibited" → 匹配 / 不匹配 / 禁止."""
    text = _text(value)
    return gettext(RESULT_LABELS[text]) if text in RESULT_LABELS else text


@register.filter
def warning_label(value) -> str:
    """A warning code of rules.match ("horizon", "product_kind", "unrated_product")."""
    text = _text(value)
    return gettext(WARNING_LABELS[text]) if text in WARNING_LABELS else text


@register.filter
def category_label(value, professional_class="") -> str:
    """ "ordinary" → "Ordinary investor" / "普通投资者"; "professional" with class "B" →
    "Professional investor B" / "专业投资者 B".  {{ category|category_label:pclass }}"""
    text = _text(value)
    if text not in CATEGORY_LABELS:
        return text
    label = gettext(CATEGORY_LABELS[text])
    pclass = _text(professional_class)
    return f"{label} {pclass}" if pclass and text == rules.PROFESSIONAL else label


@register.filter
def product_kind_label(value) -> str:
    """An intended product kind ("futures", "otc", …) or a catalog kind ("crude_futures")."""
    from suitability.models import ProductKind

    text = _text(value)
    if text in INTENDED_KIND_LABELS:
        return gettext(INTENDED_KIND_LABELS[text])
    if text in ProductKind.values:
        return str(ProductKind(text).label)
    return text


@register.filter
def threshold_label(value) -> str:
    """A threshold criterion ("financial_assets", …) → the Conversion field's name."""
    from suitability.models import Conversion

    text = _text(value)
    if text not in THRESHOLD_FIELDS:
        return text
    return capfirst(str(Conversion._meta.get_field(text).verbose_name))
