"""load_demo's clients step and the login page."""

import io

from django.contrib.auth import get_user_model

from clients import demo, roles
from clients.idnumbers import resident_id_problem
from clients.models import Account, Client, Interaction, Prospect, Task
from tests import factories


def _load(clients=40, seed=7):
    ctx = {"stdout": io.StringIO(), "clients": clients, "seed": seed, "summary": {}}
    demo.load(ctx)
    return ctx


def test_demo_creates_every_role_and_is_idempotent(db):
    first = _load()
    counts = (Client.objects.count(), Account.objects.count(), Interaction.objects.count(),
              Prospect.objects.count(), get_user_model().objects.count())
    second = _load()

    assert counts[0] == 40
    assert counts[1] >= 40
    assert counts[3] == 20
    assert (Client.objects.count(), Account.objects.count(), Interaction.objects.count(),
            Prospect.objects.count(), get_user_model().objects.count()) == counts
    for username in ("admin", "am_zhang", "am_li", "bm_shanghai", "compliance", "finance", "ib_demo"):
        assert username in first["users"]
        assert username in first["stdout"].getvalue()
    assert roles.user_roles(first["users"]["am_zhang"]) == {roles.ACCOUNT_MANAGER}
    assert first["users"]["admin"].is_superuser
    assert second["summary"]["clients"] == 40


def test_demo_is_deterministic_and_id_numbers_are_valid(db):
    _load(clients=20, seed=3)
    people = Client.objects.filter(id_type="resident_id")

    assert people.exists()
    assert all(resident_id_problem(c.id_number) is None for c in people)
    assert all(c.id_number_hash for c in Client.objects.all())
    names = list(Client.objects.order_by("client_no").values_list("name", flat=True))
    Interaction.objects.all().delete()
    Task.objects.all().delete()
    Prospect.objects.all().delete()
    Account.objects.all().delete()
    Client.history.all().delete()
    Account.history.all().delete()
    Client.objects.all().delete()
    _load(clients=20, seed=3)
    assert names == list(Client.objects.order_by("client_no").values_list("name", flat=True))


def test_demo_users_can_log_in_with_the_printed_password(db, client):
    _load(clients=5)
    form = client.get("/login/").content.decode()
    assert '<input type="hidden" name="next" value="/">' in form  # the form says where to go
    response = client.post("/login/", {"username": "am_zhang", "password": demo.DEMO_PASSWORD,
                                       "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").context["my_clients_count"] >= 1


def test_login_with_a_wrong_password_is_refused(db, client):
    factories.staff_user("am_x", roles.ACCOUNT_MANAGER)
    response = client.post("/login/", {"username": "am_x", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors
