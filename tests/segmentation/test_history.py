"""History: new large clients this month vs last, migration matrix, trends, dormant
clients per manager, and the follow-up tasks for newly dormant clients."""

import datetime as dt
from decimal import Decimal

import pytest

from clients.models.core import Task, TaskKind, TaskStatus
from segmentation import selectors, services
from tests import factories
from tests.segmentation.helpers import business_days

pytestmark = pytest.mark.django_db

DAYS = business_days(dt.date(2026, 11, 20), 60)  # late August → 20 November
SEP_END = max(d for d in DAYS if d.month == 9)
OCT_END = max(d for d in DAYS if d.month == 10)
NOV = DAYS[-1]


def client_with_equity(equity_by_month: dict[int, str], *, manager=None, last_trade=None):
    account = factories.AccountFactory(client=factories.ClientFactory(manager=manager))
    batch = factories.ImportBatchFactory(kind="snapshots")
    for day in DAYS:
        equity = Decimal(equity_by_month.get(day.month, "100000.00"))
        factories.SnapshotFactory(account=account, trading_day=day, equity=equity,
                                  pre_balance=equity, batch=batch)
    if last_trade:
        factories.DailyActivityFactory(account=account, trading_day=last_trade, trades=1, lots=1)
    return account.client


@pytest.fixture
def month_end_runs(admin_user_role):
    always = client_with_equity({9: "6000000", 10: "6000000", 11: "6000000"})
    new_in_oct = client_with_equity({10: "6000000", 11: "6000000"})
    new_in_nov = client_with_equity({11: "7000000"})
    never = client_with_equity({})
    for day in (SEP_END, OCT_END, NOV):
        services.recompute(as_of=day)
    return {"always": always, "oct": new_in_oct, "nov": new_in_nov, "never": never}


def test_new_large_clients_this_month_vs_last_month(month_end_runs, admin_user_role):
    report = selectors.new_large_clients(admin_user_role)
    assert report["this_month"]["month"] == "2026-11"
    assert report["this_month"]["clients"] == [month_end_runs["nov"]]
    assert report["last_month"]["month"] == "2026-10"
    assert report["last_month"]["clients"] == [month_end_runs["oct"]]


def test_the_month_uses_its_last_run(month_end_runs, admin_user_role):
    services.recompute(as_of=NOV - dt.timedelta(days=1))  # an earlier November run
    assert [r.as_of for r in selectors.month_end_runs()] == [SEP_END, OCT_END, NOV]


def test_new_large_clients_respect_visibility(month_end_runs, manager_a):
    report = selectors.new_large_clients(manager_a)
    assert report["this_month"]["clients"] == []


def test_migration_matrix_between_two_dates(month_end_runs, admin_user_role):
    m = selectors.migration_matrix(admin_user_role, date_from=SEP_END, date_to=NOV)
    assert m["values"] == ["large", "retail"]
    assert m["rows"] == [("large", [1, 0]), ("retail", [2, 1])]


def test_trends_count_each_tier_on_each_month_end(month_end_runs, admin_user_role):
    t = selectors.trends(admin_user_role, field="fund_tier")
    assert t["labels"] == [SEP_END.isoformat(), OCT_END.isoformat(), NOV.isoformat()]
    assert t["series"] == {"large": [1, 2, 3], "retail": [3, 2, 1]}


def test_newly_dormant_clients_get_one_follow_up_task_for_their_manager(manager_a):
    dozing = client_with_equity({}, manager=manager_a, last_trade=DAYS[-20])
    client_with_equity({}, manager=manager_a, last_trade=DAYS[-3])
    services.recompute(as_of=DAYS[-2])  # last trade the 19th trading day: active
    assert services.dormant_tasks_create(as_of=DAYS[-2]) == {"created": 0}
    services.recompute(as_of=DAYS[-1])  # the 20th: still active
    assert services.dormant_tasks_create(as_of=DAYS[-1]) == {"created": 0}
    # One more trading day: the client becomes dormant.
    extra = DAYS[-1] + dt.timedelta(days=3)
    factories.SnapshotFactory(account=dozing.accounts.first(), trading_day=extra)
    services.recompute(as_of=extra)
    assert services.dormant_tasks_create(as_of=extra) == {"created": 1}
    task = Task.objects.get(kind=TaskKind.DORMANT_FOLLOW_UP)
    assert (task.client, task.assignee, task.origin, task.status) == (
        dozing, manager_a, "system", TaskStatus.OPEN)
    # Rerunning the same day raises no duplicate.
    services.recompute(as_of=extra)
    assert services.dormant_tasks_create(as_of=extra) == {"created": 0}


def test_dormant_per_manager(manager_a, manager_b, admin_user_role):
    client_with_equity({}, manager=manager_a)
    client_with_equity({}, manager=manager_a)
    client_with_equity({}, manager=manager_b, last_trade=DAYS[-1])
    run = services.recompute(as_of=NOV)
    assert selectors.dormant_per_manager(admin_user_role, run=run) == [{"manager": "am_a", "n": 2}]


def test_a_month_without_a_run_is_not_compared_with_an_older_one(month_end_runs, admin_user_role):
    from segmentation.models import SegmentRun

    SegmentRun.objects.filter(as_of=OCT_END).update(is_current=False)  # October missed
    report = selectors.new_large_clients(admin_user_role)
    # November against no October: every large client counts as new, and the page says so
    assert report["this_month"]["no_baseline"] is True
    assert report["this_month"]["clients"] == sorted(
        [month_end_runs["always"], month_end_runs["oct"], month_end_runs["nov"]], key=lambda c: c.client_no)
    # "last month" is October, which has no run, not September
    assert (report["last_month"]["month"], report["last_month"]["run"], report["last_month"]["clients"]) == (
        "2026-10", None, [])
