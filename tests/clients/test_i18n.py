"""English and Simplified Chinese, switched with Django's set_language."""

from django.utils import translation

from clients.models.core import ClientType


def test_switching_to_chinese_shows_chinese_pages(book, as_user, manager_a):
    http = as_user(manager_a)
    english = http.get("/").content.decode()

    switched = http.post("/i18n/setlang/", {"language": "zh-hans", "next": "/clients/"})
    chinese_list = http.get("/clients/").content.decode()
    chinese_page = http.get(f"/clients/{book['a1'].pk}/").content.decode()

    assert "My dashboard" in english
    assert switched.status_code == 302
    assert switched["Location"] == "/clients/"
    assert '<html lang="zh-hans">' in chinese_list
    assert "导出 CSV" in chinese_list
    assert "客户号" in chinese_list
    assert "证件号码" in chinese_page
    assert "添加沟通记录" in chinese_page
    # domain terms carry both languages
    assert "Natural person 个人" in chinese_page


def test_switching_back_to_english(as_user, manager_a):
    http = as_user(manager_a)
    http.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的工作台" in http.get("/").content.decode()

    http.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert "My dashboard" in http.get("/").content.decode()


def test_catalog_is_compiled_for_model_labels():
    with translation.override("zh-hans"):
        assert str(ClientType.PERSON.label) == "Natural person 个人"
        assert translation.gettext("Clients") == "客户"
        assert translation.gettext("Log in") == "登录"


def test_login_page_in_chinese(client, db):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "用户名" in page and "密码" in page


def test_id_number_reasons_follow_the_active_language():
    from clients.idnumbers import CHECK_DIGIT_WRONG, resident_id_problem

    wrong_digit, short = "310104198512121230", "31010419851212"
    assert resident_id_problem(wrong_digit) is CHECK_DIGIT_WRONG
    assert str(resident_id_problem(wrong_digit)) == "the check digit of the resident ID number is wrong"
    assert resident_id_problem(short) == "a resident ID number has 18 characters, this one has 14"
    with translation.override("zh-hans"):
        assert str(resident_id_problem(wrong_digit)) == "居民身份证号码校验位错误"
        assert resident_id_problem(short) == "居民身份证号码应为 18 位，此号码为 14 位"
        assert resident_id_problem("31010419851212123Y") == "居民身份证号码为 17 位数字加 1 位数字或 X"
