"""A focal point's page (`/my`): what her agencies owe and have answered, with due dates in her
language, and one form to answer one or several deadlines at once — the outgoing letter's number and
date, the information, documents — or to ask for more time. Supervisors and heads see their
agencies' page without the forms; the secretariat sees every agency's. Documents are downloaded
(`/files/<id>`) by whoever may see their occurrence, always as attachments.

Uploads are parsed by Starlette with python-multipart, under a size limit on the whole body
(MAX_FILES documents of SCHEDULER_MAX_UPLOAD_MB each) counted as it arrives, and a deadline; each
document goes to a temporary file as it comes (Starlette spools past 1 MB) and is checked from it
in the heavy lane (`answers.files.check_file`), never held whole in memory but while it is stored.
The page's lists come a page at a time (`pages.PAGE_SIZE`), read and rendered in the heavy lane
(web/lanes.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler import bounds, templating
from scheduler.answers import LADDER_RUNS, REQUEST
from scheduler.answers.files import TooLarge, Upload, check_file
from scheduler.app import answer, pages
from scheduler.errors import BadInput, UnknownOccurrence
from scheduler.i18n import long_date
from scheduler.web import words
from scheduler.web.auth import Auth, Visitor, focus_ids
from scheduler.web.lanes import LANES
from scheduler.notify.items import item

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


def _field(form: FormData, name: str) -> str:
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
    ref, text, ref_date_text = _field(form, "ref"), _field(form, "text"), _field(form, "ref_date")
    held_on_text = _field(form, "held_on")
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
                   client: str | None) -> None:
    """One submission per occurrence, each with the same letter, text and documents, received at
    `at` (not in the future, nor before the plan's adoption: the command line's rule)."""
    from scheduler.calendar.periods import event_of

    for oid in ids:
        # The day an event was held goes with the events ticked; given for one ordinary deadline
        # alone, it is refused with the reason.
        event = event_of(ctx.plan, oid)
        held_on = letter.held_on if event is not None or len(ids) == 1 else None
        answer.submit(ctx.engine, ctx.timing, oid, at=at, now=now, actor=person.actor(), ref=letter.ref,
                      ref_date=letter.ref_date, text=letter.text, uploads=letter.uploads,
                      earliest=ctx.plan.plan_of(oid).adopted, client=client, held_on=held_on, event=event)


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
    back = _field(form, "back")
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
    focus = focus_ids(_field(form, "items"))
    return target + f"?done={done}" + ("&items=" + ",".join(focus) if focus else "")


def routes(auth: Auth) -> list[Route]:
    current, clock = auth.current, auth.clock

    async def render(request: Request, visitor: Visitor, status: int = 200, error: str | None = None,
                     values: dict | None = None, done: str | None = None, form: FormData | None = None) -> Response:
        """The page, a page of each list at a time (`?owed=N`, `?answered=N`; after a post, the
        page the form was on), read and rendered in the heavy lane."""
        ctx, now = current(), clock()
        today = ctx.timing.local_day(now)
        person = visitor.person
        scope = None if person.staff else person.agencies
        given = {name: _field(form, name) if form is not None else request.query_params.get(name, "")
                 for name in ("owed", "older", "answered")}
        # the deadlines an email's link named (`?items=<id>,<id>`): first, whatever their state
        focus = focus_ids(_field(form, "items") if form is not None else request.query_params.get("items"))
        numbers = {name: int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1 for name, value in given.items()}
        lang = visitor.language

        def build() -> Response:
            found = pages.focal_deadlines(ctx.engine, scope, today, focus, owed_page=numbers["owed"],
                                          older_page=numbers["older"], answered_page=numbers["answered"])
            owed, older, answered = found.owed, found.older, found.answered
            items = {e.row.id: item(ctx.plan, e.row, lang) for e in (*found.focus, *owed, *older, *answered)}
            owing = [e for e in (*found.focus, *owed, *older) if e.row.state in LADDER_RUNS]
            names = [ctx.plan.display_name(a, today, lang) for a in sorted(person.agencies) if ctx.plan.agency(a)]
            return auth.page("my", lang, status, request, ctx=ctx, person=person, owed=owed, answered=answered,
                             focus=found.focus, focus_ids=[e.row.id for e in found.focus], older=older,
                             since=today - pages.RECENT,
                             items=items, today=today, names=names, error=error, values=values or {},
                             csrf_answer=auth.token(visitor, "answer"), csrf_extension=auth.token(visitor, "extension"),
                             csrf_out=auth.token(visitor, "sign-out") if visitor.session else None,
                             limit_mb=ctx.settings.max_upload_mb, plan=ctx.plan.file.plan, home="/my",
                             done=auth.words(lang, done) if done else None,
                             answerable={e.row.id for e in owing if person.answers(e.row.agency)},
                             page_link=lambda name, number: page_link("/my", numbers, name, number, lang_given(request),
                                                                      [e.row.id for e in found.focus]))

        return await LANES.heavy(build)

    async def my(request: Request) -> Response:
        visitor = await auth.visitor(request, challenge=False)
        if isinstance(visitor, Response):
            return visitor
        done = {"answer": "done_answer", "request": "done_request"}.get(request.query_params.get("done", ""))
        return await render(request, visitor, done=done)

    async def chosen(request: Request, form: FormData, visitor: Visitor) -> tuple[list[str], Response | None]:
        """The occurrences the form names, if the visitor may answer every one (404 for one she may
        not see, as for one that does not exist)."""
        ids = list(dict.fromkeys(v.strip() for v in form.getlist("occurrence") if isinstance(v, str) and v.strip()))[:200]
        rows = await run_in_threadpool(pages.occurrences, current().engine, ids) if ids else {}
        for oid in ids:
            row = rows.get(oid)
            if row is None or not visitor.person.sees(row.agency):
                return ids, auth.refusal(request, 404, "not_found", visitor.language)
            if not visitor.person.answers(row.agency):
                return ids, auth.refusal(request, 403, "not_answerer", visitor.language)
        return ids, None

    async def post(request: Request, purpose: str, token_field: str = "csrf"):
        visitor = await auth.visitor(request, challenge=False)
        if isinstance(visitor, Response):
            return visitor, None
        form = await read_form(request, current().settings.max_upload_mb << 20)
        if isinstance(form, Response):
            return form, None
        if not auth.token_ok(request, visitor, purpose, _field(form, token_field)):
            return auth.message(request, 403, "stale", visitor.language), None
        return visitor, form

    async def answer_post(request: Request) -> Response:
        visitor, form = await post(request, "answer")
        if form is None:
            return visitor
        words_error = None
        ids, refusal = await chosen(request, form, visitor)
        if refusal is not None:
            await form.close()
            return refusal
        ctx, now = current(), clock()
        letter, problem = await read_letter(form, ctx.settings.max_upload_mb << 20, visitor.language)
        values = {**letter.values, "occurrences": ids}
        if problem is None and not ids:
            words_error = "need_choice"
        elif problem is None and letter.empty:
            words_error = "need_something"
        if words_error or problem:
            return await render(request, visitor, 400, problem or auth.page_words(visitor, words_error), values, form=form)
        client = request.client.host if request.client else None
        try:
            await run_in_threadpool(record_answers, ctx, ids, visitor.person, letter, at=now, now=now, client=client)
        except UnknownOccurrence:
            return auth.refusal(request, 404, "not_found", visitor.language)
        except BadInput as refused:  # answered or closed meanwhile, a text too long, a letter dated later
            return await render(request, visitor, 409, refusal_words(refused, visitor.language), values, form=form)
        return RedirectResponse(after_post(form, "answer"), status_code=303)

    async def extension_post(request: Request) -> Response:
        visitor, form = await post(request, "extension", "csrf_extension")
        if form is None:
            return visitor
        await form.close()
        ids, refusal = await chosen(request, form, visitor)
        if refusal is not None:
            return refusal
        ctx, now = current(), clock()
        until_text, reason = _field(form, "until"), _field(form, "reason")
        values = {"until": until_text, "reason": reason, "occurrences": ids, "asking": True}
        try:
            until = dt.date.fromisoformat(until_text) if until_text else None
        except ValueError:
            return await render(request, visitor, 400, f"{until_text}: {auth.page_words(visitor, 'not_a_date')}", values, form=form)
        missing = "need_choice" if not ids else "need_until" if until is None else "need_reason" if not reason else None
        if missing:
            return await render(request, visitor, 400, auth.page_words(visitor, missing), values, form=form)
        if outside := outside_extension(ctx.plan, ids, until, visitor.language):
            return await render(request, visitor, 400, outside, values, form=form)
        client = request.client.host if request.client else None

        def record() -> None:
            for oid in ids:
                answer.act(ctx.engine, ctx.timing, oid, REQUEST, now=now, actor=visitor.person.actor(),
                           reason=reason, until=until, client=client)

        try:
            await run_in_threadpool(record)
        except BadInput as refused:
            return await render(request, visitor, 409, refusal_words(refused, visitor.language), values, form=form)
        return RedirectResponse(after_post(form, "request"), status_code=303)

    async def download(request: Request) -> Response:
        visitor = await auth.visitor(request)
        if isinstance(visitor, Response):
            return visitor
        # ASCII digits within the id column's range: a larger number names no document (and
        # PostgreSQL would refuse it as out of range for `integer`), nor does '²' or '1_0'.
        file_id = bounds.number(request.path_params["file_id"], 1)
        if file_id is None:
            return auth.refusal(request, 404, "no_document", visitor.language)
        found = await run_in_threadpool(pages.document, current().engine, file_id)
        if found is None or not visitor.person.sees(found[1]):
            return auth.refusal(request, 404, "no_document", visitor.language)
        stored, _ = found
        # Always an attachment, with the type its content was checked to be (never HTML), and
        # nosniff (the app's headers): a browser saves it rather than render it in our origin.
        ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in stored.name)
        return Response(stored.content, media_type=stored.content_type, headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name)}",
            "X-Content-Type-Options": "nosniff"})

    return [
        Route("/my", my, methods=["GET"]),
        Route("/my/answer", answer_post, methods=["POST"]),
        Route("/my/extension", extension_post, methods=["POST"]),
        Route("/files/{file_id}", download, methods=["GET"]),
    ]



