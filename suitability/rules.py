"""The suitability rules as pure functions: matching, scoring, classification,
conversion thresholds and the mismatch-case state machine.

Plain data in, plain data out; no ORM. Each function reads like the spec table it
implements (docs/suitability.md points at the spec section of each).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

LEVEL_NAMES_ZH = {1: "保守型", 2: "谨慎型", 3: "稳健型", 4: "积极型", 5: "激进型"}
LEVEL_NAMES_EN = {1: "conservative", 2: "cautious", 3: "balanced", 4: "active", 5: "aggressive"}
RISK_NAMES_ZH = {1: "低风险", 2: "中低风险", 3: "中风险", 4: "中高风险", 5: "高风险"}
RISK_NAMES_EN = {1: "low", 2: "medium-low", 3: "medium", 4: "medium-high", 5: "high"}

# (level, lowest score, highest score) on the 0–100 scale (spec §2).
DEFAULT_BANDS = ((1, 0, 20), (2, 21, 35), (3, 36, 55), (4, 56, 80), (5, 81, 100))

MATCH = "match"
MISMATCH = "mismatch"
PROHIBITED = "prohibited"
RESULT_CHOICES = [
    (MATCH, gettext_lazy("match")), (MISMATCH, gettext_lazy("mismatch")), (PROHIBITED, gettext_lazy("prohibited")),
]

ORDINARY = "ordinary"
PROFESSIONAL = "professional"


def default_return_visit_levels() -> list[int]:
    return [4, 5]


def default_conversion_thresholds() -> dict:
    """CSRC measures art. 8 (professional B) and art. 11 (conversion on application), RMB."""
    return {
        "art8_institution": {"net_assets": 20_000_000, "financial_assets": 10_000_000, "experience_years": 2},
        "art8_person": {"financial_assets": 5_000_000, "average_income": 500_000, "experience_years": 2,
                        "work_years": 2},
        "art11_institution": {"net_assets": 10_000_000, "financial_assets": 5_000_000, "experience_years": 1},
        "art11_person": {"financial_assets": 3_000_000, "average_income": 300_000, "experience_years": 1,
                         "work_years": 1},
    }


def level_label(level: int | None, *, lowest: bool = False) -> str:
    if level is None:
        return "—"
    label = f"C{level} {LEVEL_NAMES_ZH[level]}"
    return f"{label} (lowest 最低类别)" if lowest else label


def risk_label(level: int) -> str:
    return f"R{level} {RISK_NAMES_ZH[level]}"


# --- dates --------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month `months` later (clamped: 2024-02-29 + 12 → 2025-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_business_days(day: dt.date, days: int, holidays: Iterable[dt.date] = ()) -> dt.date:
    """`days` working days after `day`, skipping weekends and the given holidays."""
    closed = set(holidays)
    current = day
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5 and current not in closed:
            remaining -= 1
    return current


def expires_on(assessed_on: dt.date, validity_months: int = 24) -> dt.date:
    """First day the assessment no longer counts."""
    return add_months(assessed_on, validity_months)


# --- matching (spec §4) -----------------------------------------------------------------


@dataclass(frozen=True)
class InvestorState:
    """What matching needs to know about a client on one day."""

    category: str = ORDINARY  # ordinary | professional
    professional_class: str = ""  # A | B | C
    level: int | None = None  # C1..C5 of a *valid* assessment, None = unassessed / expired
    lowest: bool = False
    horizon: str = ""  # short | medium | long
    product_kinds: tuple[str, ...] = ()
    # Products an exchange rule or a rejected case closes to the client.
    closed_products: frozenset[str] = frozenset()

    @property
    def is_professional(self) -> bool:
        return self.category == PROFESSIONAL

    @property
    def allowed_level(self) -> int:
        """Highest product level that matches without a warning."""
        if self.is_professional:
            return 5
        if self.level is None or self.lowest:
            return 1
        return self.level

    @property
    def label(self) -> str:
        if self.is_professional:
            return f"professional {self.professional_class}".strip()
        if self.level is None:
            return "unassessed"
        return f"C{self.level}" + (" lowest" if self.lowest else "")


@dataclass(frozen=True)
class Product:
    key: str  # "SHFE:rb", "DCE:i:options", or a catalog code
    level: int  # 1..5
    kind: str = ""  # catalog kind
    horizon: str = "short"
    flagged: bool = False  # unknown product, counted R5 until rated


@dataclass(frozen=True)
class Result:
    result: str  # match | mismatch | prohibited
    client_level: str
    product_level: str
    warnings: tuple[str, ...] = ()
    reason: str = ""


HORIZON_ORDER = {"short": 1, "medium": 2, "long": 3}
# Which intended product kinds (questionnaire answers) cover which catalog kinds.
KIND_COVERED_BY = {
    "commodity_futures": "futures",
    "financial_futures": "futures",
    "crude_futures": "futures",
    "options": "options",
    "am_product": "am_products",
    "advisory": "advisory",
    "otc_bounded": "otc",
    "otc_unbounded": "otc",
}


def match(investor: InvestorState, product: Product | int) -> Result:
    """The spec §4 table. `product` may be a bare level for the table itself."""
    if isinstance(product, int):
        product = Product(key="", level=product)
    level = product.level
    warnings = []
    if product.flagged:
        warnings.append("unrated_product")
    if not investor.is_professional:
        if investor.horizon and HORIZON_ORDER.get(product.horizon, 1) > HORIZON_ORDER.get(investor.horizon, 1):
            warnings.append("horizon")
        wanted = KIND_COVERED_BY.get(product.kind)
        if investor.product_kinds and wanted and wanted not in investor.product_kinds:
            warnings.append("product_kind")
    common = {"client_level": investor.label, "product_level": f"R{level}", "warnings": tuple(warnings)}
    if product.key and product.key in investor.closed_products:
        return Result(PROHIBITED, reason="closed", **common)
    if level <= investor.allowed_level:
        return Result(MATCH, **common)
    if investor.is_professional:  # unreachable: professionals take R1–R5
        return Result(MATCH, **common)
    if investor.lowest:
        return Result(PROHIBITED, reason="lowest", **common)
    if investor.level is None:
        return Result(PROHIBITED, reason="unassessed", **common)
    return Result(MISMATCH, reason="above_level", **common)


# --- questionnaire scoring (spec §2) ------------------------------------------------------


class AnswerError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Option:
    value: str
    points: int
    veto: bool = False
    maps_to: str | None = None  # horizon code or product kind


@dataclass(frozen=True)
class Question:
    id: str
    options: tuple[Option, ...]
    multi: bool = False
    max_points: int | None = None
    dimension: str | None = None  # "horizon" | "product_kinds"
    veto_reason: str = ""


@dataclass(frozen=True)
class Questionnaire:
    questions: tuple[Question, ...]
    bands: tuple = DEFAULT_BANDS

    @classmethod
    def from_json(cls, questions: list, bands: Iterable) -> Questionnaire:
        return cls(
            questions=tuple(
                Question(
                    id=q["id"],
                    multi=bool(q.get("multi")),
                    max_points=q.get("max_points"),
                    dimension=q.get("dimension"),
                    veto_reason=q.get("veto_reason", ""),
                    options=tuple(
                        Option(
                            value=o["value"], points=int(o.get("points", 0)),
                            veto=bool(o.get("veto")), maps_to=o.get("maps_to"),
                        )
                        for o in q["options"]
                    ),
                )
                for q in questions
            ),
            bands=tuple(tuple(b) for b in bands),
        )

    @property
    def max_score(self) -> int:
        total = 0
        for q in self.questions:
            if q.multi:
                total += q.max_points if q.max_points is not None else sum(o.points for o in q.options)
            else:
                total += max(o.points for o in q.options)
        return total


@dataclass(frozen=True)
class Score:
    score: int
    level: int
    lowest: bool
    lowest_reason: str
    horizon: str
    product_kinds: tuple[str, ...]


def classify(score: int, bands: Iterable = DEFAULT_BANDS) -> int:
    """The level whose band holds the score (bands are inclusive at both edges)."""
    for level, low, high in bands:
        if low <= score <= high:
            return int(level)
    raise ValueError(f"score {score} is outside every band")


def score(questionnaire: Questionnaire, answers: Mapping[str, object]) -> Score:
    """Score the answers; a veto answer makes it 0 / C1 / lowest whatever else was answered.

    answers: {question id: option value} (a list of values for multi questions).
    Raises AnswerError listing every unanswered question or unknown option.
    """
    errors: dict[str, str] = {}
    total = 0
    vetoes: list[str] = []
    horizon = ""
    kinds: list[str] = []
    for q in questionnaire.questions:
        raw = answers.get(q.id)
        chosen = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        chosen = [c for c in chosen if c not in ("", None)]
        if not chosen:
            errors[q.id] = _("This question must be answered.")
            continue
        if not q.multi and len(chosen) > 1:
            errors[q.id] = _("Choose one option.")
            continue
        by_value = {o.value: o for o in q.options}
        unknown = [c for c in chosen if not isinstance(c, (str, int)) or c not in by_value]
        if unknown:
            errors[q.id] = _("Unknown option %(option)r.") % {"option": unknown[0]}
            continue
        options = [by_value[c] for c in chosen]
        points = sum(o.points for o in options)
        if q.multi and q.max_points is not None:
            points = min(points, q.max_points)
        total += points
        for option in options:
            if option.veto:
                vetoes.append(q.veto_reason or q.id)
            if q.dimension == "horizon" and option.maps_to:
                horizon = option.maps_to
            if q.dimension == "product_kinds" and option.maps_to and option.maps_to not in kinds:
                kinds.append(option.maps_to)
    if errors:
        raise AnswerError(errors)
    if vetoes:
        return Score(0, 1, True, "; ".join(vetoes), horizon, tuple(kinds))
    return Score(total, classify(total, questionnaire.bands), False, "", horizon, tuple(kinds))


def lowest_for_another_reason(result: Score, reason: str) -> Score:
    """Spec §2: a person who meets another legal condition of the lowest category is C1,
    lowest, whatever the answers scored; the reason is recorded (after any veto's)."""
    reasons = "; ".join(r for r in (result.lowest_reason, reason.strip()) if r)
    return replace(result, level=1, lowest=True, lowest_reason=reasons)


# --- classification records (spec §1) ------------------------------------------------------

# The legal bases each classification may rest on ("migrated": the back office decided it).
LEGAL_BASES = {
    ("professional", "A"): ("art8_a", "migrated"),
    ("professional", "B"): ("art8_b_institution", "art8_b_person", "migrated"),
    ("professional", "C"): ("art11_conversion", "migrated"),
    ("ordinary", ""): ("opt_down", "default_ordinary", "migrated"),
}
# Bases that only a conversion record can carry: its workflow checked them.
BASES_FROM_CONVERSION = ("art11_conversion", "opt_down")


def classification_errors(
    *, category: str, professional_class: str, legal_basis: str, person: bool,
    from_conversion: bool, evidence: str,
) -> dict[str, str]:
    """What is wrong with a classification decision, by field (empty when it may be recorded)."""
    if category == PROFESSIONAL and professional_class not in ("A", "B", "C"):
        return {"professional_class": _("A professional investor needs class A, B or C.")}
    allowed = LEGAL_BASES[(category, professional_class if category == PROFESSIONAL else "")]
    if legal_basis not in allowed:
        return {"legal_basis": _("This legal basis does not give that classification.")}
    if legal_basis in BASES_FROM_CONVERSION and not from_conversion:
        return {"legal_basis": _("This classification comes only from a conversion: record the conversion instead.")}
    if legal_basis == "art8_b_person" and not person:
        return {"legal_basis": _("Art. 8 (5) is for natural persons; an institution is classified under art. 8 (4).")}
    if legal_basis == "art8_b_institution" and person:
        return {"legal_basis": _("Art. 8 (4) is for institutions; a natural person is classified under art. 8 (5).")}
    if category == PROFESSIONAL and not evidence.strip():
        return {"evidence": _("Attach the evidence the classification rests on.")}
    return {}


# --- professional thresholds (spec §1) ------------------------------------------------------


def _d(value) -> Decimal:
    return Decimal(str(value or 0))


@dataclass(frozen=True)
class ThresholdCheck:
    passed: bool
    checks: dict  # {criterion: {"value", "threshold", "met"}}


def _criterion(value, threshold) -> dict:
    return {"value": str(_d(value)), "threshold": str(_d(threshold)), "met": _d(value) >= _d(threshold)}


def check_thresholds(
    *, rule: str, applicant_type: str, net_assets=None, financial_assets=None,
    average_income=None, experience_years=0, work_years=0, thresholds: Mapping | None = None,
) -> ThresholdCheck:
    """rule "art11" (ordinary → professional C) or "art8" (professional B).

    institution: net assets AND financial assets AND experience.
    person: (financial assets OR average income) AND (experience OR relevant work).
    """
    t = (thresholds or default_conversion_thresholds())[f"{rule}_{applicant_type}"]
    if applicant_type == "institution":
        checks = {
            "net_assets": _criterion(net_assets, t["net_assets"]),
            "financial_assets": _criterion(financial_assets, t["financial_assets"]),
            "experience_years": _criterion(experience_years, t["experience_years"]),
        }
        passed = all(c["met"] for c in checks.values())
    else:
        checks = {
            "financial_assets": _criterion(financial_assets, t["financial_assets"]),
            "average_income": _criterion(average_income, t["average_income"]),
            "experience_years": _criterion(experience_years, t["experience_years"]),
            "work_years": _criterion(work_years, t["work_years"]),
        }
        wealth = checks["financial_assets"]["met"] or checks["average_income"]["met"]
        experience = checks["experience_years"]["met"] or checks["work_years"]["met"]
        passed = wealth and experience
    return ThresholdCheck(passed=passed, checks=checks)


# --- mismatch-case state machine (spec §5) ----------------------------------------------------

OPEN = "open"
NOTICE_GIVEN = "notice_given"
WARNING_SIGNED = "warning_signed"
UNDER_REVIEW = "under_review"
ACCEPTED = "accepted"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
RESOLVED_BY_REASSESSMENT = "resolved_by_reassessment"

OPEN_STATES = (OPEN, NOTICE_GIVEN, WARNING_SIGNED, UNDER_REVIEW)
TERMINAL_STATES = (ACCEPTED, REJECTED, WITHDRAWN, RESOLVED_BY_REASSESSMENT)

MANAGER = "manager"  # the client's own account manager
COMPLIANCE = "compliance"


@dataclass(frozen=True)
class Step:
    from_states: tuple[str, ...]
    to_state: str
    actor: str  # MANAGER | COMPLIANCE
    needs_note: bool = False
    needs_evidence: bool = False
    needs_signed_on: bool = False
    prohibited_cases: bool = False  # allowed on prohibited cases
    mismatch_cases: bool = True  # allowed on mismatch cases


STEPS: dict[str, Step] = {
    "give_notice": Step((OPEN,), NOTICE_GIVEN, MANAGER),
    "sign_warning": Step((NOTICE_GIVEN,), WARNING_SIGNED, MANAGER, needs_evidence=True, needs_signed_on=True),
    "submit_for_review": Step((WARNING_SIGNED,), UNDER_REVIEW, MANAGER),
    "withdraw": Step((OPEN, NOTICE_GIVEN, WARNING_SIGNED, UNDER_REVIEW), WITHDRAWN, MANAGER, needs_note=True),
    "accept": Step((UNDER_REVIEW,), ACCEPTED, COMPLIANCE, needs_note=True),
    "reject": Step((UNDER_REVIEW,), REJECTED, COMPLIANCE, needs_note=True, prohibited_cases=True),
    "resolve_by_reassessment": Step(
        (UNDER_REVIEW,), RESOLVED_BY_REASSESSMENT, COMPLIANCE, needs_note=True, prohibited_cases=True,
    ),
}


class TransitionError(ValueError):
    """A step the case's state, kind or the user's role does not allow."""

    def __init__(self, message: str, field: str = "action"):
        super().__init__(message)
        self.field = field


def initial_state(result: str) -> str:
    """Prohibited cases go straight to compliance."""
    return UNDER_REVIEW if result == PROHIBITED else OPEN


def actors_for(*, roles: Iterable[str], is_clients_manager: bool) -> frozenset[str]:
    """Which actor hats a user wears for one case."""
    hats = set()
    if is_clients_manager and "account_manager" in set(roles):
        hats.add(MANAGER)
    if "compliance" in set(roles):
        hats.add(COMPLIANCE)
    return frozenset(hats)


# The steps that rest on the client's informed consent at a known level (spec §4, §5).
WARNING_PATH_ENDS = ("sign_warning", "accept")
PROHIBITED_NOW_MESSAGES = {
    "lowest": gettext_lazy("The client is now in the lowest risk category: no warning can be signed or accepted "
                 "for this product. Reject the case, or let the client give up."),
    "unassessed": gettext_lazy("The client has no valid assessment now: a new questionnaire is needed before the "
                     "warning can be signed or accepted."),
    "closed": gettext_lazy("Compliance has restricted this product for the client."),
}


def check_step(
    action: str, *, state: str, result: str, lowest: bool, actors: Iterable[str],
    note: str = "", evidence: str = "", signed_on: dt.date | None = None, prohibited_now: str = "",
) -> str:
    """Validate one step; return the state it leads to or raise TransitionError.

    `prohibited_now` is the reason (lowest, unassessed, closed) when the product is
    prohibited for the client today although the case opened as a mismatch: the client's
    assessment expired or a new one put them in the lowest category meanwhile."""
    step = STEPS.get(action)
    if step is None:
        raise TransitionError(_("Unknown action %(action)r.") % {"action": action})
    if result == PROHIBITED and not step.prohibited_cases:
        raise TransitionError(_("A prohibited case can only end rejected or resolved by re-assessment."))
    if result != PROHIBITED and not step.mismatch_cases:
        raise TransitionError(_("%(action)s is not a step of a mismatch case.") % {"action": action})
    if action == "sign_warning" and lowest:
        raise TransitionError(_("The lowest risk category cannot sign a warning for this product."))
    if action in WARNING_PATH_ENDS and prohibited_now:
        raise TransitionError(str(PROHIBITED_NOW_MESSAGES.get(prohibited_now, PROHIBITED_NOW_MESSAGES["closed"])))
    if step.actor not in set(actors):
        if step.actor == MANAGER:
            raise TransitionError(_("Only the client's account manager takes this step."))
        raise TransitionError(_("Only compliance takes this step."))
    if state not in step.from_states:
        raise TransitionError(_("%(action)s is not possible from %(state)s.") % {"action": action, "state": state})
    if step.needs_note and not note.strip():
        raise TransitionError(_("A reason is required."), field="note")
    if step.needs_evidence and not evidence.strip():
        raise TransitionError(_("The signed warning's document reference is required."), field="evidence")
    if step.needs_signed_on and signed_on is None:
        raise TransitionError(_("The signing date is required."), field="signed_on")
    return step.to_state


def allowed_actions(
    *, state: str, result: str, lowest: bool, actors: Iterable[str], prohibited_now: str = ""
) -> list[str]:
    """The steps a user could take now (form fields aside)."""
    out = []
    for action, _step in STEPS.items():
        try:
            check_step(
                action, state=state, result=result, lowest=lowest, actors=actors,
                note="x", evidence="x", signed_on=dt.date(2000, 1, 1), prohibited_now=prohibited_now,
            )
        except TransitionError:
            continue
        out.append(action)
    return out
