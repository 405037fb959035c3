"""Webhooks, pure: the signature agrees with the `standardwebhooks` package (an independent
implementation of the specification) and with the specification's own example; event types are
checked with a did-you-mean; retries back off and stop a day after the event."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from standardwebhooks.webhooks import Webhook

from scheduler.errors import BadInput
from scheduler.webhooks.events import EVENT_TYPES, RETRY_FOR, body, next_attempt, parse_events
from scheduler.webhooks.sign import PREFIX, headers, new_secret, signature

T0 = dt.datetime(2022, 12, 9, 4, 0, tzinfo=dt.timezone.utc)


def test_the_specifications_example_signature():
    # https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md (Signature scheme)
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                     '{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secrets_and_signatures_verify_with_the_standardwebhooks_package():
    secret = new_secret()
    assert secret.startswith(PREFIX) and len(secret) == len(PREFIX) + 44 and secret != new_secret()
    now = int(dt.datetime.now(dt.timezone.utc).timestamp())
    text = json.dumps({"type": "answer.submitted", "data": {"occurrence": "7:finance:2022", "name": "Қаржы"}},
                      ensure_ascii=False)
    sent = headers(secret, "msg_1", now, text)
    assert Webhook(secret).verify(text, sent)["data"]["name"] == "Қаржы"
    assert Webhook(secret).sign("msg_1", dt.datetime.fromtimestamp(now, dt.timezone.utc), text) == sent["webhook-signature"]
    with pytest.raises(Exception):
        Webhook(secret).verify(text.replace("7:", "8:"), sent)


def test_event_types_are_checked():
    assert parse_events("answer.accepted, answer.submitted,answer.accepted") == ["answer.submitted", "answer.accepted"]
    assert parse_events(",".join(EVENT_TYPES)) == list(EVENT_TYPES)
    with pytest.raises(BadInput, match="did you mean 'deadline.extended'"):
        parse_events("deadline.extnded")
    with pytest.raises(BadInput, match="at least one"):
        parse_events(" ,")


def test_retries_back_off_and_stop_a_day_after_the_event():
    delays, moment, attempts = [], T0, 0
    while (later := next_attempt(T0, attempts + 1, moment)) is not None:
        delays.append(later - moment)
        moment, attempts = later, attempts + 1
    assert delays[:4] == [dt.timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == dt.timedelta(hours=2) and moment <= T0 + RETRY_FOR
    assert 12 <= attempts + 1 <= 20


def test_the_body_names_the_event_and_its_link():
    event = SimpleNamespace(id=41, action="accept", from_state="submitted", to_state="accepted", actor="r@x.kz",
                            details='{"reason": null}', at=T0.replace(tzinfo=None), chain_seq=57, hash="a" * 64,
                            prev_hash="b" * 64)
    occurrence = SimpleNamespace(id="7:finance:2022", agency="finance", obligation="7", period="2022")
    message = json.loads(body("answer.accepted", event, occurrence, 2, dt.date(2022, 12, 12)))
    assert message["type"] == "answer.accepted" and message["timestamp"] == "2022-12-09T04:00:00.000000Z"
    assert message["data"]["event"] == {"id": 41, "seq": 57, "hash": "a" * 64, "prev_hash": "b" * 64}
    assert message["data"]["version"] == 2 and message["data"]["state"] == "accepted"
