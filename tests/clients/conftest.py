"""Fixtures of the clients tests: a small book of clients per manager."""

import pytest

from tests import factories


@pytest.fixture
def book(manager_a, manager_b, branch_a, branch_b):
    """Two clients of manager A (branch A), one of manager B (branch B), each with an account."""
    a1 = factories.ClientFactory(client_no="C1001", name="张伟", manager=manager_a, branch=branch_a,
                                 id_number="110101199003076632", phone="13800001001")
    a2 = factories.ClientFactory(client_no="C1002", name="李娜", manager=manager_a, branch=branch_a)
    b1 = factories.ClientFactory(client_no="C2001", name="王芳", manager=manager_b, branch=branch_b)
    factories.AccountFactory(account_id="80001001", client=a1)
    factories.AccountFactory(account_id="80001002", client=a2)
    factories.AccountFactory(account_id="80002001", client=b1)
    return {"a1": a1, "a2": a2, "b1": b1}


@pytest.fixture
def as_user(client):
    """Log the Django test client in as the given user; returns the test client."""

    def login(user):
        client.force_login(user)
        return client

    return login
