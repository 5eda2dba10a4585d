"""Forms of the brokers pages; they validate input, the services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from brokercrm.widgets import DateInput
from clients import roles

from .models import BrokerStatus, IntroducingBroker, SchemeMode

DATE = DateInput()


class BrokerForm(forms.ModelForm):
    # The page carries the status it showed (hidden initial): `changed_data` then tells
    # whether the user changed the status, even when it moved since the page was opened.
    status = forms.ChoiceField(label=_("status"), choices=BrokerStatus.choices,
                               initial=BrokerStatus.ACTIVE, show_hidden_initial=True)
    status_from = forms.DateField(label=_("status effective from"), required=False, widget=DATE,
                                  help_text=_("Empty: the contract start for a new broker, today otherwise."))
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False,
                                help_text=_("Resident ID (persons) or unified social credit code."))

    class Meta:
        model = IntroducingBroker
        fields = [
            "code", "name", "broker_type", "id_number", "full_civil_capacity", "qualification_no",
            "registered_on", "training_hours", "contract_start", "contract_end", "bank_name",
            "bank_account", "bank_account_name", "exclusivity_declared", "exclusivity_declared_on",
            "portal_user",
        ]
        widgets = {name: DATE for name in ("registered_on", "contract_start", "contract_end",
                                           "exclusivity_declared_on")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portal_user"].queryset = get_user_model().objects.filter(
            groups__name=roles.INTRODUCING_BROKER
        ).order_by("username")
        if self.instance.pk:
            self.fields["id_number"].required = False
            self.fields["id_number"].initial = ""
            self.fields["id_number"].help_text = _("Stored: %(masked)s. Leave empty to keep it.") % {
                "masked": self.instance.id_number_masked}
            # The status in force today (the stored one misses changes dated in the future).
            self.fields["status"].initial = self.instance.status_today()
            self.fields["code"].disabled = True

    def _post_clean(self):
        # The register checks run in the service (broker_save), not in model.clean.
        pass


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=BrokerStatus.choices)
    effective_from = forms.DateField(label=_("effective from"), widget=DATE)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class LinkMoveForm(forms.Form):
    account = forms.CharField(label=_("account no."), max_length=30)
    broker = forms.CharField(label=_("to introducing broker (code)"), max_length=20)
    on = forms.DateField(label=_("from"), widget=DATE)


class LinkCreateForm(forms.Form):
    account = forms.CharField(label=_("account no."), max_length=30)
    valid_from = forms.DateField(label=_("valid from"), widget=DATE)
    valid_to = forms.DateField(label=_("valid to"), widget=DATE, required=False)


class LinkCloseForm(forms.Form):
    on = forms.DateField(label=_("last day"), widget=DATE)


class SchemeForm(forms.Form):
    broker = forms.CharField(label=_("introducing broker (code; empty = firm-wide default)"),
                             max_length=20, required=False)
    mode = forms.ChoiceField(label=_("mode"), choices=SchemeMode.choices)
    bands = forms.CharField(label=_("bands"), max_length=500,
                            help_text=_("lower bound:ratio; … e.g. 0:0.40;100000:0.50"))
    vat_rate = forms.DecimalField(label=_("VAT and surcharges rate"), initial="0.0672",
                                  max_digits=8, decimal_places=6)
    reserve_rate = forms.DecimalField(label=_("risk reserve rate"), initial="0.05", max_digits=8,
                                      decimal_places=6)
    protection_rate = forms.DecimalField(label=_("investor protection rate"), initial="0",
                                         max_digits=8, decimal_places=6)
    other_deductions = forms.DecimalField(label=_("other fixed deductions"), initial="0",
                                          max_digits=18, decimal_places=2)
    min_payout = forms.DecimalField(label=_("minimum payout"), initial="100", max_digits=18,
                                    decimal_places=2)
    valid_from = forms.DateField(label=_("valid from"), widget=DATE)


class PayForm(forms.Form):
    paid_on = forms.DateField(label=_("paid on"), widget=DATE)
    bank_ref = forms.CharField(label=_("bank reference"), max_length=60)


class MonthForm(forms.Form):
    month = forms.RegexField(label=_("month"), regex=r"^\d{4}-\d{2}$", max_length=7,
                             help_text="YYYY-MM")

    def clean_month(self):
        """The month as its first day; 2026-13 is refused here (field error), not in the view."""
        from .services import parse_month

        value = self.cleaned_data["month"]
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(
                _("%(value)s is not a month: write YYYY-MM with a month from 01 to 12."),
                code="invalid", params={"value": value},
            ) from None


def apply_errors(form: forms.Form, exc) -> None:
    """Copy a service's ValidationError onto the form's fields (unknown ones → non-field)."""
    for field, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
