"""compute_commissions and export_commissions: exact CSV, JSON summary last, exit codes."""

import datetime as dt
import json
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests import factories as f
from tests.brokers.factories import InstitutionBrokerFactory, LinkFactory

pytestmark = pytest.mark.django_db


def test_compute_then_export_a_month():
    ib = InstitutionBrokerFactory(code="IB02")
    account = LinkFactory(broker=ib).account
    f.TradeFactory(account=account, trading_day=dt.date(2026, 11, 3), fee=D("1234.56"), exchange_fee=D("0"))
    out = StringIO()
    call_command("compute_commissions", "--month", "2026-11", stdout=out)
    summary = json.loads(out.getvalue().splitlines()[-1])
    assert (summary["status"], summary["month"], summary["statements"], summary["gross"]) == (
        "computed", "2026-11", 1, "1234.56")
    out = StringIO()
    call_command("export_commissions", "--month", "2026-11", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "broker_code,month,gross,vat,reserve,protection,base,payout,tax,net_pay,carried"
    assert lines[1] == "IB02,2026-11,1234.56,82.96,61.73,0.00,1089.87,544.94,0.00,544.94,0.00"
    assert json.loads(lines[-1]) == {"status": "exported", "month": "2026-11", "statements": 1}


def test_a_bad_month_fails_with_a_json_line():
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("compute_commissions", "--month", "2026-13", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["status"] == "failed"
    with pytest.raises(CommandError):
        call_command("export_commissions", "--month", "11/2026", stdout=StringIO())
