"""The forms of answers, shared by `/my` and the secretariat's pages. Uploads are parsed by
Starlette with python-multipart, under a size limit on the whole body (MAX_FILES documents of
SCHEDULER_MAX_UPLOAD_MB each) counted as it arrives, and a deadline; each document goes to a
temporary file as it comes (Starlette spools past 1 MB) and is checked from it in the heavy lane
(`answers.files.check_file`), never held whole in memory but while it is stored. Then the letter's
fields are checked, the answers recorded, and refusals put in the reader's words."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from scheduler import bounds, templating
from scheduler.answers.files import TooLarge, Upload, check_file
from scheduler.app import answer
from scheduler.errors import BadInput
from scheduler.i18n import long_date
from scheduler.web import words
from scheduler.web.auth import Auth, focus_ids
from scheduler.web.lanes import LANES

MAX_FILES = 10


UPLOAD_TIMEOUT = 600.0  # seconds for an upload's body: a phone on a slow line sends 20 MB in minutes


class _TooLarge(Exception):
    pass


async def read_form(request: Request, file_limit: int) -> FormData | Response:
    """The posted form (multipart or urlencoded), or the answer to give when it is too large, too
    slow, malformed or never came."""
    body_limit = MAX_FILES * file_limit + (1 << 20)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > body_limit:
        return Response("the form is too large\n", status_code=413, headers={"Connection": "close"})
    seen = 0

    async def receive():
        nonlocal seen
        message = await request.receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > body_limit:
                raise _TooLarge
        return message

    # Without "app" in its scope the parser raises its own error instead of an HTTPException.
    replay = Request({k: v for k, v in request.scope.items() if k != "app"}, receive)
    try:
        async with asyncio.timeout(UPLOAD_TIMEOUT):
            form = await replay.form(max_files=MAX_FILES, max_fields=400, max_part_size=1 << 20)
    except _TooLarge:
        return Response("the form is too large\n", status_code=413, headers={"Connection": "close"})
    except TimeoutError:
        return Response("the form did not arrive in time\n", status_code=408, headers={"Connection": "close"})
    except ClientDisconnect:
        return Response(status_code=400)
    except MultiPartException as error:
        return Response(f"{error.message}\n", status_code=400)
    from scheduler.web.edges import Refused, nul_in_form

    if nul_in_form(form):  # PostgreSQL keeps no NUL in text (a document's bytes are not checked)
        await form.close()
        raise Refused(400, "nul")
    return form


def form_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Letter:
    """What an answer's form gives: the outgoing letter's number and date, the information, the documents."""

    ref: str
    ref_date: dt.date | None
    text: str
    uploads: list[Upload]
    values: dict  # the fields as typed, to show the form again
    held_on: dt.date | None = None  # an event row's answer: the day the event was held

    @property
    def empty(self) -> bool:
        return not (self.ref or self.text or self.uploads or self.held_on)


async def read_letter(form: FormData, limit: int, lang: str = "en") -> tuple[Letter, str | None]:
    """The letter, text and documents an answer's form carries (each document checked by its
    content, up to `limit` bytes), and what is wrong with them (None when nothing is)."""
    ref, text, ref_date_text = form_field(form, "ref"), form_field(form, "text"), form_field(form, "ref_date")
    held_on_text = form_field(form, "held_on")
    values = {"ref": ref, "text": text, "ref_date": ref_date_text, "held_on": held_on_text}
    uploads, problem, ref_date, held_on = [], None, None, None
    try:
        ref_date = dt.date.fromisoformat(ref_date_text) if ref_date_text else None
        try:
            held_on = dt.date.fromisoformat(held_on_text) if held_on_text else None
        except ValueError:
            ref_date_text = held_on_text  # named in the message below
            raise
        for upload in form.getlist("files"):
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue  # an empty file input
            # Checked from its spooled file in the heavy lane: no more than a chunk in memory, a
            # ZIP's table of contents capped, the event loop free meanwhile.
            uploads.append(await LANES.heavy(check_file, upload.filename, upload.file, limit))
    except ValueError:
        problem = f"{ref_date_text}: {Auth.words(lang, 'not_a_date')}"
    except BadInput as refused:
        problem = refusal_words(refused, lang)
    finally:
        await form.close()
    return Letter(ref, ref_date, text, uploads, values, held_on), problem


def refusal_words(refused: BadInput, lang: str) -> str:
    """A refusal in the page's language: its words by its key (`BadInput.worded`; dates written as
    `lang` writes them, a state named), one too large with both sizes exactly, in MB and in bytes,
    written as `lang` writes numbers; else (a refusal no page was meant to meet) as refused."""
    if not isinstance(refused, TooLarge):
        if refused.key is None:
            return str(refused)
        said = templating.translations(lang)
        values = {name: long_date(value, lang) if isinstance(value, dt.date) else
                  words.say(said, words.STATES.get(value), value) if name == "state" else value
                  for name, value in refused.values.items()}
        return Auth.words(lang, refused.key, **values)
    from babel.numbers import format_decimal

    def mb(value: int, pattern: str) -> str:
        return templating.translations(lang).gettext("%(size)s MB") % {
            "size": format_decimal(value / 2**20, pattern, locale=lang)}

    return Auth.words(lang, "too_large", name=refused.name, size=mb(refused.size, "#,##0.0"),
                      bytes=format_decimal(refused.size, "#,##0", locale=lang), limit=mb(refused.limit, "#,##0.#"),
                      limit_bytes=format_decimal(refused.limit, "#,##0", locale=lang))


def record_answers(ctx, ids: list[str], person, letter: Letter, *, at: dt.datetime, now: dt.datetime,
                   client: str | None, expected_version: int | None = None) -> None:
    """One submission per occurrence, each with the same letter, text and documents, received at
    `at` (not in the future, nor before the plan's adoption: the command line's rule); with
    `expected_version` (one occurrence: the API's If-Match), Conflict when it changed since."""
    from scheduler.calendar.periods import event_of

    for oid in ids:
        # The day an event was held goes with the events ticked; given for one ordinary deadline
        # alone, it is refused with the reason.
        event = event_of(ctx.plan, oid)
        held_on = letter.held_on if event is not None or len(ids) == 1 else None
        answer.submit(ctx.engine, ctx.timing, oid, at=at, now=now, actor=person.actor(), ref=letter.ref,
                      ref_date=letter.ref_date, text=letter.text, uploads=letter.uploads,
                      earliest=ctx.plan.plan_of(oid).adopted, client=client, held_on=held_on, event=event,
                      expected_version=expected_version)


def outside_extension(plans, ids: list[str], until: dt.date, lang: str) -> str | None:
    """What to say when `until` is not a date an extension of each of `ids` may name (between its
    plan's adoption and some years after its period: `scheduler.bounds`); None when it is."""
    for oid in ids:
        first, last = bounds.extension_span(plans.plan_of(oid))
        if not first <= until <= last:
            return Auth.words(lang, "date_range", value=until.isoformat(), first=long_date(first, lang),
                              last=long_date(last, lang))
    return None


def back_to(form: FormData) -> str:
    """Where to go after a post: the page it came from, if it is one of ours."""
    back = form_field(form, "back")
    return back if back == "/my" or (back.startswith("/occurrences/") and "//" not in back and "\\" not in back) else "/my"


def lang_given(request: Request) -> str | None:
    return request.query_params.get("lang") if request.query_params.get("lang") in ("kk", "ru", "en") else None


def page_link(path: str, numbers: dict[str, int], name: str, number: int, lang: str | None,
              focus: list[str] = ()) -> str:
    """The address of page `number` of the list `name`, the other lists staying on their pages (and
    the deadlines an email named staying first)."""
    wanted = {**numbers, name: number}
    pairs = [(key, str(value)) for key, value in wanted.items() if value > 1] + ([("lang", lang)] if lang else [])
    address = path + ("?" + urlencode(pairs) if pairs else "")
    if focus:
        address += ("&" if pairs else "?") + "items=" + ",".join(focus)
    return address + f"#{name}"


def after_post(form: FormData, done: str) -> str:
    """Where a post sends the browser: the page it came from, saying what was done (her page opened
    on the same deadlines as before)."""
    target = back_to(form)
    focus = focus_ids(form_field(form, "items"))
    return target + f"?done={done}" + ("&items=" + ",".join(focus) if focus else "")
