"""The webhooks' event types, the message each state change makes, and when a failed delivery is
tried again. Pure: the caller hands in the event and `now`.

An event type is `answer.*` for a change of the answer's state and `deadline.*` for a change of the
due date or a request about it; the names are stable (receivers subscribe to them), one per action
of the state machine (`scheduler.answers.machine`)."""

from __future__ import annotations

import datetime as dt
import json

from scheduler.errors import BadInput
from scheduler.plan.suggest import did_you_mean

# action of the state machine → event type
TYPES: dict[str, str] = {
    "submit": "answer.submitted",
    "accept": "answer.accepted",
    "return": "answer.returned",
    "close": "answer.closed",
    "reopen": "answer.reopened",
    "extend": "deadline.extended",
    "revoke-extension": "deadline.extension_revoked",
    "request-extension": "deadline.extension_requested",
    "refuse-extension": "deadline.extension_refused",
}
EVENT_TYPES = tuple(TYPES.values())

RETRY_FOR = dt.timedelta(days=1)  # a delivery not taken within a day of its event has failed for good
FIRST_DELAY = dt.timedelta(seconds=30)
LONGEST_DELAY = dt.timedelta(hours=2)


def parse_events(text: str) -> list[str]:
    """`answer.submitted,answer.accepted` → the types, each known (BadInput naming the first that is
    not, with the type probably meant), without repeats, in the order of EVENT_TYPES."""
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    if not names:
        raise BadInput(f"--events: name at least one event type, comma-separated, of: {', '.join(EVENT_TYPES)}")
    for name in names:
        if name not in EVENT_TYPES:
            raise BadInput(f"--events: unknown event type {name!r}{did_you_mean(name, EVENT_TYPES)} "
                           f"(the types: {', '.join(EVENT_TYPES)})")
    return [t for t in EVENT_TYPES if t in names]


def utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def body(event_type: str, event, occurrence, version: int, due: dt.date) -> str:
    """The JSON of the message telling of `event` (an EventRow, linked into the record's chain) on
    `occurrence` (its OccurrenceRow), now at `version` and due on `due`."""
    details = json.loads(event.details)
    data = {
        "occurrence": occurrence.id,
        "agency": occurrence.agency,
        "obligation": occurrence.obligation,
        "period": occurrence.period,
        "action": event.action,
        "from_state": event.from_state,
        "state": event.to_state,
        "version": version,
        "due": due.isoformat(),
        "actor": event.actor,
        "reason": details.get("reason"),
        "until": details.get("until"),
        "event": {"id": event.id, "seq": event.chain_seq, "hash": event.hash, "prev_hash": event.prev_hash},
    }
    message = {"type": event_type, "timestamp": utc_text(event.at), "data": data}
    return json.dumps(message, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def next_attempt(created: dt.datetime, attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When to try again after `attempts` failed attempts: 30 s, 1 min, 2 min … doubling up to two
    hours between tries; None once a day has passed since the event (failed for good)."""
    delay = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)
    then = now + delay
    return None if then > created + RETRY_FOR else then
