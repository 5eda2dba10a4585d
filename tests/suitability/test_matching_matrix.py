"""Spec §4 as a pure function: every investor state × R1–R5."""

import pytest

from suitability import rules

from .factories import MATRIX

STATES = {
    "professional A": rules.InvestorState(category="professional", professional_class="A"),
    "professional B": rules.InvestorState(category="professional", professional_class="B"),
    "professional C": rules.InvestorState(category="professional", professional_class="C"),
    "C5": rules.InvestorState(level=5),
    "C4": rules.InvestorState(level=4),
    "C3": rules.InvestorState(level=3),
    "C2": rules.InvestorState(level=2),
    "C1": rules.InvestorState(level=1),
    "C1 lowest": rules.InvestorState(level=1, lowest=True),
    "unassessed": rules.InvestorState(),
    # An expired assessment reaches match() as "no valid level", like a missing one.
    "expired": rules.InvestorState(level=None),
}


@pytest.mark.parametrize("state", list(MATRIX))
@pytest.mark.parametrize("risk", [1, 2, 3, 4, 5])
def test_every_state_against_every_risk_level(state, risk):
    assert rules.match(STATES[state], risk).result == MATRIX[state][risk - 1]


def test_the_result_names_both_levels():
    outcome = rules.match(rules.InvestorState(level=3), 4)
    assert (outcome.client_level, outcome.product_level, outcome.reason) == ("C3", "R4", "above_level")


def test_prohibited_results_say_why():
    assert rules.match(rules.InvestorState(level=1, lowest=True), 2).reason == "lowest"
    assert rules.match(rules.InvestorState(), 3).reason == "unassessed"


def test_a_product_closed_to_the_client_is_prohibited_even_when_it_matches():
    state = rules.InvestorState(level=5, closed_products=frozenset({"INE:sc"}))
    assert rules.match(state, rules.Product(key="INE:sc", level=4)).result == rules.PROHIBITED


def test_horizon_and_product_kind_mismatches_are_warnings_not_results():
    state = rules.InvestorState(level=3, horizon="short", product_kinds=("futures",))
    am = rules.Product(key="AM-R2", level=2, kind="am_product", horizon="medium")
    outcome = rules.match(state, am)
    assert outcome.result == rules.MATCH
    assert outcome.warnings == ("horizon", "product_kind")


def test_an_unrated_product_is_flagged_and_counted_r5():
    outcome = rules.match(rules.InvestorState(level=4), rules.Product(key="XX:zz", level=5, flagged=True))
    assert (outcome.result, outcome.warnings) == (rules.MISMATCH, ("unrated_product",))
