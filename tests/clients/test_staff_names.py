"""Staff names are written as colleagues write them."""

import pytest
from django.contrib.auth import get_user_model

from clients.templatetags.clients_tags import staff_name


@pytest.mark.parametrize("first,last,username,shown", [
    ("伟", "张", "am_zhang", "张伟"),
    ("Wei", "Zhang", "am_zhang", "Wei Zhang"),
    ("", "", "am_zhang", "am_zhang"),
])
def test_a_chinese_name_is_family_name_first(first, last, username, shown):
    user = get_user_model()(username=username, first_name=first, last_name=last)
    assert staff_name(user) == shown


def test_the_header_shows_the_chinese_name_in_order(client, db):
    from clients import roles
    from tests import factories

    user = factories.staff_user("am_zhou", roles.ACCOUNT_MANAGER)
    user.first_name, user.last_name = "静", "周"
    user.save()
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "周静" in page and "静 周" not in page
