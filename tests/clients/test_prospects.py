"""Prospects: the pipeline page, moving along, converting to a client."""

from clients.models import Client, Prospect
from clients.models.core import ProspectStage
from tests import factories


def test_pipeline_lists_own_prospects_by_stage(as_user, manager_a, manager_b, branch_a, branch_b):
    factories.ProspectFactory(name="Mine lead", owner=manager_a, branch=branch_a)
    factories.ProspectFactory(name="Mine visited", owner=manager_a, branch=branch_a,
                              stage=ProspectStage.VISITED)
    factories.ProspectFactory(name="Not mine", owner=manager_b, branch=branch_b)

    page = as_user(manager_a).get("/prospects/")
    columns = {c["code"]: [p.name for p in c["prospects"]] for c in page.context["columns"]}

    assert columns["lead"] == ["Mine lead"]
    assert columns["visited"] == ["Mine visited"]
    assert "Not mine" not in page.content.decode()


def test_add_and_move_a_prospect(as_user, manager_a, branch_a):
    http = as_user(manager_a)

    http.post("/prospects/new/", {"name": "钱七", "phone": "13600000000", "source": "Seminar"})
    prospect = Prospect.objects.get()
    http.post(f"/prospects/{prospect.pk}/move/", {"stage": "contacted", "next_step": "Visit"})

    prospect.refresh_from_db()
    assert (prospect.owner, prospect.branch, prospect.stage, prospect.next_step) == (
        manager_a, branch_a, "contacted", "Visit")


def test_bad_prospect_form_answers_400(as_user, manager_a, branch_a):
    response = as_user(manager_a).post("/prospects/new/", {"name": ""})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert Prospect.objects.count() == 0


def test_convert_page_opens_the_account(as_user, manager_a, branch_a):
    prospect = factories.ProspectFactory(owner=manager_a, branch=branch_a, name="孙八",
                                         stage=ProspectStage.VISITED)
    http = as_user(manager_a)

    response = http.post(f"/prospects/{prospect.pk}/convert/", {
        "client_no": "C7001", "account_id": "87007001", "client_type": "person",
        "id_type": "resident_id", "id_number": "310104198512121237", "opened_on": "2026-11-20",
    })

    client = Client.objects.get(client_no="C7001")
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{client.pk}/"
    assert client.accounts.get().account_id == "87007001"
    assert client.manager == manager_a


def test_convert_with_a_bad_id_number_shows_the_error_and_creates_nothing(as_user, manager_a, branch_a):
    prospect = factories.ProspectFactory(owner=manager_a, branch=branch_a)

    response = as_user(manager_a).post(f"/prospects/{prospect.pk}/convert/", {
        "client_no": "C7001", "account_id": "87007001", "client_type": "person",
        "id_type": "resident_id", "id_number": "310104198512121230",
    })

    assert response.status_code == 400
    assert response.context["form"].errors["id_number"] == [
        "the check digit of the resident ID number is wrong"]
    assert Client.objects.count() == 0
    prospect.refresh_from_db()
    assert prospect.stage == ProspectStage.LEAD


def test_another_managers_prospect_answers_404(as_user, manager_a, manager_b, branch_b):
    prospect = factories.ProspectFactory(owner=manager_b, branch=branch_b)
    http = as_user(manager_a)
    assert http.get(f"/prospects/{prospect.pk}/convert/").status_code == 404
    assert http.post(f"/prospects/{prospect.pk}/move/", {"stage": "contacted"}).status_code == 404
