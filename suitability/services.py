"""Writes: assessments, checks, mismatch cases and their steps, conversions, detection
of mismatches in imported trades, and the tasks suitability raises."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from brokercrm.db import local_setting
from clients import roles
from clients.importers.base import after_import
from clients.models import Account, Client, ImportBatch, Task, Trade
from clients.models.core import TaskKind, TaskOrigin, TaskStatus

from . import rules, selectors
from .models import (
    ApplicantType,
    Assessment,
    CaseSource,
    CaseState,
    CaseTradeDay,
    CaseTransition,
    Category,
    Conversion,
    ConversionDirection,
    ConversionState,
    InvestorCategoryRecord,
    LegalBasis,
    MismatchCase,
    ProcessedTradeBatch,
    QuestionnaireVersion,
    ReturnVisit,
    RuleSet,
)

log = logging.getLogger(__name__)


# Who may run a pre-sale check (and so open a case): the people who sell and compliance.
PRESALE_ROLES = (roles.ACCOUNT_MANAGER, roles.BRANCH_MANAGER, roles.COMPLIANCE, roles.ADMIN)


class SuitabilityError(ValidationError):
    """A request the rules refuse; carries {field: [messages]} for forms and the API."""


def _today() -> dt.date:
    return timezone.localdate()


# --- assessments -----------------------------------------------------------------------


def assessment_create(
    *, client: Client, answers: dict, entered_by=None, questionnaire: QuestionnaireVersion | None = None,
    assessed_on: dt.date | None = None, client_signed_on: dt.date | None = None, esign_ref: str = "",
    supersedes: Assessment | None = None, note: str = "", lowest_other_reason: str = "",
) -> Assessment:
    """Score the answers with the questionnaire in force and store the assessment.

    lowest_other_reason: the person meets another legal condition of the lowest category
    (spec §2), stated; the result is then C1, lowest, whatever the answers scored.

    A result that lowers what the client may trade opens re-assessment cases for the
    products they traded recently (spec §5 source c)."""
    _check_assessment_input(client=client, answers=answers, assessed_on=assessed_on,
                            client_signed_on=client_signed_on, supersedes=supersedes)
    if lowest_other_reason.strip() and client.client_type != "person":
        raise SuitabilityError({"lowest_other_reason": [
            _("Only a natural person can be placed in the lowest risk category.")]})
    assessed_on = assessed_on or _today()
    audience = "person" if client.client_type == "person" else "institution"
    questionnaire = questionnaire or QuestionnaireVersion.current(audience, assessed_on)
    if questionnaire is None:
        raise SuitabilityError({"questionnaire": [_("No questionnaire version is in force.")]})
    try:
        result = rules.score(questionnaire.as_spec(), answers)
    except rules.AnswerError as exc:
        raise SuitabilityError({k: [v] for k, v in exc.errors.items()}) from exc
    if lowest_other_reason.strip():
        result = rules.lowest_for_another_reason(result, lowest_other_reason)
    rule_set = RuleSet.current(assessed_on)
    before = selectors.investor_state(client, assessed_on).state
    with transaction.atomic():
        assessment = Assessment.objects.create(
            client=client, questionnaire=questionnaire, questionnaire_label=questionnaire.code,
            rule_set=rule_set, answers=answers, score=result.score, level=result.level,
            lowest=result.lowest, lowest_reason=result.lowest_reason, horizon=result.horizon,
            product_kinds=list(result.product_kinds), assessed_on=assessed_on,
            expires_on=rules.expires_on(assessed_on, rule_set.validity_months),
            client_signed_on=client_signed_on, esign_ref=esign_ref, supersedes=supersedes,
            note=note, entered_by=entered_by,
        )
        _close_reassessment_tasks(client, entered_by)
        after = selectors.investor_state(client, assessed_on).state
        if after.allowed_level < before.allowed_level or (after.lowest and not before.lowest):
            _cases_for_lowered_level(client=client, assessment=assessment, on=assessed_on, user=entered_by)
    return assessment


def _check_assessment_input(*, client: Client, answers, assessed_on, client_signed_on, supersedes) -> None:
    """What the questionnaire cannot check: the shape of the answers, dates that have not
    happened yet, and a correction pointing at another client's assessment."""
    errors: dict[str, list[str]] = {}
    if not isinstance(answers, Mapping):
        errors["answers"] = [_("The answers must be an object: {question id: option value}.")]
    today = _today()
    if assessed_on is not None and assessed_on > today:
        errors["assessed_on"] = [_("The assessment date cannot be in the future.")]
    if client_signed_on is not None and client_signed_on > today:
        errors["client_signed_on"] = [_("The client's signing date cannot be in the future.")]
    if supersedes is not None and supersedes.client_id != client.pk:
        errors["supersedes"] = [_("The corrected assessment belongs to another client.")]
    if errors:
        raise SuitabilityError(errors)


def _close_reassessment_tasks(client: Client, user) -> None:
    Task.objects.filter(client=client, kind=TaskKind.REASSESSMENT, status=TaskStatus.OPEN).update(
        status=TaskStatus.DONE, completed_at=timezone.now(), completed_by=user,
        outcome="New assessment entered.",
    )


def _cases_for_lowered_level(*, client: Client, assessment: Assessment, on: dt.date, user) -> list:
    rule_set = assessment.rule_set
    since = on - dt.timedelta(days=rule_set.recent_trade_days)
    traded = (
        Trade.objects.filter(account__client=client, trading_day__gte=since)
        .values_list("exchange", "product_code", "is_option").distinct()
    )
    catalog = selectors.Catalog()
    suit = selectors.investor_state(client, on)
    opened = []
    for exchange, code, is_option in traded:
        resolved = catalog.for_trade(exchange, code, is_option)
        outcome = rules.match(suit.state, resolved.product)
        if outcome.result == rules.MATCH:
            continue
        case, created = case_open(
            client=client, resolved=resolved, outcome=outcome, source=CaseSource.REASSESSMENT,
            suit=suit, user=user,
        )
        if created:
            opened.append(case)
    return opened


# --- checks and case opening ------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    outcome: rules.Result
    resolved: selectors.ResolvedProduct
    suit: selectors.ClientSuitability
    case: MismatchCase | None = None
    known: bool = True  # rated in the catalog or listed in the product reference table


def check(*, client: Client, product: str, on: dt.date | None = None) -> CheckResult:
    """The matching result for a client and a product text (no record written). A product
    neither rated nor in the reference table counts R5, flagged (`known` False)."""
    on = on or _today()
    catalog = selectors.Catalog()
    resolved = catalog.resolve(product)
    suit = selectors.investor_state(client, on)
    return CheckResult(rules.match(suit.state, resolved.product), resolved, suit, known=catalog.is_known(resolved))


def presale_check(
    *, account: Account | None = None, client: Client | None = None, product: str, user=None,
    on: dt.date | None = None,
) -> CheckResult:
    """A pre-sale check by an account manager; a mismatch or prohibition opens a case
    (or returns the client's open case for that product)."""
    client = client or account.client
    result = check(client=client, product=product, on=on)
    if not result.known:  # most likely a typo, which would open a case kept for 20 years
        raise SuitabilityError({"product": [
            _("Unknown product “%(text)s”: enter a catalog code (AM-R2), EXCHANGE:code (SHFE:rb), "
              "a product code (rb) or a contract (IF2512).") % {"text": product.strip()}
        ]})
    if result.outcome.result == rules.MATCH:
        return result
    case, _created = case_open(
        client=client, account=account, resolved=result.resolved, outcome=result.outcome,
        source=CaseSource.PRESALE, suit=result.suit, user=user,
    )
    return CheckResult(result.outcome, result.resolved, result.suit, case, result.known)


def case_open(
    *, client: Client, resolved: selectors.ResolvedProduct, outcome: rules.Result, source: str,
    suit: selectors.ClientSuitability, user=None, account: Account | None = None,
    first_trading_day: dt.date | None = None,
) -> tuple[MismatchCase, bool]:
    key = resolved.product.key
    with transaction.atomic():
        existing = MismatchCase.objects.filter(
            client=client, product_key=key, state__in=rules.OPEN_STATES
        ).first()
        if existing is not None:
            return existing, False
        state = rules.initial_state(outcome.result)
        case = MismatchCase.objects.create(
            client=client, account=account, catalog_entry=resolved.entry, product_key=key,
            product_flagged=resolved.product.flagged, source=source, result=outcome.result,
            state=state, client_level=outcome.client_level, client_lowest=suit.state.lowest,
            product_level=resolved.product.level, warnings=list(outcome.warnings),
            assessment=suit.assessment, rule_set=RuleSet.current(), opened_by=user,
            first_trading_day=first_trading_day,
        )
        CaseTransition.objects.create(
            case=case, action="open", from_state="", to_state=state, by=user,
            note=f"{CaseSource(source).label}: {outcome.client_level} vs R{resolved.product.level}"
            + (f" ({outcome.reason})" if outcome.reason else ""),
        )
    return case, True


# --- case steps -----------------------------------------------------------------------------


def case_actors(case: MismatchCase, user) -> frozenset[str]:
    return rules.actors_for(
        roles=roles.user_roles(user), is_clients_manager=case.client.manager_id == user.pk
    )


def case_current_outcome(case: MismatchCase, on: dt.date | None = None, *, ignore_closure: bool = False) -> rules.Result:
    """The case's product matched against the client's state today (the product at its
    current rating), which may differ from the result the case opened with.

    ignore_closure: leave out an earlier rejection's closing of the product (the question
    a resolution answers is whether the client's level now allows it)."""
    suit = selectors.investor_state(case.client, on or _today())
    state = suit.state
    if ignore_closure:
        state = dataclasses.replace(state, closed_products=state.closed_products - {case.product_key})
    level = case.catalog_entry.risk_level if case.catalog_entry is not None else case.product_level
    return rules.match(state, rules.Product(key=case.product_key, level=level))


def _prohibited_now(case: MismatchCase) -> str:
    """The reason the case's product is prohibited for the client today, where it matters:
    only before the warning path's consenting steps of a mismatch case."""
    if case.result == rules.PROHIBITED or case.state not in (CaseState.NOTICE_GIVEN, CaseState.UNDER_REVIEW):
        return ""
    outcome = case_current_outcome(case)
    return outcome.reason if outcome.result == rules.PROHIBITED else ""


def case_allowed_actions(case: MismatchCase, user) -> list[str]:
    return rules.allowed_actions(
        state=case.state, result=case.result, lowest=case.client_lowest, actors=case_actors(case, user),
        prohibited_now=_prohibited_now(case),
    )


def case_transition(
    *, case: MismatchCase, user, action: str, note: str = "", evidence: str = "",
    signed_on: dt.date | None = None,
) -> CaseTransition:
    """One step of a case: validated against the state machine and the user's role,
    recorded as a CaseTransition; the case's state follows."""
    if signed_on is not None and signed_on > _today():
        raise SuitabilityError({"signed_on": [_("The signing date cannot be in the future.")]})
    with transaction.atomic():
        case = MismatchCase.objects.select_for_update().select_related("client").get(pk=case.pk)
        try:
            to_state = rules.check_step(
                action, state=case.state, result=case.result, lowest=case.client_lowest,
                actors=case_actors(case, user), note=note, evidence=evidence, signed_on=signed_on,
                prohibited_now=_prohibited_now(case),
            )
        except rules.TransitionError as exc:
            raise SuitabilityError({exc.field: [str(exc)]}) from exc
        if action == "resolve_by_reassessment":
            _check_resolved(case)
        transition = CaseTransition.objects.create(
            case=case, action=action, from_state=case.state, to_state=to_state, by=user,
            note=note, evidence=evidence, signed_on=signed_on,
        )
        fields = {"state": to_state}
        if to_state in rules.TERMINAL_STATES:
            fields["closed_at"] = transition.at
        # The case row's state mirrors its last transition (a compare-and-swap update).
        changed = MismatchCase.objects.filter(pk=case.pk, state=case.state).update(**fields)
        if changed != 1:
            raise SuitabilityError({"action": [_("The case changed meanwhile; reload it.")]})
        case.state = to_state
        if action == "accept":
            _schedule_return_visit(case, user)
    return transition


def _check_resolved(case: MismatchCase) -> None:
    """A re-assessment resolves a case when the client's state no longer gives its result;
    a case of a product compliance closed only when the client's level now allows the
    product (a mismatch would lift the restriction without a signed warning)."""
    outcome = case_current_outcome(case, ignore_closure=True)
    if selectors.closed_when_opened(case):
        unresolved = outcome.result != rules.MATCH
    else:
        needed = rules.PROHIBITED if case.result == rules.PROHIBITED else rules.MISMATCH
        unresolved = outcome.result == needed or outcome.result == rules.PROHIBITED
    if unresolved:
        raise SuitabilityError(
            {"action": [_("The client's current assessment (%(level)s) does not resolve the case.")
                        % {"level": outcome.client_level}]}
        )


def _schedule_return_visit(case: MismatchCase, user) -> Task | None:
    rule_set = case.rule_set
    levels = {int(x) for x in rule_set.return_visit_levels}
    if case.product_level not in levels or case.client_level.startswith("professional"):
        return None
    due = rules.add_business_days(_today(), rule_set.return_visit_business_days)
    return Task.objects.create(
        assignee=case.client.manager or user, client=case.client, kind=TaskKind.RETURN_VISIT,
        title=f"回访 Return visit: {case.client.name} · {case.product_key} (R{case.product_level})",
        due_on=due, origin=TaskOrigin.SYSTEM,
        source_type=ContentType.objects.get_for_model(MismatchCase), source_id=case.pk,
    )


def return_visit_record(*, task: Task, user, outcome: str, note: str = "", visited_on: dt.date | None = None) -> ReturnVisit:
    case_type = ContentType.objects.get_for_model(MismatchCase)
    if task.kind != TaskKind.RETURN_VISIT or task.source_type_id != case_type.pk:
        raise SuitabilityError({"task": [_("Not a return-visit task of a mismatch case.")]})
    if visited_on is not None and visited_on > _today():
        raise SuitabilityError({"visited_on": [_("The visit date cannot be in the future.")]})
    with transaction.atomic():
        if Task.objects.select_for_update().get(pk=task.pk).status != TaskStatus.OPEN:
            raise SuitabilityError({"task": [_("This return visit is already recorded.")]})
        visit = ReturnVisit.objects.create(
            case_id=task.source_id, task=task, outcome=outcome, note=note,
            visited_on=visited_on or _today(), recorded_by=user,
        )
        Task.objects.filter(pk=task.pk).update(
            status=TaskStatus.DONE, outcome=f"{outcome}: {note}".strip(": "),
            completed_at=timezone.now(), completed_by=user,
        )
    return visit


# --- categories and conversions ------------------------------------------------------------


def category_record_create(
    *, client: Client, category: str, professional_class: str = "", legal_basis: str,
    evidence: str = "", effective_from: dt.date | None = None, user=None, note: str = "",
    conversion: Conversion | None = None,
) -> InvestorCategoryRecord:
    if category == Category.ORDINARY:
        professional_class = ""
    errors = rules.classification_errors(
        category=category, professional_class=professional_class, legal_basis=legal_basis,
        person=client.client_type == "person", from_conversion=conversion is not None, evidence=evidence,
    )
    if errors:
        raise SuitabilityError({name: [message] for name, message in errors.items()})
    effective_from = effective_from or _today()
    previous = selectors.category_on(client, effective_from)[2]
    if effective_from <= _today():
        # the client record's category (client page, list filters, exports) follows the
        # decision in force, as the back office's file would after its next export
        Client.objects.filter(pk=client.pk).update(investor_category=category)
    return InvestorCategoryRecord.objects.create(
        client=client, category=category, professional_class=professional_class,
        legal_basis=legal_basis, evidence=evidence, effective_from=effective_from, note=note,
        conversion=conversion, supersedes=previous, rule_set=RuleSet.current(effective_from),
        decided_by=user,
    )


def conversion_submit(
    *, client: Client, direction: str, user, applicant_type: str | None = None, net_assets=None,
    financial_assets=None, average_income=None, experience_years=0, work_years=0, evidence: str = "",
    protections_explained: bool = False,
) -> Conversion:
    """Ordinary → professional: the application with its evidence and the automatic
    art. 11 check, awaiting compliance. Professional B (or C) → ordinary: on the client's
    written notice, effective at once, and a questionnaire is then due.

    The applicant type is the client's: persons and institutions have different thresholds."""
    today = _today()
    category, pclass, _record = selectors.category_on(client, today)
    rule_set = RuleSet.current(today)
    own_type = ApplicantType.PERSON if client.client_type == "person" else ApplicantType.INSTITUTION
    if applicant_type and applicant_type != own_type:
        raise SuitabilityError({"applicant_type": [
            _("The client is a %(type)s: apply with that type's thresholds.") % {"type": own_type.label.lower()}
        ]})
    applicant_type = own_type
    if direction == ConversionDirection.TO_ORDINARY:
        if category != Category.PROFESSIONAL:
            raise SuitabilityError({"direction": [_("The client is not a professional investor.")]})
        if pclass == "A":
            raise SuitabilityError({"direction": [_("Class A professional investors cannot opt down.")]})
        if pclass == "":
            # the back office's declaration only: it may be class A, which cannot opt down
            raise SuitabilityError({"direction": [
                _("The client's professional class is not recorded: compliance records it first "
                  "(class A cannot opt down).")
            ]})
        if not evidence.strip():
            raise SuitabilityError({"evidence": [_("Attach the reference of the client's written notice.")]})
        with transaction.atomic():
            conversion = Conversion.objects.create(
                client=client, direction=direction, applicant_type=applicant_type, evidence=evidence,
                state=ConversionState.EFFECTIVE, submitted_by=user, decided_by=user,
                decided_at=timezone.now(), decision_reason="Client's written notice: effective at once.",
                check_passed=True, rule_set=rule_set,
            )
            category_record_create(
                client=client, category=Category.ORDINARY, legal_basis=LegalBasis.OPT_DOWN,
                evidence=evidence, effective_from=today, user=user, conversion=conversion,
            )
            reassessment_task_raise(client=client, due_on=today, source=conversion, user=user,
                                    title_reason="opted down to ordinary")
        return conversion
    if category == Category.PROFESSIONAL:
        raise SuitabilityError({"direction": [_("The client is already a professional investor.")]})
    if not evidence.strip():
        raise SuitabilityError({"evidence": [_("Attach the evidence reference (asset proof, experience).")]})
    checked = rules.check_thresholds(
        rule="art11", applicant_type=applicant_type, net_assets=net_assets,
        financial_assets=financial_assets, average_income=average_income,
        experience_years=experience_years, work_years=work_years,
        thresholds=rule_set.conversion_thresholds,
    )
    return Conversion.objects.create(
        client=client, direction=direction, applicant_type=applicant_type, net_assets=net_assets,
        financial_assets=financial_assets, average_income=average_income,
        experience_years=experience_years, work_years=work_years, evidence=evidence,
        protections_explained=protections_explained, check_passed=checked.passed,
        check_result=checked.checks, state=ConversionState.SUBMITTED, submitted_by=user,
        rule_set=rule_set,
    )


def conversion_decide(*, conversion: Conversion, user, approve: bool, reason: str) -> Conversion:
    """Compliance decides; it may refuse even when the thresholds are met, never approve
    when they are not, and always gives the reason."""
    if not roles.has_role(user, roles.COMPLIANCE):
        raise SuitabilityError({"decision": [_("Only compliance decides conversions.")]})
    if not reason.strip():
        raise SuitabilityError({"reason": [_("Give the reason the applicant will be told.")]})
    with transaction.atomic():
        conversion = Conversion.objects.select_for_update().get(pk=conversion.pk)
        if conversion.state != ConversionState.SUBMITTED:
            raise SuitabilityError({"decision": [_("This conversion is already decided.")]})
        if approve and not conversion.check_passed:
            raise SuitabilityError({"decision": [_("The thresholds are not met: it can only be refused.")]})
        if approve and not conversion.protections_explained:
            raise SuitabilityError(
                {"decision": [_("The loss of protections must be explained in writing first.")]}
            )
        state = ConversionState.APPROVED if approve else ConversionState.REFUSED
        Conversion.objects.filter(pk=conversion.pk).update(
            state=state, decided_by=user, decided_at=timezone.now(), decision_reason=reason
        )
        if approve:
            category_record_create(
                client=conversion.client, category=Category.PROFESSIONAL, professional_class="C",
                legal_basis=LegalBasis.ART11_CONVERSION, evidence=conversion.evidence, user=user,
                conversion=conversion, note=reason,
            )
    conversion.refresh_from_db()
    return conversion


# --- tasks ---------------------------------------------------------------------------------


def reassessment_task_raise(*, client: Client, due_on: dt.date, source, user=None, title_reason: str = "") -> Task | None:
    source_type = ContentType.objects.get_for_model(source)
    if Task.objects.filter(
        kind=TaskKind.REASSESSMENT, source_type=source_type, source_id=source.pk
    ).exists():
        return None
    assignee = client.manager or user
    if assignee is None:
        return None
    return Task.objects.create(
        assignee=assignee, client=client, kind=TaskKind.REASSESSMENT,
        title=f"重新评估 Re-assessment: {client.name}" + (f" ({title_reason})" if title_reason else ""),
        due_on=due_on, origin=TaskOrigin.SYSTEM, source_type=source_type, source_id=source.pk,
    )


def raise_due_tasks(*, as_of: dt.date) -> dict:
    """Re-assessment tasks for assessments expiring within the notice window (one per
    assessment, never twice); return-visit tasks for accepted high-risk cases that lack
    one; counts of return visits now due."""
    rule_set = RuleSet.current(as_of)
    horizon = as_of + dt.timedelta(days=rule_set.expiry_notice_days)
    latest_ids = (
        Assessment.objects.filter(assessed_on__lte=as_of)
        .values("client").annotate(last=Max("id")).values_list("last", flat=True)
    )
    expiring = Assessment.objects.filter(
        id__in=list(latest_ids), expires_on__gte=as_of, expires_on__lte=horizon
    ).select_related("client")
    raised = skipped = 0
    for assessment in expiring:
        task = reassessment_task_raise(
            client=assessment.client, due_on=min(assessment.expires_on, horizon), source=assessment,
            title_reason=f"expires {assessment.expires_on}",
        )
        raised += task is not None
        skipped += task is None
    case_type = ContentType.objects.get_for_model(MismatchCase)
    with_task = Task.objects.filter(kind=TaskKind.RETURN_VISIT, source_type=case_type).values("source_id")
    missing = MismatchCase.objects.filter(
        state=CaseState.ACCEPTED, product_level__in=[int(x) for x in rule_set.return_visit_levels]
    ).exclude(id__in=with_task).select_related("client", "rule_set")
    visits_raised = 0
    for case in missing:
        last = case.transitions.filter(action="accept").select_related("by").last()
        if _schedule_return_visit(case, last.by if last else None):
            visits_raised += 1
    visits_due = Task.objects.filter(
        kind=TaskKind.RETURN_VISIT, status=TaskStatus.OPEN, due_on__lte=as_of
    ).count()
    return {
        "as_of": as_of.isoformat(), "reassessment_tasks": raised, "reassessment_skipped": skipped,
        "return_visit_tasks": visits_raised, "return_visits_due": visits_due,
    }


# --- detection in imported trades ------------------------------------------------------------


DETECT_LOCK_ID = 0x5D17EC7  # pg advisory lock key of the detection


def detect_mismatches_in_new_trades(*, batch_ids: list[int] | None = None) -> dict:
    """Set-based: every trade of trade batches not yet checked, joined with the client's
    valid assessment / category on its trading day and its product's level; trades
    above the client's level open one case per client × product or attach to the open one.

    Idempotent: processed batches are recorded (ProcessedTradeBatch) in the same
    transaction, and a lock keeps two runs from overlapping."""
    started = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [DETECT_LOCK_ID])
                # Hash joins and aggregates of a night's trades fit in memory; and the
                # commit need not wait for the disk: a lost commit only means the batches
                # are still unprocessed, and detection runs again (it is idempotent).
                cur.execute("SET LOCAL work_mem = '128MB'")
                cur.execute("SET LOCAL synchronous_commit = off")
        pending = ImportBatch.objects.filter(kind="trades", status="imported").exclude(
            id__in=ProcessedTradeBatch.objects.values("batch_id")
        )
        if batch_ids is not None:
            pending = pending.filter(id__in=batch_ids)
        batches = sorted(pending.values_list("id", flat=True))
        if batches and not (Assessment.objects.exists() or InvestorCategoryRecord.objects.exists()):
            # No suitability result exists yet (a firm still migrating): every client
            # would count as unassessed. The batches stay pending until results arrive.
            return {"batches": 0, "trades": 0, "mismatched_trades": 0, "cases_opened": 0,
                    "waiting": len(batches), "skipped": "no suitability results yet"}
        if not batches:
            return {"batches": 0, "trades": 0, "mismatched_trades": 0, "cases_opened": 0}
        counts = _detect(batches)
        ProcessedTradeBatch.objects.bulk_create(
            [ProcessedTradeBatch(batch_id=b, trades=counts["per_batch"].get(b, (0, 0))[0],
                                 mismatched_trades=counts["per_batch"].get(b, (0, 0))[1])
             for b in batches]
        )
    return {
        "batches": len(batches), "trades": counts["trades"],
        "mismatched_trades": counts["mismatched_trades"], "cases_opened": counts["cases_opened"],
        "timings": counts["timings"], "seconds": round((timezone.now() - started).total_seconds(), 3),
    }


# Levels are computed for every client when the batches hold at least one trade per
# ALL_CLIENTS_RATIO clients; below that, only for the clients who traded.
ALL_CLIENTS_RATIO = 4
# The scratch tables of a run. On PostgreSQL they are UNLOGGED, not TEMP: parallel workers
# cannot read TEMP tables, and the join over the night's trades is worth two cores. The
# advisory lock keeps two runs off the same names; they are dropped before the commit.
SCRATCH = ("suit_pm", "suit_lv", "suit_hits", "suit_closed", "suit_cov", "suit_new")


def _detect(batches: list[int]) -> dict:
    pg = connection.vendor == "postgresql"
    scratch = "UNLOGGED TABLE" if pg else "TEMP TABLE"
    in_batches = ",".join(["%s"] * len(batches))
    trade_t, account_t, client_t = Trade._meta.db_table, Account._meta.db_table, Client._meta.db_table
    case_t = MismatchCase._meta.db_table
    days_t = CaseTradeDay._meta.db_table
    assessment_t, category_t = Assessment._meta.db_table, InvestorCategoryRecord._meta.db_table
    catalog = selectors.Catalog()
    rule_set = RuleSet.current()
    timings: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now_ = time.perf_counter()
        timings[name] = round(now_ - mark, 3)
        mark = now_

    def resolved(exchange: str, code: str, is_option: bool) -> tuple:
        r = catalog.for_trade(exchange, code, is_option)
        return (exchange, code, is_option, r.product.key, r.product.level,
                r.entry.pk if r.entry else None, r.product.flagged)

    with connection.cursor() as cur:
        for table in SCRATCH:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        # 1. the products and trading days of the batches. The importer records both on
        #    each batch it stores (report["extra"]), so the night's trades need no scan
        #    here; a batch stored otherwise is scanned. Each product is resolved once.
        products, days, trade_counts = set(), set(), {}
        unrecorded = []
        for batch in ImportBatch.objects.filter(pk__in=batches).only("pk", "created", "updated", "report"):
            held = (batch.report or {}).get("extra", {})
            if "products" in held and "trading_days" in held:
                products.update((exchange, code, bool(option)) for exchange, code, option in held["products"])
                days.update(dt.date.fromisoformat(day) for day in held["trading_days"])
                # what the importer stored under the batch: its new trades and those it replaced
                trade_counts[batch.pk] = batch.created + batch.updated
            else:
                unrecorded.append(batch.pk)
        if unrecorded:
            cur.execute(
                f"SELECT batch_id, trading_day, exchange, product_code, is_option, COUNT(*) FROM {trade_t} "
                f"WHERE batch_id IN ({','.join(['%s'] * len(unrecorded))}) "
                "GROUP BY batch_id, trading_day, exchange, product_code, is_option",
                unrecorded,
            )
            for batch_id, day, exchange, code, is_option, n in cur.fetchall():
                products.add((exchange, code, bool(is_option)))
                days.add(_as_date(day))
                trade_counts[batch_id] = trade_counts.get(batch_id, 0) + n
        total_trades = sum(trade_counts.values())
        product_rows = [(n, *resolved(*product)) for n, product in enumerate(sorted(products))]
        # Only a client allowed less than the riskiest product traded can be above his
        # level; the others are left out of every step below.
        top_level = max((row[5] for row in product_rows), default=0)

        def insert_rows(table: str, rows: list[tuple]) -> None:
            for start in range(0, len(rows), 100):  # a statement per 100 rows, not per row
                chunk = rows[start:start + 100]
                one = "(" + ", ".join(["%s"] * len(chunk[0])) + ")"
                cur.execute(f"INSERT INTO {table} VALUES " + ", ".join([one] * len(chunk)),
                            [value for row in chunk for value in row])

        cur.execute(
            f"CREATE {scratch} suit_pm (id integer, exchange varchar(6), product_code varchar(10), "
            "is_option boolean, product_key varchar(40), level integer, entry_id bigint, flagged boolean)"
        )
        insert_rows("suit_pm", product_rows)
        # The client × products compliance closed (selectors.closed_pairs: few, rejections),
        # as suit_pm rows: a trade there opens a prohibited case and no older acceptance
        # covers it (steps 4–5); step 7 finds those within the client's level.
        closed = selectors.closed_pairs()
        pm_ids: dict[str, list[int]] = {}
        for row in product_rows:
            pm_ids.setdefault(row[4], []).append(row[0])
        cur.execute(f"CREATE {scratch} suit_closed (client_id bigint, product integer)")
        insert_rows("suit_closed", [(client_id, pm_id) for client_id, key in closed for pm_id in pm_ids.get(key, ())])
        lap("products")
        # 2. each client's level and category on each trading day (latest assessment
        #    made on or before the day, counted only while valid; latest category record),
        #    kept per account (the trades' key) and only for ordinary investors allowed
        #    less than top_level; lvl = the client's level, 0 unassessed, -1 lowest
        #    category; allowed = the highest product level tradable without a warning.
        allowed = "CASE WHEN a.level IS NULL OR a.lowest THEN 1 ELSE a.level END"
        # A big batch touches most clients: levels for all of them beat filtering by a
        # second scan of the trades; a small batch computes only its own accounts.
        cur.execute(f"SELECT COUNT(*) FROM {client_t}")
        only_traders = total_trades * ALL_CLIENTS_RATIO < cur.fetchone()[0]
        per_day, params = [], []
        day_param = "CAST(%s AS DATE)" if pg else "%s"  # SQLite keeps dates as ISO text

        def latest(table: str, columns: str, dated: str) -> str:
            """SQL: each client's latest row dated on or before the day (%s)."""
            if pg:  # one sort, no window
                return (f"SELECT DISTINCT ON (client_id) client_id, {columns} FROM {table} "
                        f"WHERE {dated} <= %s ORDER BY client_id, {dated} DESC, id DESC")
            return (f"SELECT * FROM (SELECT client_id, {columns}, ROW_NUMBER() OVER "
                    f"(PARTITION BY client_id ORDER BY {dated} DESC, id DESC) AS rn FROM {table} "
                    f"WHERE {dated} <= %s) WHERE rn = 1")

        for day in sorted(days):
            # An assessment made before the client's opt-down no longer counts; opt-downs
            # are rare, so the clients it voids are found by the selectors' own rule.
            void = selectors.clients_unassessed_by_opt_down(day)
            void_sql = f"AND c.id NOT IN ({', '.join(['%s'] * len(void))})" if void else ""
            per_day.append(
                f"""
                SELECT {day_param} AS day, ac.id AS account_id, c.id AS client_id,
                       CASE WHEN a.level IS NULL THEN 0 WHEN a.lowest THEN -1 ELSE a.level END AS lvl,
                       {allowed} AS allowed, a.id AS assessment_id
                FROM {client_t} c
                JOIN {account_t} ac ON ac.client_id = c.id
                LEFT JOIN ({latest(assessment_t, "level, lowest, id, expires_on", "assessed_on")}) a
                       ON a.client_id = c.id AND a.expires_on > %s AND a.level IS NOT NULL {void_sql}
                LEFT JOIN ({latest(category_t, "category", "effective_from")}) k ON k.client_id = c.id
                WHERE NOT (CASE WHEN k.category IS NOT NULL THEN k.category = 'professional'
                                ELSE c.investor_category = 'professional' END)
                  AND {allowed} < %s
                """
                + (f"AND ac.id IN (SELECT DISTINCT t.account_id FROM {trade_t} t "
                   f"WHERE t.batch_id IN ({in_batches}) AND t.trading_day = %s)" if only_traders else "")
            )
            params += [day, day, day, *void, day, top_level, *((*batches, day) if only_traders else ())]
        cur.execute(f"CREATE {scratch} suit_lv AS " + " UNION ALL ".join(per_day), params)
        if pg:  # the planner needs the sizes to run the join below in parallel
            cur.execute("ANALYZE suit_lv, suit_pm")
        lap("levels")
        # 3. the hits, grouped per batch × account × day × product as they are stored:
        #    the trades above what the client may trade without a warning. Only numbers
        #    cross the join: the product is its suit_pm row, which is also its case's
        #    product (one product_key per exchange × code × option?).
        # Joined in the written order: the levels first, so only candidates' trades stay.
        with local_setting(cur, "join_collapse_limit", "1"):
            cur.execute(
                f"""
                CREATE {scratch} suit_hits AS
                SELECT t.batch_id, t.account_id, t.trading_day, pm.id AS product, COUNT(*) AS trades,
                       SUM(t.volume) AS lots, MAX(lv.client_id) AS client_id, MAX(lv.lvl) AS lvl,
                       MAX(lv.assessment_id) AS assessment_id
                FROM {trade_t} t
                JOIN suit_lv lv ON lv.account_id = t.account_id AND lv.day = t.trading_day
                JOIN suit_pm pm ON pm.exchange = t.exchange AND pm.product_code = t.product_code
                               AND pm.is_option = t.is_option
                WHERE t.batch_id IN ({in_batches}) AND pm.level > lv.allowed
                GROUP BY t.batch_id, t.account_id, t.trading_day, pm.id
                """,
                batches,
            )
        cur.execute("SELECT batch_id, SUM(trades) FROM suit_hits GROUP BY batch_id")
        hit_counts = {batch_id: int(n) for batch_id, n in cur.fetchall()}
        lap("hits")
        # The scratch tables have no statistics; hash joins suit them (the planner
        # would sort both sides of every join for merge joins).
        with local_setting(cur, "enable_mergejoin", "off"):
            # 4. the case that already covers each client × product × client level of the
            #    hits: the open case for the client × product, or an accepted one opened at
            #    the same client level (the signed warning still holds) unless closed since
            cur.execute(
                f"""
                CREATE {scratch} suit_cov AS
                SELECT h.client_id, h.product, h.lvl, MAX(c.id) AS case_id
                FROM suit_hits h
                JOIN suit_pm pm ON pm.id = h.product
                JOIN {case_t} c ON c.client_id = h.client_id AND c.product_key = pm.product_key
                WHERE c.state IN ('open', 'notice_given', 'warning_signed', 'under_review')
                   OR (c.state = 'accepted' AND c.client_level = {_level_label("h.lvl")}
                       AND NOT EXISTS (SELECT 1 FROM suit_closed x WHERE x.client_id = h.client_id
                                       AND x.product = h.product))
                GROUP BY h.client_id, h.product, h.lvl
                """
            )
            # 5. one new case per uncovered client × product. No opening transition row: the
            #    case record is the opening (selectors.case_timeline shows it). The ids are
            #    drawn up front so that the trade groups find their case without reading back.
            if pg:
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [case_t])
                new_id = f"nextval('{cur.fetchone()[0]}')"
            else:  # one writer at a time: ids follow the largest
                cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {case_t}")
                new_id = f"{cur.fetchone()[0]} + ROW_NUMBER() OVER (ORDER BY client_id, product)"
            cur.execute(
                f"""
                CREATE {scratch} suit_new AS
                SELECT {new_id} AS id, g.* FROM (
                    SELECT h.client_id, h.product, MIN(h.account_id) AS account_id, MIN(h.lvl) AS lvl,
                           MAX(h.assessment_id) AS assessment_id, MIN(h.trading_day) AS first_day,
                           MAX(CASE WHEN x.client_id IS NULL THEN 0 ELSE 1 END) AS closed
                    FROM suit_hits h
                    LEFT JOIN suit_closed x ON x.client_id = h.client_id AND x.product = h.product
                    WHERE NOT EXISTS (SELECT 1 FROM suit_cov v WHERE v.client_id = h.client_id
                                      AND v.product = h.product AND v.lvl = h.lvl)
                    GROUP BY h.client_id, h.product ORDER BY h.client_id, h.product
                ) g
                """
            )
            now = timezone.now()
            cur.execute(
                f"""
                INSERT INTO {case_t} (id, client_id, account_id, catalog_entry_id, product_key, product_flagged,
                    source, result, state, client_level, client_lowest, product_level, warnings,
                    assessment_id, rule_set_id, first_trading_day, opened_at)
                SELECT n.id, n.client_id, n.account_id, pm.entry_id, pm.product_key, pm.flagged, 'trade',
                       CASE WHEN n.lvl <= 0 OR n.closed = 1 THEN 'prohibited' ELSE 'mismatch' END,
                       CASE WHEN n.lvl <= 0 OR n.closed = 1 THEN 'under_review' ELSE 'open' END,
                       {_level_label("n.lvl")}, n.lvl = -1, pm.level, '[]', n.assessment_id, %s, n.first_day, %s
                FROM suit_new n JOIN suit_pm pm ON pm.id = n.product ORDER BY n.id
                """,
                [rule_set.pk, now],
            )
            opened = cur.rowcount
            lap("cases")
            # 6. every hit group attaches to its covering case, else to the case just opened
            #    for its client × product; a group of an unchecked batch is new (only this
            #    service writes them, under the lock)
            cur.execute(
                f"""
                INSERT INTO {days_t} (case_id, batch_id, account_id, trading_day, exchange, product_code,
                                      is_option, trades, lots)
                SELECT COALESCE(v.case_id, n.id) AS case_id, h.batch_id, h.account_id, h.trading_day,
                       pm.exchange, pm.product_code, pm.is_option, h.trades, h.lots
                FROM suit_hits h
                JOIN suit_pm pm ON pm.id = h.product
                LEFT JOIN suit_cov v ON v.client_id = h.client_id AND v.product = h.product AND v.lvl = h.lvl
                LEFT JOIN suit_new n ON n.client_id = h.client_id AND n.product = h.product
                ORDER BY 1
                """
            )
            lap("case_trades")
        for table in SCRATCH:
            cur.execute(f"DROP TABLE {table}")
    # 7. trades within the client's level in a product compliance closed to them
    closed_hits, closed_opened = _closed_product_trades(closed, batches, sorted(days), catalog, rule_set)
    for batch_id, n in closed_hits.items():
        hit_counts[batch_id] = hit_counts.get(batch_id, 0) + n
    lap("closed")
    return {
        "trades": total_trades,
        "mismatched_trades": sum(hit_counts.values()),
        "cases_opened": opened + closed_opened,
        "timings": timings,
        "per_batch": {b: (trade_counts.get(b, 0), hit_counts.get(b, 0)) for b in batches},
    }


def _closed_product_trades(closed: list[tuple[int, str]], batches: list[int], days: list[dt.date],
                           catalog: selectors.Catalog, rule_set: RuleSet) -> tuple[dict[int, int], int]:
    """The batches' trades in a product closed to the client that the set-based steps left
    out because the client's level now allows it (or he became professional): rules.match
    checks the closure first, so they are prohibited too. Closures are compliance's
    rejections, few (`closed`: selectors.closed_pairs): one trades query per closed client
    × product.

    Returns the trades attached per batch and the cases opened."""
    per_batch: dict[int, int] = {}
    opened = 0
    for client_id, key in closed:
        exchange, _sep, rest = key.partition(":")
        if not rest:  # a catalog product (AM-R2…): not traded on an exchange
            continue
        code, is_option = rest.removesuffix(":options"), rest.endswith(":options")
        groups = [
            g for g in Trade.objects.filter(
                batch_id__in=batches, trading_day__in=days, account__client_id=client_id,
                exchange=exchange, product_code=code, is_option=is_option,
            ).values("batch_id", "account_id", "trading_day").annotate(n=Count("id"), lots=Sum("volume"))
            .order_by("trading_day", "account_id", "batch_id")
            if not CaseTradeDay.objects.filter(
                batch_id=g["batch_id"], account_id=g["account_id"], trading_day=g["trading_day"],
                exchange=exchange, product_code=code, is_option=is_option,
            ).exists()
        ]
        if not groups:
            continue
        case = MismatchCase.objects.filter(client_id=client_id, product_key=key, state__in=rules.OPEN_STATES).first()
        if case is None:
            first = groups[0]
            client = Client.objects.get(pk=client_id)
            suit = selectors.investor_state(client, first["trading_day"])
            resolved = catalog.for_trade(exchange, code, is_option)
            case = MismatchCase.objects.create(
                client=client, account_id=first["account_id"], catalog_entry=resolved.entry, product_key=key,
                product_flagged=resolved.product.flagged, source=CaseSource.TRADE, result=rules.PROHIBITED,
                state=rules.initial_state(rules.PROHIBITED), client_level=suit.state.label,
                client_lowest=suit.state.lowest, product_level=resolved.product.level, warnings=[],
                assessment=suit.assessment, rule_set=rule_set, first_trading_day=first["trading_day"],
            )
            opened += 1
        CaseTradeDay.objects.bulk_create([
            CaseTradeDay(case=case, batch_id=g["batch_id"], account_id=g["account_id"], trading_day=g["trading_day"],
                         exchange=exchange, product_code=code, is_option=is_option, trades=g["n"], lots=g["lots"])
            for g in groups
        ])
        for g in groups:
            per_batch[g["batch_id"]] = per_batch.get(g["batch_id"], 0) + g["n"]
    return per_batch, opened


def _level_label(lvl: str) -> str:
    """SQL: a case's client_level text for detection's lvl (0 unassessed, -1 lowest)."""
    return f"CASE WHEN {lvl} = 0 THEN 'unassessed' WHEN {lvl} = -1 THEN 'C1 lowest' ELSE 'C' || CAST({lvl} AS TEXT) END"


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@after_import("trades")
def detect_after_trades_import(batch) -> None:
    """Runs after each committed trades import."""
    summary = detect_mismatches_in_new_trades()
    log.info("suitability detection after batch %s: %s", getattr(batch, "pk", batch), summary)


def suitability_data_changed(*, client: Client, reason: str, user=None, source=None) -> Task | None:
    """Any change of suitability-relevant data (income, assets, civil capacity…) raises a
    re-assessment task (spec §6)."""
    last = selectors.latest_assessment(client, _today())
    return reassessment_task_raise(
        client=client, due_on=_today(), source=source or last or client, user=user, title_reason=reason
    )

