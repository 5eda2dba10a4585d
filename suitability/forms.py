"""Forms of the suitability pages. The questionnaire form is built from the version's data."""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from brokercrm.widgets import DateInput

from .models import (
    ApplicantType,
    CaseSource,
    CaseState,
    Conversion,
    ConversionDirection,
    QuestionnaireVersion,
    ReturnVisitOutcome,
)


def _text(item: dict, key: str = "text") -> str:
    zh = (get_language() or "").startswith("zh")
    return item.get(f"{key}_zh" if zh else f"{key}_en") or item.get(f"{key}_en", "")


class QuestionnaireForm(forms.Form):
    """One field per question of the version (radio or checkboxes), then the client's
    confirmation."""

    client_signed_on = forms.DateField(
        label=_("Client signed on"), required=False, widget=DateInput()
    )
    esign_ref = forms.CharField(label=_("E-signature reference"), required=False, max_length=100)
    lowest_other_reason = forms.CharField(
        label=_("Lowest risk category for another legal reason"), required=False, max_length=150,
        help_text=_("Only when the person meets another legal condition of the lowest category: "
                    "state it. The result is then C1, lowest category, whatever the answers score."),
    )

    def __init__(self, *args, questionnaire: QuestionnaireVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        other = self.fields.pop("lowest_other_reason")
        signed, esign = self.fields.pop("client_signed_on"), self.fields.pop("esign_ref")
        for number, q in enumerate(questionnaire.questions, start=1):
            choices = [(o["value"], _text(o)) for o in q["options"]]
            label = f"{number}. {_text(q)}"
            if q.get("multi"):
                field = forms.MultipleChoiceField(
                    label=label, choices=choices, widget=forms.CheckboxSelectMultiple
                )
            else:
                field = forms.ChoiceField(label=label, choices=choices, widget=forms.RadioSelect)
            self.fields[f"q_{q['id']}"] = field
        self.fields["client_signed_on"] = signed
        self.fields["esign_ref"] = esign
        if questionnaire.audience == "person":  # the lowest category is for natural persons
            self.fields["lowest_other_reason"] = other

    def answers(self) -> dict:
        return {
            name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("q_")
        }


class CheckForm(forms.Form):
    account = forms.CharField(label=_("Account no."), max_length=30)
    product = forms.CharField(
        label=_("Product"), max_length=40,
        help_text=_("Catalog code (AM-R2), product code (rb, sc) or contract (IF2512, i2607-P-750)"),
    )


class TransitionForm(forms.Form):
    action = forms.CharField(label=_("Step"), widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note / reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.CharField(label=_("Evidence / document reference"), required=False, max_length=300)
    signed_on = forms.DateField(
        label=_("Signed on"), required=False, widget=DateInput()
    )


class CaseFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"), required=False,
        choices=[("", _("Open (all waiting)")), ("all", _("All"))] + list(CaseState.choices),
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=[("", _("Any"))] + list(CaseSource.choices))
    result = forms.ChoiceField(
        label=_("Result"), required=False,
        choices=[("", _("Any")), ("mismatch", _("Mismatch")), ("prohibited", _("Prohibited"))],
    )
    product_level = forms.TypedChoiceField(
        label=_("Product level"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any"))] + [(str(n), f"R{n}") for n in range(1, 6)],
    )
    branch = forms.CharField(label=_("Branch code"), required=False)
    manager = forms.CharField(label=_("Manager"), required=False)
    q = forms.CharField(label=_("Client / product"), required=False)


def _amount_field(name: str, label, **kwargs) -> forms.DecimalField:
    """A decimal field with the digits of the Conversion model's field: a value the
    database column cannot hold is a field error, not a stored row that breaks every
    page showing it."""
    column = Conversion._meta.get_field(name)
    return forms.DecimalField(
        label=label, required=False, min_value=0,
        max_digits=column.max_digits, decimal_places=column.decimal_places, **kwargs,
    )


class ConversionForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=ConversionDirection.choices)
    applicant_type = forms.ChoiceField(label=_("Applicant"), choices=ApplicantType.choices)
    net_assets = _amount_field("net_assets", _("Net assets (institutions)"))
    financial_assets = _amount_field("financial_assets", _("Financial assets"))
    average_income = _amount_field("average_income", _("3-year average annual income"))
    experience_years = _amount_field("experience_years", _("Investment experience (years)"))
    work_years = _amount_field("work_years", _("Relevant work (years)"))
    evidence = forms.CharField(label=_("Evidence reference"), required=False, max_length=300)
    protections_explained = forms.BooleanField(
        label=_("Loss of protections explained to the client in writing"), required=False
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason (told to the applicant)"), widget=forms.Textarea(attrs={"rows": 2}))


class ReturnVisitForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReturnVisitOutcome.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    visited_on = forms.DateField(label=_("Visited on"), widget=DateInput())
