"""The focal point's page opened from an email, over real HTTP (uvicorn on loopback) on SQLite and
PostgreSQL, the emails received over real SMTP (aiosmtpd): every deadline email and notice with a
personal link opens her page on its own deadlines (`/my?items=…`), first and in the email's order,
then the rest of what is owed, soonest first, and the earlier overdue folded below, not removed;
every item of every email links to its own page through her personal link, so that it opens
without a session (200 for her, 404 for another body's focal point); the page keeps her language."""

from __future__ import annotations

import datetime as dt
import re

from scheduler.app import pages
from scheduler.app.tick import tick
from tests.integration.test_personal_links import NOW, site  # noqa: F401 - the fixture
from tests.integration.web_client import field

FOCUS_LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+\?items=\S+)")
ITEM_LINK = re.compile(r"(https?://\S+/l/[A-Za-z0-9_.-]+\?next=/occurrences/(\S+))")
BODIES = {"minfin": "finance", "mvd": "mvd", "gpo": "gpo", "enbek": "labour"}
ESCALATION = dt.datetime(2022, 12, 12, 3, 0, tzinfo=dt.timezone.utc)  # a working day after 9 December, 09:00


def cards(page: str, section: str) -> list[str]:
    """The occurrence ids of a list of the page, in its order."""
    found = re.search(rf'<ul class="cards" id="{section}">(.*?)</ul>', page, re.S)
    return re.findall(r'<li class="card" id="[^"]+" data-occurrence="([^"]+)"', found.group(1)) if found else []


def ids_of(message) -> list[str]:
    return [i.strip() for i in message["X-Scheduler-Occurrences"].split(",")]


def test_an_emails_link_opens_her_page_on_its_deadlines_first(site, smtp_server):  # noqa: F811
    web = site()
    tick(web.service, NOW)
    email = next(m for m in smtp_server.mailbox.to("aigul@minfin.example.kz") if m["X-Scheduler-Step"] == "due")
    ids = ids_of(email)
    link = FOCUS_LINK.search(email.get_body(("plain",)).get_content()).group(1)
    browser = web.client()
    status, headers, _ = browser.get(link)
    assert status == 303 and headers["location"] == "/my?items=" + ",".join(ids)
    status, _, page = browser.get(headers["location"])
    assert status == 200 and '<html lang="kk">' in page
    focus, owed, older = cards(page, "focus"), cards(page, "owed"), cards(page, "older-cards")
    assert focus == ids, "the email's deadlines first, in its order"
    assert page.index('id="focus"') < page.index('id="owed"') < page.index('<details id="older">')
    today = web.service.timing.local_day(NOW)
    every, _ = pages.agency_deadlines(web.service.engine, frozenset({"finance"}), today, size=10 ** 6)
    assert sorted(focus + owed + older) == sorted(e.row.id for e in every), "nothing owed is left out"
    due = {e.row.id: e.row.due for e in every}
    assert [due[i] for i in owed] == sorted(due[i] for i in owed), "the rest soonest first"
    assert all(due[i] >= today - pages.RECENT for i in owed) and all(due[i] < today - pages.RECENT for i in older)
    assert "6:finance:2021" in older and "2:finance:2021-07-01" in older, "the 2021 backlog folded below"
    assert re.search(r'<details id="older">\s*<summary>', page), "folded: closed until she opens it"
    assert "Бұрыннан мерзімі өткендер" in page and "Электрондық хатыңыздағы мерзімдер (5)" in page
    # each of them has its own answer, one tap away; the form that answers several stays
    for oid in ids:
        assert f'href="/occurrences/{oid}?answer=1&amp;items={",".join(ids)}" data-answer="{oid}"' in page
    assert 'id="answer-form"' in page and 'name="occurrence" value="7:finance:2022"' in page
    assert f'name="items" value="{",".join(ids)}"' in page
    # an answer from the several-at-once form comes back to the same page, on the same deadlines
    status, headers, _ = browser.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("items", ",".join(ids)),
                                                     ("occurrence", ids[1]), ("ref", "12-3/45")])
    assert status == 303 and headers["location"] == "/my?done=answer&items=" + ",".join(ids)
    page = browser.get(headers["location"])[2]
    assert cards(page, "focus") == ids and 'id="done"' in page and f'data-answer="{ids[1]}"' not in page
    # one deadline answered from its own page, reached by its "Answer": back to the email's deadlines
    one = browser.get(f"/occurrences/{ids[2]}?answer=1&items={','.join(ids)}")[2]
    assert re.search(r'id="ref"[^>]* autofocus', one) and f'name="items" value="{",".join(ids)}"' in one
    status, headers, _ = browser.post("/my/answer", [("csrf", field(one, "csrf", "answer-form")), ("occurrence", ids[2]),
                                                     ("back", f"/occurrences/{ids[2]}"), ("items", ",".join(ids)),
                                                     ("ref", "12-3/47")])
    assert status == 303 and headers["location"] == f"/occurrences/{ids[2]}?done=answer&items=" + ",".join(ids)
    done = browser.get(headers["location"])[2]
    assert f'<a href="/my?items={",".join(ids)}" id="back-to-email">' in done and web.row(ids[2]).state == "submitted"
    # the plain link and the page without items are as before; `next` leads where it says
    assert browser.get(link.split("?")[0])[1]["location"] == "/my"
    assert browser.get(link.split("?")[0] + "?next=/occurrences/7:finance:2022&items=6:finance:2022")[1]["location"] == \
        "/occurrences/7:finance:2022"
    plain = browser.get("/my")[2]
    assert 'id="focus"' not in plain and cards(plain, "owed")[:1] != cards(plain, "older-cards")[:1]
    # what she may not see, or what is not an id, is left out; nothing breaks
    for items in ("7:mvd:2022,7:finance:2022", "<script>,7:finance:2022", "", ",,,", "x" * 9000):
        status, _, page = browser.get("/my?items=" + items)
        assert status == 200 and "7:mvd:2022" not in page and "<script>," not in page
        assert cards(page, "focus") == (["7:finance:2022"] if "7:finance" in items else [])


def test_every_item_of_every_email_opens_for_her_without_a_session(site, smtp_server):  # noqa: F811
    web = site()
    tick(web.service, NOW)
    tick(web.service, ESCALATION)
    kinds = {}
    for message in smtp_server.mailbox.messages:
        if message["X-Scheduler-Step"] == "digest":
            continue
        address = message["To"].addresses[0].addr_spec
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        body = BODIES[address.split("@")[1].split(".")[0]]
        own = all(oid.split(":")[1] == body for oid in ids_of(message))
        items = ITEM_LINK.findall(text)
        if own:  # her own body's deadlines: every one through her link, and the link opens her page on them
            assert [oid for _, oid in items] == ids_of(message), (address, message["X-Scheduler-Step"])
            assert all(f'href="{url}"' in html for url, _ in items)
            assert FOCUS_LINK.search(text).group(1).split("?items=")[1].split(",") == ids_of(message)
        else:  # told of another body's (the working body): their pages are not hers to open
            assert not items and "?items=" not in text and "/occurrences/" in text
        kinds.setdefault(message["X-Scheduler-Step"], set()).add(address)
    assert {"due", "escalation-1wd"} <= set(kinds)
    assert "ivanov@minfin.example.kz" in kinds["escalation-1wd"], "the supervisor's escalation too"

    def opens(message, address):
        text = message.get_body(("plain",)).get_content()
        for url, oid in ITEM_LINK.findall(text):
            browser = web.client()  # no session yet
            status, headers, _ = browser.get(url)
            assert status == 303 and headers["location"] == f"/occurrences/{oid}", (address, url)
            status, _, page = browser.get(headers["location"])
            assert status == 200 and f'data-occurrence="{oid}"' in page, (address, oid, status)
        return ITEM_LINK.findall(text)

    web.at(ESCALATION + dt.timedelta(hours=1))
    escalation = next(m for m in smtp_server.mailbox.to("aigul@minfin.example.kz") if m["X-Scheduler-Step"] == "escalation-1wd")
    opens(escalation, "aigul")
    supervisor = next(m for m in smtp_server.mailbox.to("ivanov@minfin.example.kz") if m["X-Scheduler-Step"] == "escalation-1wd")
    listed = opens(supervisor, "ivanov")
    landing = FOCUS_LINK.search(supervisor.get_body(("plain",)).get_content()).group(1)
    browser = web.client()
    browser.get(landing)
    page = browser.get("/my?items=" + landing.split("?items=")[1], headers={"Accept-Language": "kk"})[2]
    assert '<html lang="ru">' in page and cards(page, "focus") == ids_of(supervisor), "his language, his email's deadlines"
    assert "Сроки из вашего письма" in page and 'data-answer="' not in page, "a supervisor reads, answers nothing"
    # another body's focal point, with her own session, gets 404 for it; with the link, it is not hers
    # (the prosecutor's: the working body's focal points read the whole plan, as the digest's readers)
    other = web.signed_in("focal@gpo.example.kz")
    assert other.get(f"/occurrences/{listed[0][1]}")[0] == 404

    # she answers one from its own page; the acknowledgement's links open on it too
    browser = web.client()
    url, oid = ITEM_LINK.findall(escalation.get_body(("plain",)).get_content())[0]
    browser.get(url)
    page = browser.get(f"/occurrences/{oid}?answer=1")[2]
    assert re.search(r'id="ref"[^>]* autofocus', page), "the letter's number field takes the focus"
    status, headers, _ = browser.post("/my/answer", [("csrf", field(page, "csrf", "answer-form")), ("occurrence", oid),
                                                     ("back", f"/occurrences/{oid}"), ("text", "орындалды")])
    assert status == 303 and headers["location"] == f"/occurrences/{oid}?done=answer"
    assert 'id="done"' in browser.get(headers["location"])[2]
    smtp_server.mailbox.messages.clear()
    tick(web.service, ESCALATION + dt.timedelta(hours=2))
    receipt = next(m for m in smtp_server.mailbox.to("aigul@minfin.example.kz"))
    assert receipt["X-Scheduler-Step"] == "answer-acknowledged" and ids_of(receipt) == [oid]
    text = receipt.get_body(("plain",)).get_content()
    assert FOCUS_LINK.search(text).group(1).endswith(f"?items={oid}")
    assert opens(receipt, "aigul") == [(f"{FOCUS_LINK.search(text).group(1).split('?')[0]}?next=/occurrences/{oid}", oid)]
