"""The people's pages' words said in Python (refusals, states, actions, the ladder's steps): English
message ids only, translated where they are shown through the `web` gettext catalog
(`locale/<lang>/LC_MESSAGES/web.po`, `scheduler.templating.translations(lang)`). The templates mark
their own words with `_()` and `{% trans %}`.

States, actions and steps carry a gettext context ("state", "action", "step"), so that the same
English words in another catalog (the dashboard's, the report's) never decide how they read here.
The states are named as the consolidated report names them (ұсынылмаған / не представлено…)."""

from __future__ import annotations

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_NAMES = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))


def N_(message: str) -> str:
    """Marks a message id for extraction (`make catalogs`); translated where it is shown."""
    return message


def pgettext(context: str, message: str) -> tuple[str, str]:
    """Marks a message id with its context for extraction; `say` translates the pair."""
    return context, message


# Refusals and what a page says after a post, by the key the handlers name them with.
MESSAGES: dict[str, str] = {
    "done_answer": N_("Answer recorded"),
    "done_request": N_("Request sent to the secretariat"),
    "link_altered": N_("This link is not valid. Copy it whole from the email, or open it straight from the email."),
    "link_gone": N_("This link has expired or was revoked. Open the link in your latest reminder email."),
    "sign_in": N_("To sign in, open the personal link in your latest reminder email."),
    "signed_out": N_("You have signed out."),
    "stale": N_("The page is out of date: reload it and try again."),
    "not_found": N_("No such deadline."),
    "need_something": N_("Give the letter's number, the information or a document."),
    "need_choice": N_("Tick at least one deadline."),
    "need_reason": N_("Give a reason."),
    "need_until": N_("Give the new date."),
    "staff_only": N_("This page is for the secretariat only."),
    "admins_only": N_("This page is for admins only."),
    "reviewers_only": N_("Only the secretariat's reviewers and admins decide."),
    "unknown_action": N_("No such action."),
    "no_document": N_("No such document."),
    "not_answerer": N_("You may not answer for this body."),
    "not_recorded": N_("Nothing was recorded"),
    "conflict": N_("This page is out of date: someone else changed the deadline meanwhile. Nothing was recorded; "
                   "open the page again and retry."),
    "back_to_page": N_("Back to the deadline"),
    "back_to_queue": N_("Back to the queue"),
    "to_my_page": N_("Go to my deadlines"),
    "need_received": N_("Give the day the letter came."),
    "received_future": N_("The date received cannot be in the future."),
    "received_early": N_("The date received cannot be before the plan's adoption (%(date)s)."),
    "letter_after": N_("The outgoing letter's date cannot be after the day it came."),
    "not_a_date": N_("That is not a date."),
    "need_selection": N_("Choose a body, a year or a date."),
    "unknown_agency": N_("No such body in the plan."),
    "not_a_year": N_("That is not a year."),
    "no_report": N_("No such report."),
    "signin_bad_address": N_("Enter an email address, such as name@example.kz."),
    "nul": N_("The address or the form holds a character that cannot be kept (NUL, code 0). Nothing was "
              "recorded: remove it and try again."),
    "server_error": N_("Something went wrong on our side. The error has been logged; try again in a while."),
    "date_range": N_("%(value)s: the date must lie between %(first)s and %(last)s."),
    "too_large": N_("%(name)s: %(size)s (%(bytes)s bytes) is more than the limit, %(limit)s (%(limit_bytes)s bytes)."),
    # Refusals of the domain (scheduler.errors.BadInput.worded): the CLI says them in English.
    "no_file_name": N_("A document needs a file name."),
    "file_empty": N_("%(name)s: the file is empty."),
    "not_a_document": N_("%(name)s: not a PDF, DOCX, XLSX, PNG or JPEG document (judged by its content; Office "
                         "files with macros are refused)."),
    "misnamed": N_("%(name)s: the content is %(kind)s, but the name says otherwise; name it *%(extension)s."),
    "too_many_parts": N_("%(name)s: the archive has more parts than a DOCX or XLSX may have; it was refused unread."),
    "too_long_ref": N_("The letter's number is longer than %(limit)s characters."),
    "too_long_text": N_("The information is longer than %(limit)s characters."),
    "too_long_note": N_("The note is longer than %(limit)s characters."),
    "too_long_reason": N_("The reason is longer than %(limit)s characters."),
    "one_line_ref": N_("The letter's number must be one line."),
    "one_line_text": N_("The information must be one line."),
    "one_line_note": N_("The note must be one line."),
    "one_line_reason": N_("The reason must be one line."),
    "letter_early": N_("The outgoing letter's date cannot be before the plan's adoption (%(adopted)s)."),
    "not_an_event": N_("The day an event was held is given only for a row that is an event."),
    "held_future": N_("The day the event was held cannot be in the future."),
    "held_outside": N_("The day the event was held, %(date)s, is outside its period (%(first)s – %(last)s)."),
    "held_later": N_("The day the event was held cannot be after the day the answer came."),
    "not_permitted": N_("You may not do this for this deadline."),
    "not_now": N_("This cannot be done now: the deadline is %(state)s."),
    "not_later": N_("The new date, %(date)s, must be later than the plan's due date, %(due)s."),
    "already_extended": N_("The deadline is already extended to %(date)s."),
    # What the page says after a decision (`%(what)s`: the body and the row, e.g. "Қаржы министрлігі — № 7, 2022").
    "done_accept": N_("The answer is accepted: %(what)s."),
    "done_return": N_("The answer is returned for completion: %(what)s. The body is told the reason."),
    "done_close": N_("The deadline is closed: %(what)s."),
    "done_reopen": N_("The latest decision is undone: %(what)s. It is now: %(state)s."),
    "done_extend": N_("The deadline is extended to %(date)s: %(what)s."),
    "done_revoke-extension": N_("The extension is revoked: %(what)s. It is due again on %(date)s."),
    "done_refuse-extension": N_("The extension asked for is refused: %(what)s."),
    "already_accepted": N_("already accepted earlier"),
    "changed_meanwhile": N_("changed by someone else meanwhile; it is now: %(state)s"),
    "not_answered": N_("no answer is waiting for a decision; it is: %(state)s"),
    "not_this_body": N_("%(id)s: not a deadline of this body still owed."),
    "need_body": N_("Choose the body."),
    # A paragraph of the resolution as a row's number (templating's `row_number`, compose.row_name).
    "resolution_paragraph": N_("paragraph %(number)s of the resolution"),
}

STATES: dict[str, tuple[str, str]] = {
    "open": pgettext("state", "not submitted"),
    "submitted": pgettext("state", "submitted"),
    "accepted": pgettext("state", "accepted"),
    "returned": pgettext("state", "returned for completion"),
    "closed": pgettext("state", "closed"),
    "cancelled": pgettext("state", "removed from the plan"),
}
# Not by colour alone: each state has its sign beside its words.
STATE_ICONS = {"open": "○", "submitted": "✉", "accepted": "✓", "returned": "↩", "closed": "—", "cancelled": "✕",
               "overdue": "⚠"}

ACTIONS: dict[str, tuple[str, str]] = {
    "submit": pgettext("action", "answer submitted"),
    "accept": pgettext("action", "accepted"),
    "return": pgettext("action", "returned for completion"),
    "close": pgettext("action", "closed"),
    "reopen": pgettext("action", "latest decision undone"),
    "extend": pgettext("action", "extension granted"),
    "revoke-extension": pgettext("action", "extension revoked"),
    "request-extension": pgettext("action", "extension requested"),
    "refuse-extension": pgettext("action", "extension refused"),
}

# The ladder's steps and the notices, as the notifications table names them.
STEPS: dict[str, tuple[str, str]] = {
    "reminder-14d": pgettext("step", "reminder 14 days before"),
    "reminder-7d": pgettext("step", "reminder 7 days before"),
    "reminder-1wd": pgettext("step", "reminder the working day before"),
    "due": pgettext("step", "reminder on the day"),
    "escalation-1wd": pgettext("step", "first escalation, the working day after"),
    "escalation-5wd": pgettext("step", "second escalation, 5 working days after"),
    "answer-received": pgettext("step", "answer received (to the secretariat)"),
    "answer-acknowledged": pgettext("step", "receipt of the answer (to the body)"),
    "answer-accepted": pgettext("step", "answer accepted (to the body)"),
    "answer-returned": pgettext("step", "answer returned (to the body)"),
    "deadline-closed": pgettext("step", "deadline closed (to the body)"),
    "deadline-reopened": pgettext("step", "decision undone (to the body)"),
    "extension-granted": pgettext("step", "extension granted (to the body)"),
    "extension-refused": pgettext("step", "extension refused (to the body)"),
    "decisions": pgettext("step", "the secretariat's decisions (to the body)"),
    "digest": pgettext("step", "weekly digest"),
}
STEP_OTHER = pgettext("step", "other notification")

# What became of a notification in the ledger.
DELIVERY: dict[str, tuple[str, str]] = {
    "pending": pgettext("delivery", "to send"),
    "claimed": pgettext("delivery", "being sent"),
    "retry": pgettext("delivery", "to be retried"),
    "sent": pgettext("delivery", "sent"),
    "failed": pgettext("delivery", "not delivered"),
    "skipped": pgettext("delivery", "skipped"),
    "withdrawn": pgettext("delivery", "withdrawn"),
}


def say(translations, pair: tuple[str, str] | None, fallback: str = "") -> str:
    """A (context, message id) pair in the catalog's language."""
    return translations.pgettext(*pair) if pair else fallback
