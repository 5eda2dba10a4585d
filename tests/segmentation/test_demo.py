"""The demo step: a run for each month end of the window, then the nightly chain."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest

from segmentation import demo, selectors
from segmentation.models import RunState, SegmentRun
from tests.segmentation.helpers import account_with_days, business_days

pytestmark = pytest.mark.django_db


def test_demo_fills_month_end_history_and_the_current_run():
    days = business_days(dt.date(2026, 11, 20), 60)
    account_with_days(days, equity=Decimal("6000000"), trades_on=days[-3:])
    ctx = {"stdout": StringIO(), "summary": {}}
    demo.load(ctx)
    as_of = sorted(SegmentRun.objects.filter(state=RunState.DONE).values_list("as_of", flat=True))
    assert as_of == [dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 30),
                     dt.date(2026, 11, 20)]
    assert selectors.current_run().as_of == dt.date(2026, 11, 20)
    assert ctx["summary"]["segmented_clients"] == 1


def test_demo_without_snapshots_does_nothing():
    ctx = {"stdout": StringIO(), "summary": {}}
    demo.load(ctx)
    assert SegmentRun.objects.count() == 0
