"""Date pickers keep their value in every language (the browser reads only YYYY-MM-DD)."""

import datetime as dt

import pytest
from django.utils import translation

from clients.forms import ProspectConvertForm, ProspectMoveForm
from suitability.forms import ReturnVisitForm


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("form,field", [(ReturnVisitForm, "visited_on"), (ProspectConvertForm, "opened_on"), (ProspectMoveForm, "next_step_on")])
def test_a_date_field_is_rendered_in_iso_whatever_the_language(language, form, field):
    with translation.override(language):
        html = str(form(initial={field: dt.date(2026, 11, 30)})[field])
    assert 'type="date"' in html and 'value="2026-11-30"' in html
