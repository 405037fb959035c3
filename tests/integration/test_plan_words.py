"""What people read on the pages, for the shipped plan on 9 December 2022: the day's items in the
plan's order (6, 7, 8.4, 17, 23 — not as text sorts them) on the focal point's page, the dashboard's
list and day view and the agency page; and in Kazakh and Russian no code where people read — no
occurrence id, no period label (2021-Q1, 2022-H1), no `res-3.2` — in any text node or the tab's
title (attributes keep them: links, form values); a refused upload said in the page's language."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from scheduler.app import users
from scheduler.app.tick import tick
from tests.integration.test_personal_links import CREDENTIAL, NOW, PDF, site  # noqa: F401 - the fixture
from tests.integration.web_client import field

FINANCE_DAY = ["6:finance:2022", "7:finance:2022", "8.4:finance:2022", "17:finance:2022", "23:finance:2022"]
CODES = [re.compile(r"\b[\w.-]+:[a-z][a-z-]*:\d{4}"), re.compile(r"\bres-\d"), re.compile(r"\b\d{4}-[QH]\d\b")]


class _Text(HTMLParser):
    """The page's text nodes (scripts and styles left out), attribute values not read."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def codes_shown(page: str) -> list[str]:
    parser = _Text()
    parser.feed(page)
    return [text for text in parser.texts if any(p.search(text) for p in CODES)]


def order_of(page: str, wanted: list[str]) -> list[str]:
    """The wanted occurrences in the order the page links them first."""
    seen = dict.fromkeys(re.findall(r'/occurrences/([^"?#/]+)', page))
    return [oid for oid in seen if oid in wanted]


def test_the_days_items_come_in_the_plans_order(site):  # noqa: F811
    web = site()
    aigul = web.signed_in("aigul@minfin.example.kz")
    status, _, page = aigul.get("/my?lang=ru")
    assert status == 200
    assert order_of(page, FINANCE_DAY) == FINANCE_DAY
    admin = web.client(CREDENTIAL)
    for path in ("/?lang=kk&day=2022-12-09&agency=finance", "/?lang=ru&agency=finance",
                 "/?lang=kk&month=2022-12&agency=finance", "/agencies/finance?lang=ru"):
        status, _, page = admin.get(path)
        assert status == 200, path
        assert order_of(page, FINANCE_DAY) == FINANCE_DAY, path


def test_no_codes_where_people_read(site):  # noqa: F811
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", NOW)
    tick(web.service, NOW)  # the notifications an occurrence page lists (the earlier steps superseded)
    aigul = web.signed_in("aigul@minfin.example.kz")
    page = aigul.get("/my")[2]
    for oid in ("7:finance:2022", "res-3.2:finance:2022"):
        assert aigul.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", oid),
                                         ("ref", "12-3/45"), ("ref_date", "2022-12-08"), ("text", "2022: 14")],
                          [("files", "hat.pdf", PDF)])[0] == 303
        page = aigul.get("/my")[2]
    reviewer = web.signed_in("reviewer@gov.kz")
    askar = web.signed_in("askar@mvd.example.kz")
    admin = web.client(CREDENTIAL)
    plan_titles = {lang: None for lang in ("kk", "ru")}
    for lang in ("kk", "ru"):
        shown = {
            "my (finance)": aigul.get(f"/my?lang={lang}"),
            "my (mvd)": askar.get(f"/my?lang={lang}"),
            "review": reviewer.get(f"/review?lang={lang}"),
            "occurrence res-3.2": reviewer.get(f"/occurrences/res-3.2:finance:2022?lang={lang}"),
            "occurrence quarterly": askar.get(f"/occurrences/31:mvd:2022-Q4?lang={lang}"),
            "occurrence own": aigul.get(f"/occurrences/8.4:finance:2022?lang={lang}"),
            "occurrence reviewed": reviewer.get(f"/occurrences/7:finance:2022?lang={lang}"),
            "dashboard": admin.get(f"/?lang={lang}"),
            "dashboard January": admin.get(f"/?lang={lang}&month=2023-01"),
            "day": admin.get(f"/?lang={lang}&day=2022-12-09"),
            "agency mvd": admin.get(f"/agencies/mvd?lang={lang}"),
            "agency finance": admin.get(f"/agencies/finance?lang={lang}"),
        }
        for name, (status, _, page) in shown.items():
            assert status == 200, (lang, name, status)
            assert codes_shown(page) == [], (lang, name, codes_shown(page)[:8])
            title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)[1]
            assert web.service.plan.file.plan.id not in title, (lang, name, title)
            assert "superseded" not in page and "a later step" not in page, (lang, name)
        plan_titles[lang] = re.search(r"<title>(.*?)</title>", shown["my (finance)"][2], re.DOTALL)[1]
    assert plan_titles["kk"] != plan_titles["ru"]
    assert "План по противодействию торговле людьми" in plan_titles["ru"]
    # the resolution's paragraph by its name, its words going on after a colon
    assert "П. 3.2 постановления: ежегодно" in aigul.get("/my?lang=ru")[2]
    assert "Қаулының 3.2-тармағы: " in aigul.get("/my?lang=kk")[2]


@pytest.mark.parametrize("lang, words", [("kk", "PDF"), ("ru", "PDF")])
def test_a_refused_upload_is_said_in_the_pages_language(site, lang, words):  # noqa: F811
    web = site()
    aigul = web.signed_in("aigul@minfin.example.kz")
    page = aigul.get(f"/my?lang={lang}")[2]
    status, _, page = aigul.post(f"/my/answer?lang={lang}", [("csrf", field(page, "csrf", "answer-form")),
                                                             ("occurrence", "7:finance:2022"), ("ref", "12-3/45")],
                                 [("files", "fake.pdf", b"this is no PDF at all")])
    assert status == 400
    problem = re.search(r'<p[^>]*class="[^"]*(?:error|problem)[^"]*"[^>]*>(.*?)</p>', page, re.DOTALL)
    text = problem[1] if problem else page
    assert "fake.pdf" in text
    assert "not a PDF" not in page and "judged by its content" not in page
    assert re.search(r"[а-яА-ЯәғқңөұүһіӘҒҚҢӨҰҮҺІ]{4}", text)
