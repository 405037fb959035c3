"""An event row on the focal point's page, over real HTTP: the card says it is an event to be held
in its period, the answer form asks the day it was held, a day outside the period is refused with
nothing stored, and the occurrence page shows the day recorded and a partial first period."""

from __future__ import annotations

from scheduler.app import users
from tests.integration.test_personal_links import site  # noqa: F401 - the site over real HTTP, 9 December 2022
from tests.integration.web_client import field

EVENT = "1:mvd:2022-H2"  # the commission's sittings, second half of 2022, due 30 December 2022


def test_an_event_is_answered_with_the_day_it_was_held(site):  # noqa: F811
    web = site()
    askar = web.signed_in("askar@mvd.example.kz")  # reads Kazakh
    page = askar.get("/my")[2]
    card = page[page.index(f'id="o-{EVENT}"'):]
    card = card[:card.index("</li>")]
    assert "Іс-шара: 2022 жылғы 1 шілде бастап" in card and "(2022 жылғы II жартыжылдық)" in card
    assert 'name="held_on"' in page and "Іс-шара (отырыс, тренинг) үшін: өткізілген күні" in page
    token = field(page, "csrf", "answer-form")

    status, _, refused = askar.post("/my/answer", [("csrf", token), ("occurrence", EVENT), ("held_on", "2022-06-01"),
                                                   ("text", "ВАК отырысы өтті")])
    assert status == 409 and "Іс-шараның өткізілген күні, 2022 жылғы 1 маусым, оның кезеңінен (2022 жылғы 1 шілде" in refused
    assert web.row(EVENT).state == "open" and web.events(EVENT) == []
    status, _, refused = askar.post("/my/answer", [("csrf", token), ("occurrence", EVENT), ("held_on", "2022-12-20")])
    assert status == 409 and "Іс-шараның өткізілген күні болашақта болмайды." in refused and web.row(EVENT).state == "open"

    status, headers, _ = askar.post("/my/answer", [("csrf", token), ("occurrence", EVENT), ("held_on", "2022-11-15")])
    assert status == 303, "the day it was held is an answer in itself"
    row = web.row(EVENT)
    assert row.state == "submitted" and row.next_step_at is None
    shown = askar.get(f"/occurrences/{EVENT}")[2]
    held = shown[shown.index('id="held-on"'):]
    assert "2022 жылғы 15 қараша" in held[:held.index("</td>")]
    # the secretariat's queue says when it was held
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", web.clock[0])
    queue = web.signed_in("reviewer@gov.kz").get("/review?lang=en")[2]
    entry = queue.split('id="new-answers"')[1].split("</ul>")[0]
    assert f'href="/occurrences/{EVENT}"' in entry and "Held on: 15 November 2022" in entry


def test_the_first_quarter_is_said_to_be_partial_on_the_occurrence_page(site):  # noqa: F811
    web = site()
    askar = web.signed_in("askar@mvd.example.kz")
    status, _, page = askar.get("/occurrences/31:mvd:2021-Q1")
    assert status == 200
    facts = page[page.index('id="period"'):]
    facts = facts[:facts.index("</tr>")]
    assert "2021 жылғы I тоқсан" in facts and "2021-Q1" not in facts and "Толық емес кезең: 24.02.2021 бастап (жоспар қабылданған күн)." in facts
    ordinary = askar.get("/occurrences/7:mvd:2022")[2]
    assert 'id="period"' not in ordinary and 'name="held_on"' not in ordinary


def test_a_reading_the_source_does_not_settle_is_marked_on_the_occurrence_page(site):  # noqa: F811
    """Row 1 of 2022 goes to the commission's working body, whose holder that year the plan marks as
    assumed: the page says so, in the reader's language; a deadline resting on no such reading
    says nothing of the kind."""
    web = site()
    users.add(web.service.engine, "reviewer@gov.kz", "reviewer", web.clock[0])
    reviewer = web.signed_in("reviewer@gov.kz")
    for lang, words in (("ru", "так принято программой"), ("kk", "деп алынды"), ("en", "is taken to be")):
        page = reviewer.get(f"/occurrences/{EVENT}?lang={lang}")[2]
        assert 'id="assumptions"' in page, lang
        said = page[page.index('id="assumptions"'):]
        said = said[:said.index("</td>")]
        assert words in said and "2022" in said, said
    assert 'id="assumptions"' not in reviewer.get("/occurrences/7:finance:2022")[2]
