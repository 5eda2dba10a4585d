"""The Django admin: every clients model registered, lists render, ID numbers masked."""

import pytest
from django.contrib import admin

from clients import models

ALL_MODELS = [models.Branch, models.StaffProfile, models.Client, models.Account,
              models.Interaction, models.Task, models.Prospect, models.ImportBatch,
              models.FuturesProduct, models.ExchangeFeeRate, models.Trade,
              models.AccountSnapshot, models.SnapshotCorrection, models.DailyAccountActivity]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_model_has_a_working_admin_list(model, admin_user_role, client, book):
    assert admin.site.is_registered(model)
    client.force_login(admin_user_role)
    meta = model._meta
    response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
    assert response.status_code == 200


def test_client_admin_masks_the_id_number_and_keeps_it_on_save(admin_user_role, client, book):
    client.force_login(admin_user_role)
    target = book["a1"]
    url = f"/admin/clients/client/{target.pk}/change/"

    listing = client.get("/admin/clients/client/").content.decode()
    change = client.get(url).content.decode()
    history = client.get(f"/admin/clients/client/{target.pk}/history/")

    assert "110***********6632" in listing
    assert "110101199003076632" not in listing
    assert "110101199003076632" not in change
    assert history.status_code == 200


def test_client_admin_finds_a_client_by_exact_id_number(admin_user_role, client, book):
    client.force_login(admin_user_role)
    response = client.get("/admin/clients/client/", {"q": "110101199003076632"})
    assert [c.client_no for c in response.context["cl"].result_list] == ["C1001"]


def test_client_admin_save_with_blank_id_number_keeps_the_stored_one(admin_user_role, client, book):
    client.force_login(admin_user_role)
    target = book["a1"]
    data = {
        "client_no": target.client_no, "client_type": target.client_type, "name": "张伟伟",
        "investor_category": target.investor_category, "id_type": target.id_type,
        "id_number": "", "phone": target.phone, "email": "", "address": "",
        "branch": target.branch_id, "manager": target.manager_id, "opened_on": "2024-01-15",
        "closed_on": "",
        "accounts-TOTAL_FORMS": "1", "accounts-INITIAL_FORMS": "1", "accounts-MIN_NUM_FORMS": "0",
        "accounts-MAX_NUM_FORMS": "1000", "accounts-0-id": target.accounts.get().pk,
        "accounts-0-client": target.pk, "accounts-0-account_id": "80001001",
        "accounts-0-opened_on": "2024-01-15", "accounts-0-status": "active",
    }
    response = client.post(f"/admin/clients/client/{target.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert (target.name, target.id_number) == ("张伟伟", "110101199003076632")
    assert target.history.latest().history_user == admin_user_role


def test_staff_without_admin_cannot_open_the_admin(client, manager_a):
    client.force_login(manager_a)
    assert client.get("/admin/clients/client/").status_code == 302
