"""A person's own language, whatever her browser says (over real HTTP, SQLite and PostgreSQL): a
Russian-reading focal point with an English browser reads Russian; a user whose language is set
(`users add --language`, or later) reads it on her pages and in the emails staff receive; `?lang=`
still switches, and is remembered."""

from __future__ import annotations

import re

from scheduler.answers import Actor
from scheduler.app import answer, notices, users
from scheduler.app.tick import tick
from tests.integration.test_delivery import at
from tests.integration.test_personal_links import NOW, site  # noqa: F401 - the fixture

ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}
RUSSIAN_BROWSER = {"Accept-Language": "ru-RU,ru;q=0.9"}


def page_language(body: str) -> str:
    return re.search(r'<html lang="(\w+)"', body).group(1)


def test_a_focal_point_reads_her_contacts_language_whatever_her_browser_says(site):  # noqa: F811
    web = site()
    ivanov = web.signed_in("ivanov@minfin.example.kz")  # finance's supervisor, Russian in the contacts file
    status, _, body = ivanov.get("/my", headers=ENGLISH_BROWSER)
    assert status == 200 and page_language(body) == "ru"
    aigul = web.signed_in("aigul@minfin.example.kz")  # Kazakh in the contacts file
    assert page_language(aigul.get("/my", headers=RUSSIAN_BROWSER)[2]) == "kk"
    # she chooses another: it is remembered
    assert page_language(aigul.get("/my?lang=ru", headers=RUSSIAN_BROWSER)[2]) == "ru"
    assert page_language(aigul.get("/my", headers=RUSSIAN_BROWSER)[2]) == "ru"


def test_a_users_own_language_rules_her_pages_and_her_emails(site, smtp_server):  # noqa: F811
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW, language="ru")
    users.add(web.service.engine, "kazakh@gov.kz", "reviewer", NOW)
    reviewer = web.signed_in("reviewer@gov.kz")
    assert page_language(reviewer.get("/review", headers=ENGLISH_BROWSER)[2]) == "ru"
    nobody_said = web.signed_in("kazakh@gov.kz")
    assert page_language(nobody_said.get("/review", headers=ENGLISH_BROWSER)[2]) == "en", "none set: the browser's"

    answer.submit(web.service.engine, web.service.timing, "7:finance:2022", at=at(12, 6, 15), now=at(12, 6, 15),
                  actor=Actor("aigul@minfin.example.kz", "focal", frozenset({"finance"})))
    tick(web.service, at(12, 6, 15, 1))
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_server.mailbox.messages
                if m["X-Scheduler-Step"] == notices.ANSWER_RECEIVED}
    assert "Поступили ответы" in received["reviewer@gov.kz"]["Subject"] or "Поступил ответ" in received["reviewer@gov.kz"]["Subject"]
    assert "жауап келді" in received["kazakh@gov.kz"]["Subject"], "none set: the plan's Kazakh"

    users.set_language(web.service.engine, "kazakh@gov.kz", "kk")
    assert page_language(nobody_said.get("/review", headers=ENGLISH_BROWSER)[2]) == "kk"
