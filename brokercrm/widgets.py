"""Form widgets shared by the apps."""

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker. Its value must be ISO (YYYY-MM-DD) whatever the language:
    Django would render the locale's input format (2026/11/30 in Chinese), which the
    browser shows as empty, so saving the form erased the date."""

    input_type = "date"

    def __init__(self, attrs=None, format=None):  # noqa: A002 (Django's name)
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")
