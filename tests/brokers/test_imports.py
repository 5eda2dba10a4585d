"""Imports of brokers, broker_links and schemes through the pipeline; links from the clients file."""

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from brokers.models import BrokerLink, BrokerStatus, CommissionScheme, IntroducingBroker
from clients.importers.pipeline import import_file
from tests import factories as f
from tests.brokers.factories import BrokerFactory, LinkFactory

SAMPLES = Path(__file__).resolve().parent / "samples"
CLIENTS = Path(__file__).resolve().parent.parent / "clients" / "imports" / "samples" / "clients.csv"
pytestmark = pytest.mark.django_db


def run(kind, path=None, *, text=None, tmp_path=None, name="file.csv"):
    if text is not None:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
    return import_file(kind=kind, path_or_file=path, file_name=Path(path).name)


def errors(batch):
    return [(e["line"], e["column"], e["reason"]) for e in batch.report["errors"]]


# ../shared/data beside the repository (CI), else the unmodified copies in the repository.
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
if not SHARED.exists():
    SHARED = Path(__file__).resolve().parent.parent / "clients" / "imports" / "samples"


def test_shared_brokers_sample_loads_with_its_wrong_check_digit_reported():
    batch = run("brokers", SHARED / "brokers.csv")
    assert (batch.status, batch.created, batch.errors) == ("imported", 2, 0)
    assert [(w["line"], w["column"]) for w in batch.report["warnings"]] == [(2, "id_number")]
    assert "check digit" in batch.report["warnings"][0]["reason"]
    assert IntroducingBroker.objects.get(code="IB01").id_number == "330106198811110022"


def test_a_broker_id_number_of_the_wrong_shape_refuses_the_file(tmp_path):
    text = (SAMPLES / "brokers.csv").read_text(encoding="utf-8-sig").replace(
        "330106198811110024", "33010619881111")
    batch = run("brokers", text=text, tmp_path=tmp_path)
    assert batch.status == "refused"
    assert [(e[0], e[1]) for e in errors(batch)] == [(2, "id_number")]
    assert IntroducingBroker.objects.count() == 0


def test_brokers_sample_file_loads():
    batch = run("brokers", SAMPLES / "brokers.csv")
    assert (batch.status, batch.created, batch.errors) == ("imported", 2, 0)
    zhao = IntroducingBroker.objects.get(code="IB01")
    assert zhao.name == "赵敏" and zhao.broker_type == "person"
    assert zhao.id_number == "330106198811110024"
    assert zhao.id_number_masked == "330***********0024"
    assert zhao.bank_account_name == "赵敏"
    assert zhao.status_changes.get().effective_from == dt.date(2022, 1, 1)
    jq = IntroducingBroker.objects.get(code="IB02")
    assert (jq.broker_type, jq.qualification_no, jq.contract_end) == ("institution", "", dt.date(2026, 12, 31))
    again = run("brokers", SAMPLES / "brokers.csv")
    assert again.status == "already_imported"


def test_brokers_register_checks_refuse_the_file_with_line_and_reason(tmp_path):
    text = (
        "broker_code,name,broker_type,id_number,qualification_no,registered_on,contract_start,contract_end,status,bank_account\n"
        "IB09,小明,person,110101201001010015,F1,2024-01-01,2024-01-01,2026-12-31,active,1\n"
        "IB10,无证,person,330106198811110024,,2024-01-01,2024-01-01,2023-12-31,active,\n"
        "IB11,机构,institution,9133,,2024-01-01,2024-01-01,,active,\n"
    )
    batch = run("brokers", text=text, tmp_path=tmp_path)
    assert batch.status == "refused"
    found = errors(batch)
    assert (2, "id_number", "A natural person must be an adult (18 or older).") in found
    assert (3, "qualification_no", "A natural person needs a futures qualification certificate.") in found
    assert (3, "contract_end", "The contract cannot end before it starts.") in found
    assert (4, "id_number", "An institution's unified social credit code has 18 characters.") in found
    assert IntroducingBroker.objects.count() == 0


def test_a_status_change_by_file_is_dated_the_import_day(tmp_path):
    run("brokers", SAMPLES / "brokers.csv")
    text = (SAMPLES / "brokers.csv").read_text().replace("2027-12-31,active", "2027-12-31,suspended")
    batch = run("brokers", text=text, tmp_path=tmp_path)
    assert (batch.status, batch.updated, batch.unchanged) == ("imported", 1, 1)
    zhao = IntroducingBroker.objects.get(code="IB01")
    assert zhao.status == BrokerStatus.SUSPENDED
    assert [c.status for c in zhao.status_changes.all()] == ["active", "suspended"]


def _accounts(*numbers):
    return [f.AccountFactory(account_id=n) for n in numbers]


def test_broker_links_sample_file_loads():
    _accounts("80010001", "80010003", "80010004", "80010006")
    run("brokers", SAMPLES / "brokers.csv")
    batch = run("broker_links", SAMPLES / "broker_links.csv")
    assert (batch.status, batch.created) == ("imported", 4)
    link = BrokerLink.objects.get(account__account_id="80010006")
    assert (link.broker.code, link.valid_from, link.valid_to) == ("IB02", dt.date(2026, 10, 12), None)
    assert link.batch == batch and link.line == 5


def test_overlapping_links_in_one_file_are_refused_and_nothing_is_stored(tmp_path):
    _accounts("80010001", "80010003")
    run("brokers", SAMPLES / "brokers.csv")
    text = (
        "account_id,broker_code,valid_from,valid_to\n"
        "80010003,IB01,2021-07-19,\n"
        "80010001,IB01,2020-01-01,2026-06-30\n"
        "80010001,IB02,2026-06-01,\n"
    )
    batch = run("broker_links", text=text, tmp_path=tmp_path)
    assert batch.status == "refused"
    assert errors(batch) == [
        (4, "valid_from", "overlaps line 3 (IB01 2020-01-01–2026-06-30) for account 80010001"),
    ]
    assert BrokerLink.objects.count() == 0


def test_a_link_overlapping_a_stored_closed_link_is_refused(tmp_path):
    (account,) = _accounts("80010001")
    run("brokers", SAMPLES / "brokers.csv")
    LinkFactory(account=account, broker=IntroducingBroker.objects.get(code="IB01"),
                valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2025, 12, 31))
    text = "account_id,broker_code,valid_from,valid_to\n80010001,IB02,2025-06-01,\n"
    batch = run("broker_links", text=text, tmp_path=tmp_path)
    assert errors(batch) == [
        (2, "valid_from", "overlaps the stored link IB01 2020-01-01–2025-12-31 of account 80010001"),
    ]
    assert BrokerLink.objects.count() == 1


def test_a_row_after_a_stored_open_link_is_a_move(tmp_path):
    (account,) = _accounts("80010001")
    run("brokers", SAMPLES / "brokers.csv")
    LinkFactory(account=account, broker=IntroducingBroker.objects.get(code="IB01"),
                valid_from=dt.date(2020, 1, 1))
    text = "account_id,broker_code,valid_from,valid_to\n80010001,IB02,2026-11-16,\n"
    batch = run("broker_links", text=text, tmp_path=tmp_path)
    assert (batch.status, batch.created, batch.updated) == ("imported", 1, 1)
    history = [(ln.broker.code, ln.valid_from, ln.valid_to) for ln in account.broker_links.order_by("valid_from")]
    assert history == [("IB01", dt.date(2020, 1, 1), dt.date(2026, 11, 15)),
                       ("IB02", dt.date(2026, 11, 16), None)]


def test_unknown_account_and_broker_are_reported(tmp_path):
    run("brokers", SAMPLES / "brokers.csv")
    text = "account_id,broker_code,valid_from,valid_to\n99999999,IB77,2026-01-01,2025-01-01\n"
    batch = run("broker_links", text=text, tmp_path=tmp_path)
    assert {(line, column) for line, column, _ in errors(batch)} == {
        (2, "account_id"), (2, "broker_code"), (2, "valid_to")}


def test_schemes_file_loads_each_mode_and_the_default():
    run("brokers", SAMPLES / "brokers.csv")
    batch = run("schemes", SAMPLES / "schemes.csv")
    # The default row matches the shipped default exactly: unchanged.
    assert (batch.status, batch.created, batch.unchanged) == ("imported", 2, 1)
    ib1 = CommissionScheme.objects.get(broker__code="IB01")
    assert ib1.mode == "tiered_progressive"
    assert ib1.bands == [["0", "0.40"], ["100000", "0.50"], ["500000", "0.60"]]
    ib2 = CommissionScheme.objects.get(broker__code="IB02")
    assert (ib2.protection_rate, ib2.min_payout) == (D("0.001"), D("500.00"))


def test_bad_schemes_are_refused(tmp_path):
    text = (
        "broker_code,mode,bands,vat_rate,reserve_rate,protection_rate,min_payout,valid_from\n"
        "IB77,flat,0:0.5,0.0672,0.05,0,100,2026-01-01\n"
        ",flat,0:0.4;1000:0.5,0.0672,0.05,0,100,2026-01-01\n"
        ",sliding,0:0.4,0.0672,0.05,0,100,2026-02-01\n"
        ",flat,100:0.4,0.0672,0.05,0,100,2026-03-01\n"
    )
    batch = run("schemes", text=text, tmp_path=tmp_path)
    assert batch.status == "refused"
    assert {(line, column) for line, column, _ in errors(batch)} == {
        (2, "broker_code"), (3, "bands"), (4, "mode"), (5, "bands")}
    assert CommissionScheme.objects.count() == 1  # the shipped default only


@pytest.fixture
def sample_clients_loaded():
    for code in ("M001", "M002"):
        user = f.staff_user(code.lower(), "account_manager")
        user.staff_profile.staff_code = code
        user.staff_profile.save()
    assert run("branches", Path("/work/shared/data/branches.csv")
               if Path("/work/shared/data/branches.csv").exists() else None).status == "imported"


@pytest.mark.skipif(not CLIENTS.exists(), reason="the importer's fixed clients sample is absent")
def test_clients_file_broker_columns_become_links(sample_clients_loaded, django_capture_on_commit_callbacks):
    run("brokers", SAMPLES / "brokers.csv")
    with django_capture_on_commit_callbacks(execute=True):
        batch = run("clients", CLIENTS)
    assert batch.status == "imported", batch.report
    links = {(ln.account.account_id, ln.broker.code, ln.valid_from) for ln in BrokerLink.objects.all()}
    assert ("80010001", "IB01", dt.date(2019, 3, 4)) in links
    assert ("80010004", "IB02", dt.date(2018, 5, 21)) in links
    batch.refresh_from_db()
    assert batch.report["broker_links"]["created"] == len(links)
    # The links file then moves 80010004 within IB02 and adds 80010006.
    batch = run("broker_links", SAMPLES / "broker_links.csv")
    assert batch.status == "imported", batch.report
    history = [(ln.valid_from, ln.valid_to) for ln in
               BrokerLink.objects.filter(account__account_id="80010004").order_by("valid_from")]
    assert history == [(dt.date(2018, 5, 21), dt.date(2022, 3, 31)), (dt.date(2022, 4, 1), None)]


def test_the_broker_factory_satisfies_the_register_checks():
    from brokers.services import broker_problems

    assert broker_problems(BrokerFactory()) == {}


@pytest.mark.skipif(not CLIENTS.exists(), reason="the importer's fixed clients sample is absent")
def test_a_later_clients_file_does_not_reopen_a_closed_link(
    sample_clients_loaded, django_capture_on_commit_callbacks, tmp_path
):
    from brokers import services

    run("brokers", SAMPLES / "brokers.csv")
    with django_capture_on_commit_callbacks(execute=True):
        run("clients", CLIENTS)
    link = BrokerLink.objects.get(account__account_id="80010001")
    services.link_close(link=link, on=dt.date(2026, 6, 30))
    # A later clients file still names IB01 since 2019-03-04 for the account (no end date).
    header, first = CLIENTS.read_text(encoding="utf-8-sig").splitlines()[:2]
    with django_capture_on_commit_callbacks(execute=True):
        batch = run("clients", text=f"{header}\n{first}\n", tmp_path=tmp_path, name="clients-later.csv")
    assert batch.status == "imported", batch.report
    history = [(ln.broker.code, ln.valid_from, ln.valid_to)
               for ln in BrokerLink.objects.filter(account__account_id="80010001")]
    assert history == [("IB01", dt.date(2019, 3, 4), dt.date(2026, 6, 30))]
    batch.refresh_from_db()
    assert batch.report["broker_links"] == {"created": 0, "updated": 0, "unchanged": 1, "skipped": []}


def test_the_links_file_still_changes_the_end_of_a_link(tmp_path):
    (account,) = _accounts("80010001")
    run("brokers", SAMPLES / "brokers.csv")
    LinkFactory(account=account, broker=IntroducingBroker.objects.get(code="IB01"),
                valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2026, 6, 30))
    text = "account_id,broker_code,valid_from,valid_to\n80010001,IB01,2020-01-01,\n"
    batch = run("broker_links", text=text, tmp_path=tmp_path)
    assert (batch.status, batch.updated) == ("imported", 1)
    assert account.broker_links.get().valid_to is None
