"""China resident ID numbers (GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character."""

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# The one problem importers report as a warning rather than refuse (see docs/architecture.md);
# resident_id_problem returns this very object, so callers may compare with it.
CHECK_DIGIT_WRONG = _("the check digit of the resident ID number is wrong")


def resident_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def resident_id_problem(value: str) -> str | None:
    """None when valid, else the reason in plain words, in the active language."""
    value = value.strip().upper()
    if len(value) != 18:
        return gettext("a resident ID number has 18 characters, this one has %(n)s") % {"n": len(value)}
    if not _SHAPE.match(value):
        return gettext("a resident ID number is 17 digits and a digit or X")
    if resident_id_check_char(value[:17]) != value[17]:
        return CHECK_DIGIT_WRONG
    return None


def make_resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)
