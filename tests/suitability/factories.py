"""Suitability test helpers: assessments and category records built directly."""

from __future__ import annotations

import datetime as dt

from suitability import rules
from suitability.models import Assessment, InvestorCategoryRecord, RuleSet

# The full matrix of spec §4: investor state → expected result for R1..R5.
M, X, P = rules.MATCH, rules.MISMATCH, rules.PROHIBITED
MATRIX = {
    "professional A": [M, M, M, M, M],
    "professional B": [M, M, M, M, M],
    "professional C": [M, M, M, M, M],
    "C5": [M, M, M, M, M],
    "C4": [M, M, M, M, X],
    "C3": [M, M, M, X, X],
    "C2": [M, M, X, X, X],
    "C1": [M, X, X, X, X],
    "C1 lowest": [M, P, P, P, P],
    "unassessed": [M, P, P, P, P],
    "expired": [M, P, P, P, P],
}


def assess(client, level: int | None, *, lowest: bool = False, on: dt.date = dt.date(2026, 1, 5),
           expires_on: dt.date | None = None, horizon: str = "", product_kinds=()) -> Assessment:
    rule_set = RuleSet.current(on)
    return Assessment.objects.create(
        client=client, rule_set=rule_set, level=level, lowest=lowest, score=None,
        horizon=horizon, product_kinds=list(product_kinds), assessed_on=on,
        expires_on=expires_on or rules.expires_on(on, rule_set.validity_months),
        questionnaire_label="test",
    )


def make_professional(client, pclass: str, *, on: dt.date = dt.date(2025, 1, 1)) -> InvestorCategoryRecord:
    basis = {"A": "art8_a", "B": "art8_b_person", "C": "art11_conversion"}[pclass]
    return InvestorCategoryRecord.objects.create(
        client=client, category="professional", professional_class=pclass, legal_basis=basis,
        effective_from=on, rule_set=RuleSet.current(on), evidence="test",
    )


def put_in_state(client, state: str, *, on: dt.date = dt.date(2026, 1, 5)) -> None:
    """Give a client one of the MATRIX investor states (as of 2026-11-16)."""
    if state.startswith("professional"):
        make_professional(client, state[-1])
    elif state == "C1 lowest":
        assess(client, 1, lowest=True, on=on)
    elif state == "unassessed":
        pass
    elif state == "expired":
        assess(client, 5, on=dt.date(2024, 1, 5))  # expired 2026-01-05
    else:
        assess(client, int(state[1]), on=on)
