"""recompute_segments, export_segments (exact columns) and run_nightly."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from segmentation.models import RunState, SegmentRun
from tests.segmentation.helpers import account_with_days, business_days

pytestmark = pytest.mark.django_db

T = dt.date(2026, 11, 20)
DAYS = business_days(T, 60)
HEADER = ("client_no,as_of,avg_equity,fund_tier,activity_class,value_class,annual_net_fee,"
          "rfm_r,rfm_f,rfm_m,clv,tenure,purpose,loyal,max_risk_degree,margin_call_days,"
          "forced_liquidations,var95,quant_class")


def last_json(out: StringIO) -> dict:
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def book():
    account_with_days(DAYS, equity=Decimal("5000000.00"), trades_on=DAYS[-1:], net_fee=Decimal("4800"),
                      client_no="C001")
    account_with_days(DAYS, equity=Decimal("4999999.99"), client_no="C002", hedge_lots=1,
                      trades_on=DAYS[-2:])


def test_recompute_prints_a_json_summary(book):
    out = StringIO()
    call_command("recompute_segments", "--as-of", T.isoformat(), stdout=out)
    summary = last_json(out)
    assert summary["status"] == "done"
    assert summary["clients"] == 2
    assert summary["fund_tier"] == {"large": 1, "medium": 1}


def test_export_has_the_exact_columns_and_two_decimal_money(book):
    call_command("recompute_segments", "--as-of", T.isoformat(), stdout=StringIO())
    out = StringIO()
    call_command("export_segments", "--as-of", T.isoformat(), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == (
        "C001,2026-11-20,5000000.00,large,ordinary,key,20000.00,5,3,5,100000.00,established,"
        "speculator,false,0.0000,0,0,0.00,"
    )  # F: 1 active day of 2 clients' (1, 2) → 3; fewer than 3 clients → no quant class
    assert lines[2].startswith("C002,2026-11-20,4999999.99,medium,key_service,key,0.00,5,5,1,0.00,"
                               "established,hedger,false,")  # M: no net fee → 1
    assert len(lines) == 3


def test_export_of_a_day_without_a_run_fails(book):
    with pytest.raises(CommandError):
        call_command("export_segments", "--as-of", T.isoformat(), stdout=StringIO())


def test_run_nightly_runs_the_chain_and_skips_what_is_missing(book):
    out = StringIO()
    call_command("run_nightly", stdout=out)
    summary = last_json(out)
    assert summary["status"] == "ok"
    assert summary["as_of"] == T.isoformat()
    assert summary["steps"]["recompute"] == "done"
    assert set(summary["steps"]) >= {"import_drop_folder", "suitability_detect", "dormant_tasks",
                                     "suitability_due_tasks", "commission_accrue"}
    assert SegmentRun.objects.get().state == RunState.DONE


def test_recompute_without_snapshots_exits_non_zero(db):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("recompute_segments", stdout=out)
    assert last_json(out)["status"] == "failed"
