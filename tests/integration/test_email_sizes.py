"""Every email of the shipped plan at its busiest, in Kazakh, Russian and English, to every kind of
reader (each body's focal point, supervisor and head, and through them the working body and the
coordinator): at most 100 KB, and no raw code in the Kazakh or Russian text people read.

Nothing is answered, so every deadline runs its whole ladder: the ticks cover each day from 15 days
before the two due dates with the most deadlines to 10 days after them."""

from __future__ import annotations

import datetime as dt
import email
import re
from collections import Counter
from email import policy
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from scheduler.app.tick import tick
from scheduler.plan import load_plan
from scheduler.store.db import session
from scheduler.store.tables import OccurrenceRow
from tests.conftest import SHIPPED_PLAN

LIMIT = 100 * 1024
ALMATY = ZoneInfo("Asia/Almaty")
# What people must not read in kk/ru text (they stay in headers and in the links' addresses):
# occurrence ids, row codes of the resolution, period labels.
RAW = [re.compile(r"\b[\w.-]+:[a-z][a-z-]*:\d{4}(-[QH]\d|-\d\d-\d\d)?\b"), re.compile(r"\bres-\d"),
       re.compile(r"\b\d{4}-[QH]\d\b")]


def everyone(path) -> None:
    plan = load_plan(SHIPPED_PLAN)
    lines = ["agency,name,email,role,language"]
    for code in plan.file.agencies:
        if code in plan.placeholders:
            continue
        for role in ("focal", "supervisor", "head"):
            for language in ("kk", "ru", "en"):
                lines.append(f"{code},{role} {language},{role}-{language}@{code}.example.kz,{role},{language}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def people_read(text: str) -> str:
    """The text without the addresses of links (which carry ids for machines)."""
    return re.sub(r"https?://\S+", "", text)


def test_every_email_at_the_busiest_is_at_most_100_kb_with_no_raw_codes(make_service, contacts_file, tmp_path):
    everyone(contacts_file)
    service = make_service(f"sqlite:///{tmp_path / 'scheduler.db'}")
    with session(service.engine) as db:
        busiest = db.exec(select(OccurrenceRow.due).group_by(OccurrenceRow.due)
                          .order_by(func.count().desc(), OccurrenceRow.due).limit(2)).all()
    days = sorted({row[0] + dt.timedelta(days=n) for row in busiest for n in range(-15, 11)})
    for day in days:
        tick(service, dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=ALMATY))

    files = list((tmp_path / "mail" / "new").glob("*.eml"))
    sizes, raw = Counter(), []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        step, size = message["X-Scheduler-Step"], path.stat().st_size
        sizes[step] = max(sizes[step], size)
        assert size <= LIMIT, f"{message['To']} {step} {message['Date']}: {size} bytes"
        language = message.get_body(("html",)).get_content().split('lang="', 1)[1][:2]
        if language in ("kk", "ru"):
            for part in ("plain", "html"):
                text = people_read(message.get_body((part,)).get_content())
                raw += [f"{message['To']} {step} ({part}): {found.group(0)}" for pattern in RAW
                        for found in [pattern.search(text)] if found]
    assert len(files) > 1000 and {"reminder-14d", "due", "escalation-1wd", "escalation-5wd"} <= set(sizes)
    assert raw == []
    print("\nlargest email per step:", dict(sizes))
