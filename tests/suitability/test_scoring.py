"""Questionnaire scoring: band edges, vetoes, the shipped default for persons."""

import pytest

from suitability import defaults, rules

PERSONS = rules.Questionnaire.from_json(defaults.PERSON_QUESTIONS, rules.DEFAULT_BANDS)


def lowest_answers() -> dict:
    """Every question at its cheapest option; vetoes answered 'yes'."""
    answers = {}
    for q in defaults.PERSON_QUESTIONS:
        cheapest = min((o for o in q["options"] if not o.get("veto")), key=lambda o: o["points"])
        answers[q["id"]] = [cheapest["value"]] if q["multi"] else cheapest["value"]
    return answers


def answers_scoring(target: int) -> dict:
    """Answers that add up to exactly `target` (one option per question)."""
    reachable = {0: {}}
    for q in defaults.PERSON_QUESTIONS:
        step = {}
        for total, chosen in reachable.items():
            for o in q["options"]:
                if o.get("veto"):
                    continue
                value = [o["value"]] if q["multi"] else o["value"]
                step.setdefault(total + o["points"], {**chosen, q["id"]: value})
        reachable = step
    return reachable[target]


@pytest.mark.parametrize(
    "score,level",
    [(0, 1), (20, 1), (21, 2), (35, 2), (36, 3), (55, 3), (56, 4), (80, 4), (81, 5), (100, 5)],
)
def test_each_band_edge(score, level):
    assert rules.classify(score) == level


def test_scores_outside_the_bands_are_refused():
    with pytest.raises(ValueError):
        rules.classify(101)


def test_the_default_persons_questionnaire_has_14_questions_worth_100_points():
    assert len(defaults.PERSON_QUESTIONS) == 14
    assert PERSONS.max_score == 100
    assert sum(1 for q in defaults.PERSON_QUESTIONS if any(o.get("veto") for o in q["options"])) == 2


def test_the_cheapest_answers_score_4_and_are_c1():
    result = rules.score(PERSONS, lowest_answers())
    assert (result.score, result.level, result.lowest) == (4, 1, False)
    assert (result.horizon, result.product_kinds) == ("short", ("am_products",))


def test_the_richest_answers_score_100_and_are_c5():
    answers = {}
    for q in defaults.PERSON_QUESTIONS:
        if q["multi"]:
            answers[q["id"]] = [o["value"] for o in q["options"]]
        else:
            answers[q["id"]] = max((o for o in q["options"] if not o.get("veto")), key=lambda o: o["points"])["value"]
    result = rules.score(PERSONS, answers)
    assert (result.score, result.level) == (100, 5)
    assert result.product_kinds == ("am_products", "futures", "options", "otc")


@pytest.mark.parametrize(
    "target,level", [(20, 1), (21, 2), (35, 2), (36, 3), (55, 3), (56, 4), (80, 4), (81, 5)]
)
def test_answers_landing_on_each_band_edge(target, level):
    result = rules.score(PERSONS, answers_scoring(target))
    assert (result.score, result.level, result.lowest) == (target, level, False)


@pytest.mark.parametrize("veto_question", ["civil_capacity", "loss_tolerance"])
def test_each_veto_makes_it_0_c1_lowest_whatever_else_was_answered(veto_question):
    answers = {}
    for q in defaults.PERSON_QUESTIONS:
        answers[q["id"]] = [o["value"] for o in q["options"]] if q["multi"] else max(
            (o for o in q["options"] if not o.get("veto")), key=lambda o: o["points"])["value"]
    answers[veto_question] = "no"
    result = rules.score(PERSONS, answers)
    assert (result.score, result.level, result.lowest) == (0, 1, True)
    assert result.lowest_reason in ("lacks full civil capacity", "unwilling to bear any loss")


def test_multi_choice_points_are_capped():
    answers = lowest_answers()
    answers["experience_kinds"] = ["bonds_funds", "stocks", "futures", "options"]  # 14 → capped 10
    assert rules.score(PERSONS, answers).score == 14


def test_every_missing_or_unknown_answer_is_reported():
    answers = lowest_answers()
    del answers["goal"]
    answers["debts"] = "lots"
    with pytest.raises(rules.AnswerError) as caught:
        rules.score(PERSONS, answers)
    assert set(caught.value.errors) == {"goal", "debts"}


def test_custom_bands_from_a_rule_set():
    bands = ((1, 0, 30), (2, 31, 50), (3, 51, 70), (4, 71, 90), (5, 91, 100))
    assert [rules.classify(s, bands) for s in (30, 31, 90, 91)] == [1, 2, 4, 5]
