from clients.selectors import clients_visible_to
from tests import factories


def test_account_manager_sees_only_own_clients(manager_a, manager_b):
    mine = factories.ClientFactory(manager=manager_a)
    factories.ClientFactory(manager=manager_b)

    assert list(clients_visible_to(manager_a)) == [mine]


def test_id_number_is_stored_encrypted_and_found_by_hash(db):
    from django.db import connection

    from brokercrm.crypto import id_number_hash

    client = factories.ClientFactory(id_number="11010119900307663X")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM clients_client WHERE id = %s", [client.pk])
        stored = cursor.fetchone()[0]
    assert "11010119900307663X" not in stored
    found = type(client).objects.get(id_number_hash=id_number_hash(" 11010119900307663x "))
    assert found.id_number == "11010119900307663X"
    assert found.id_number_masked == "110***********663X"
