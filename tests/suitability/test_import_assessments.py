"""The `assessments` import kind (formats spec §5): migrated results, all or nothing."""

from __future__ import annotations

import datetime as dt

from suitability import selectors
from suitability.models import Assessment, InvestorCategoryRecord

GOOD = """client_no,account_id,investor_category,professional_class,risk_level,lowest_category,score,assessed_on,expires_on,questionnaire
C0001,,普通,,C3,否,48,20250601,,旧问卷2019
,80010002,ordinary,,C1,Y,0,2025-06-01,2027-01-01,old
C0005,,专业,A,,,,2023/02/06,,
"""


def test_migrated_results_become_assessments(sample_book, import_file_now, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(GOOD, encoding="utf-8")
    batch = import_file_now("assessments", path)
    assert (batch.status, batch.created, batch.errors) == ("imported", 3, 0)
    rows = {a.client.client_no: (a.level, a.lowest, a.score, a.expires_on, a.migrated, a.answers)
            for a in Assessment.objects.select_related("client")}
    assert rows == {
        "C0001": (3, False, 48, dt.date(2027, 6, 1), True, {}),
        "C0002": (1, True, 0, dt.date(2027, 1, 1), True, {}),
        "C0005": (None, False, None, dt.date(2025, 2, 6), True, {}),
    }
    record = InvestorCategoryRecord.objects.get()
    assert (record.client.client_no, record.category, record.professional_class, record.legal_basis) == (
        "C0005", "professional", "A", "migrated")
    state = selectors.investor_state(record.client, dt.date(2026, 11, 16)).state
    assert state.label == "professional A"


def test_a_second_row_for_the_same_client_and_date_is_a_duplicate(sample_book, import_file_now, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text(GOOD, encoding="utf-8")
    import_file_now("assessments", first)
    second = tmp_path / "b.csv"
    second.write_text(GOOD.replace("旧问卷2019", "another label"), encoding="utf-8")
    batch = import_file_now("assessments", second)
    assert (batch.status, batch.created, batch.unchanged) == ("imported", 0, 3)
    assert Assessment.objects.count() == 3


def test_every_invalid_row_is_reported_and_nothing_is_stored(sample_book, import_file_now, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "client_no,investor_category,professional_class,risk_level,lowest_category,assessed_on\n"
        "C0001,普通,,C7,N,2025-06-01\n"
        "C9999,普通,,C2,N,2025-06-01\n"
        "C0002,专业,,,,2025-06-01\n"
        "C0003,普通,,C2,Y,2025-06-01\n",
        encoding="utf-8",
    )
    batch = import_file_now("assessments", path)
    assert batch.status == "refused"
    errors = {(e["line"], e["column"]) for e in batch.report["errors"]}
    assert errors == {(2, "risk_level"), (3, "client_no"), (4, "professional_class"), (5, "lowest_category")}
    assert not Assessment.objects.exists()
