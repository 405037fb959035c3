"""The people's pages' language, in the contract's order: `?lang=`, the cookie, the signed-in
person's own language (a user's setting, else the contacts file's), Accept-Language (by its
weights), the plan's default (kk). And the pages' words come from the `web` catalog, Russian with
three plurals."""

import pytest
from starlette.requests import Request

from scheduler import templating
from scheduler.app.people import Person
from scheduler.web.auth import Auth, page_environment


def request(query="", cookie=None, accept=None):
    headers = [(b"cookie", f"lang={cookie}".encode())] if cookie else []
    headers += [(b"accept-language", accept.encode())] if accept else []
    return Request({"type": "http", "method": "GET", "path": "/my", "query_string": query.encode(), "headers": headers})


RUSSIAN = Person("ivanov@minfin.example.kz", "Пётр Иванов", "ru")
auth = Auth(lambda: None, lambda: None, None)


@pytest.mark.parametrize(("given", "person", "expected"), [
    (dict(query="lang=en", cookie="ru", accept="kk"), RUSSIAN, "en"),  # ?lang= first
    (dict(query="lang=fr", cookie="ru", accept="kk"), None, "ru"),  # not ours: the cookie
    (dict(cookie="kk", accept="ru"), RUSSIAN, "kk"),  # the cookie before the browser
    (dict(cookie="de", accept="ru-RU,ru;q=0.9"), None, "ru"),
    (dict(accept="en-US,en;q=0.9"), RUSSIAN, "ru"),  # her own language before the browser's
    (dict(accept="en-US,en;q=0.9"), None, "en"),  # nobody signed in: the browser's
    (dict(accept="de-DE, ru;q=0.5, kk;q=0.8"), None, "kk"),  # by weight
    (dict(accept="ru;q=0, en;q=0.1"), None, "en"),  # q=0: not wanted
    (dict(accept="de-DE,fr;q=0.9"), RUSSIAN, "ru"),  # none of ours: the contact's language
    (dict(), RUSSIAN, "ru"),
    (dict(accept="de"), None, "kk"),  # the plan's default
    (dict(), Person("x@example.kz", "X", None), "kk"),
])
def test_the_language_of_a_page(given, person, expected):
    assert auth.language(request(**given), person) == expected


def test_the_pages_words_come_from_the_web_catalog():
    assert Auth.words("kk", "not_found") == "Мұндай іс-шара табылмады."
    assert Auth.words("ru", "received_early", date="24 февраля 2021 г.") == \
        "Дата поступления не может быть раньше утверждения плана (24 февраля 2021 г.)."
    assert Auth.words("en", "not_found") == "No such deadline."
    russian = templating.translations("ru")
    assert [russian.ngettext("Closed: %(count)s deadline.", "Closed: %(count)s deadlines.", n)
            % {"count": n} for n in (1, 3, 5, 21)] == [
        "Снят с контроля 1 срок.", "Сняты с контроля 3 срока.", "Сняты с контроля 5 сроков.", "Снят с контроля 21 срок."]
    env = page_environment("ru")
    assert env.globals["state_word"]("returned") == "возвращено на доработку"
    assert env.globals["step_word"]("escalation-1wd") == "первое предупреждение: рабочий день после срока"
    assert env.globals["period"]("2021-Q3") == "III квартал 2021 г."
    assert page_environment("kk").globals["period"]("2022-H2") == "2022 жылғы II жартыжылдық"
