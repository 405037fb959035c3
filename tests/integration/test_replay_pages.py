"""`run --clock`, as `run` serves it, over real HTTP: the site on a `ReplayClock` (the clock `run
--clock DATE --speed N` runs on) that starts in December 2022 and runs 14,400 times as fast as the
wall clock. A session opened in the replayed past — by the digest reader's personal link, by a
one-time sign-in link, by the local admin's link — stays valid while the replay runs days ahead in
seconds of wall time, and ends on the wall clock (12 real hours); a one-time link asked for stays
good for its real 15 minutes, a personal link for its real days; and every page says it is a replay: the dashboard, an agency's,
`/my`, `/review`, an occurrence's, the sign-in page and the one-time link's page."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from scheduler.app import local_admin
from scheduler.app.links import personal_link
from scheduler.clocks import ReplayClock
from scheduler.store.db import session
from scheduler.web.app import create_app
from tests.integration.test_sign_in import ask, eventually, link_in, open_link
from tests.integration.web_client import Client, serving
from tests.smtp import free_port

ALMATY = ZoneInfo("Asia/Almaty")
START = dt.datetime(2022, 12, 8, 0, 0, tzinfo=ALMATY)
SPEED = 14_400  # a replayed day every 6 seconds
ASKAR = "askar@mvd.example.kz"  # a focal point of the Ministry of Internal Affairs, the coordinator's body in 2022
BANNER = 'class="replay"'


@pytest.fixture
def replayed(make_service, database_url, smtp_server):
    """The site under a replayed clock; the wall clock it keeps for sessions is `wall[0]`, moved by
    the test (the replayed clock follows it at SPEED)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = make_service(database_url, smtp_server)
    service.settings = service.settings.model_copy(update={"base_url": base})
    wall = [dt.datetime.now(dt.timezone.utc)]
    clock = ReplayClock(START, SPEED, wall=lambda: wall[0])
    app = create_app(lambda: service, clock, None, replay=True, wall=lambda: wall[0])
    with serving(app, port):
        yield base, service, wall, clock


def test_sessions_opened_in_the_replayed_past_keep_the_wall_clock_and_every_page_says_replay(replayed, smtp_server):
    base, service, wall, clock = replayed
    # the digest reader signs in by her personal link, minted at the replayed time (as the digest's is)
    reader = Client(base)
    with session(service.engine) as db:
        url, _ = personal_link(service, db, ASKAR, clock())
    status, headers, _ = reader.get(url + "?next=%2F")
    assert status == 303 and headers["location"] == "/"
    # the local admin's one-time link of a first run, made on the wall clock
    admin = Client(base)
    assert open_link(admin, local_admin.sign_in_url(service.engine, base, wall[0]))[:2][0] == 303
    # a one-time link asked for on the sign-in page, which says it is a replay
    asking = Client(base)
    status, _, page = asking.get("/signin?lang=en")
    assert status == 200 and BANNER in page and "Replay: these pages show the plan as it stood on 8 December 2022" in page
    ask(asking, ASKAR)
    eventually(lambda: smtp_server.mailbox.to(ASKAR), "the sign-in email")
    emailed = link_in(smtp_server.mailbox.to(ASKAR)[-1])

    # 60 seconds of wall time: ten replayed days, far past a session's 2 idle hours and 12 hours
    wall[0] += dt.timedelta(seconds=60)
    assert clock().astimezone(ALMATY).date() == dt.date(2022, 12, 18)
    pages = {
        reader: ["/?lang=ru", "/agencies/finance?lang=ru", "/my?lang=ru", "/occurrences/7:finance:2022?lang=ru"],
        admin: ["/?lang=kk", "/review?lang=kk", "/occurrences/7:finance:2022?lang=kk", "/my?lang=kk",
                "/agencies/finance?lang=kk"],
    }
    for client, paths in pages.items():
        for path in paths:
            status, headers, page = client.get(path)
            assert status == 200, (path, status, headers.get("location"))
            assert BANNER in page, path
            assert "18" in page[page.index(BANNER):page.index(BANNER) + 400], f"{path}: the replayed date"
    status, _, page = Client(base).get(emailed)
    assert status == 200 and BANNER in page, "the one-time link's page says replay"
    signed = Client(base)
    assert open_link(signed, emailed)[0] == 303, "the one-time link, a real minute old"
    assert signed.get("/")[0] == 200
    status, _, page = Client(base).get("/signin")
    assert status == 200 and BANNER in page

    # a personal link of the replay's first day, opened ten real minutes later (100 replayed days,
    # past its 30 days on the replayed clock): it lasts its real days
    wall[0] += dt.timedelta(minutes=9)
    assert clock().astimezone(ALMATY).date() > dt.date(2023, 3, 1)
    late = Client(base)
    assert late.get(url)[0] == 303 and late.get("/my")[0] == 200

    # twelve real hours end the sessions, however far the replay has run
    wall[0] += dt.timedelta(hours=12, minutes=1)
    for client in (reader, admin, signed):
        status, headers, _ = client.get("/")
        assert status == 303 and headers["location"].startswith("/signin"), status
