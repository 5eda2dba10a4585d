"""Forms of the client pages. They only shape and check input; writes go through services."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brokercrm.widgets import DateInput

from .models.core import ClientType, IdType, InteractionKind, ProspectStage


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=InteractionKind.choices)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=4000)
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now."),
    )

    def clean_summary(self):
        summary = self.cleaned_data["summary"].strip()
        if not summary:
            raise forms.ValidationError(_("This field is required."))
        return summary

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("An interaction cannot be in the future."))
        return value


class TaskCompleteForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=2000, required=False)


class ClientContactForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)


class ReassignForm(forms.Form):
    manager = forms.ModelChoiceField(label=_("Account manager"), queryset=None)

    def __init__(self, *args, managers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = managers
        self.fields["manager"].label_from_instance = (
            lambda u: u.get_full_name() or u.username
        )


class ProspectMoveForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=[(c, label) for c, label in ProspectStage.choices if c != ProspectStage.CONVERTED],
    )
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_step_on = forms.DateField(label=_("Next step on"), required=False,
                                   widget=DateInput())
    lost_reason = forms.CharField(label=_("Lost reason"), max_length=200, required=False)


class ProspectForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)


class ProspectConvertForm(forms.Form):
    client_no = forms.CharField(label=_("Client no."), max_length=30)
    account_id = forms.CharField(label=_("Account no."), max_length=30)
    client_type = forms.ChoiceField(label=_("Client type"), choices=ClientType.choices)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    opened_on = forms.DateField(label=_("Opened on"), required=False,
                                widget=DateInput())
