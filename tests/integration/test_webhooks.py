"""Webhooks against a real receiver on loopback, on SQLite and PostgreSQL: each state change is one
message per subscribed endpoint, written with its event (or not at all), signed as Standard
Webhooks says (checked with the `standardwebhooks` package, an independent implementation),
retried after a 500 and a dropped connection with the same webhook-id, given up after a day; a 410
disables its endpoint; a slow receiver holds up no other."""

import datetime as dt
import json
import threading
import time

import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from scheduler.app import answer, webhooks
from scheduler.app.hooks_deliver import deliver
from scheduler.clocks import clock
from scheduler.errors import BadInput, Conflict
from scheduler.store import chain, outbox
from scheduler.store.db import session
from scheduler.store.tables import (
    AdminEventRow,
    OccurrenceRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)
from tests.integration.test_delivery import at
from tests.integration.webhook_receiver import Receiver

OID = "7:finance:2022"


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def deliveries(service, endpoint_id=None):
    with session(service.engine) as db:
        query = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)
        if endpoint_id is not None:
            query = query.where(WebhookDeliveryRow.endpoint_id == endpoint_id)
        return list(db.exec(query))


def attempts(service, delivery_id):
    with session(service.engine) as db:
        return list(db.exec(select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id == delivery_id)
                            .order_by(WebhookAttemptRow.id)))


def verified(endpoint, headers, body):
    """The message as the receiver's independent check reads it (raises when the signature is wrong)."""
    return Webhook(endpoint.secret).verify(body, headers)


def test_each_state_change_is_a_signed_message_to_each_endpoint_that_wants_it(database_url, make_service, receiver):
    service = make_service(database_url)
    everything = webhooks.add(service.engine, receiver.url("/all"), "answer.submitted,answer.accepted,answer.returned",
                              at(12, 1))
    accepted = webhooks.add(service.engine, receiver.url("/accepted"), "answer.accepted", at(12, 1))
    assert everything.secret.startswith("whsec_") and everything.secret != accepted.secret
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))
    answer.act(service.engine, service.timing, OID, "accept", now=at(12, 10))
    assert [d.state for d in deliveries(service)] == ["pending"] * 3

    report = deliver(service.engine, at(12, 10, 9, 1), clock)
    assert (report.sent, report.retried, report.failed) == (3, 0, 0)
    got = [verified(everything, h, b) for h, b in receiver.at("/all")]
    assert [m["type"] for m in got] == ["answer.submitted", "answer.accepted"]
    assert got[1]["data"]["occurrence"] == OID and got[1]["data"]["state"] == "accepted"
    assert got[1]["data"]["from_state"] == "submitted" and got[1]["data"]["version"] == 2
    (headers, body), = receiver.at("/accepted")
    assert verified(accepted, headers, body)["type"] == "answer.accepted"
    with pytest.raises(Exception):  # another endpoint's secret does not verify it
        verified(everything, headers, body)
    # the message names its event's link of the record's chain, and the chain is intact
    with session(service.engine) as db:
        event_hash = db.connection().exec_driver_sql("SELECT hash FROM event ORDER BY id DESC LIMIT 1").scalar()
        assert json.loads(body)["data"]["event"]["hash"] == event_hash
        assert chain.verify(db.connection()).broken is None
        assert [a.action for a in db.exec(select(AdminEventRow).order_by(AdminEventRow.id))] == ["webhook-add"] * 2
    assert all(d.state == "sent" and d.attempts == 1 for d in deliveries(service))
    assert [(a.status, a.error) for a in attempts(service, deliveries(service)[0].id)] == [(204, None)]
    assert deliver(service.engine, at(12, 11), clock).sent == 0, "sent once"


def test_a_refused_change_writes_no_message(database_url, make_service, receiver):
    service = make_service(database_url)
    webhooks.add(service.engine, receiver.url("/all"), "answer.submitted,answer.accepted", at(12, 1))
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))
    with pytest.raises(Conflict):
        answer.act(service.engine, service.timing, OID, "accept", now=at(12, 10), expected_version=0)
    assert len(deliveries(service)) == 1


def test_retried_after_a_500_and_a_dropped_connection_with_the_same_id(database_url, make_service, receiver):
    service = make_service(database_url)
    failing = webhooks.add(service.engine, receiver.url("/500"), "answer.submitted", at(12, 1))
    dropping = webhooks.add(service.engine, receiver.url("/drop"), "answer.submitted", at(12, 1))
    receiver.plans = {"/500": ["500"], "/drop": ["drop"]}
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))

    first = deliver(service.engine, at(12, 9, 9, 0), clock)
    assert (first.sent, first.retried) == (0, 2)
    assert sorted(receiver.seen) == ["/500", "/drop"]
    assert deliver(service.engine, at(12, 9, 9, 0) + dt.timedelta(seconds=29), clock).sent == 0, "not before its time"
    later = deliver(service.engine, at(12, 9, 9, 0) + dt.timedelta(seconds=30), clock)  # 30 s after the first attempt
    assert later.sent == 2
    for endpoint, path in ((failing, "/500"), (dropping, "/drop")):
        (headers, body), = receiver.at(path)
        assert verified(endpoint, headers, body)["type"] == "answer.submitted"
        delivery, = deliveries(service, endpoint.id)
        assert headers["webhook-id"] == delivery.message_id and delivery.state == "sent" and delivery.attempts == 2
        tried = attempts(service, delivery.id)
        assert [a.status for a in tried] == ([500, 204] if path == "/500" else [None, 204])
        assert path == "/500" or "RemoteDisconnected" in tried[0].error or "Connection" in tried[0].error
        assert all(a.duration_ms >= 0 for a in tried)


def test_given_up_a_day_after_its_event(database_url, make_service, receiver):
    service = make_service(database_url)
    webhooks.add(service.engine, receiver.url("/down"), "answer.submitted", at(12, 1))
    receiver.plans = {"/down": ["500"] * 100}
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))
    moment, tries = at(12, 9), 0
    while deliveries(service)[0].state in ("pending", "retry") and tries < 40:
        deliver(service.engine, moment, clock)
        moment, tries = moment + dt.timedelta(hours=2), tries + 1
    delivery, = deliveries(service)
    assert delivery.state == "failed" and "gave up after" in delivery.last_error
    assert 12 <= delivery.attempts <= 20, delivery.attempts


def test_a_receiver_answering_410_disables_its_endpoint(database_url, make_service, receiver):
    service = make_service(database_url)
    gone = webhooks.add(service.engine, receiver.url("/gone"), "answer.submitted,answer.accepted", at(12, 1))
    webhooks.add(service.engine, receiver.url("/ok"), "answer.submitted,answer.accepted", at(12, 1))
    receiver.plans = {"/gone": ["410"]}
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))
    answer.act(service.engine, service.timing, OID, "accept", now=at(12, 9, 9, 30))
    report = deliver(service.engine, at(12, 10), clock)
    assert report.disabled == [gone.url] and report.sent == 2
    assert receiver.seen.count("/gone") == 1, "nothing more once it said 410"
    assert [d.state for d in deliveries(service, gone.id)] == ["failed", "dropped"]
    answer.act(service.engine, service.timing, OID, "return", now=at(12, 11), reason="again")
    answer.submit(service.engine, service.timing, OID, at=at(12, 12), now=at(12, 12))
    assert len(deliveries(service, gone.id)) == 2, "no message for a disabled endpoint"
    with session(service.engine) as db:
        row = db.get(WebhookEndpointRow, gone.id)
        assert row.disabled_at is not None and "410" in row.disabled_reason
        assert db.exec(select(AdminEventRow.action).order_by(AdminEventRow.id.desc())).first() == "webhook-gone"


def test_a_slow_receiver_holds_up_no_other(make_service, receiver, tmp_path):
    service = make_service(f"sqlite:///{tmp_path / 'slow.db'}")
    webhooks.add(service.engine, receiver.url("/slow"), "answer.submitted", at(12, 1))
    webhooks.add(service.engine, receiver.url("/fast"), "answer.submitted", at(12, 1))
    receiver.plans = {"/slow": ["slow:3"]}
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))
    done = threading.Thread(target=deliver, args=(service.engine, at(12, 10), clock))
    started = time.monotonic()
    done.start()
    while not receiver.at("/fast") and time.monotonic() - started < 10:
        time.sleep(0.02)
    fast = time.monotonic() - started
    done.join()
    assert fast < 2.0 and receiver.at("/slow"), f"the fast receiver waited {fast:.2f} s"


def test_bad_endpoints_are_refused_and_nothing_is_stored(make_service, tmp_path):
    service = make_service(f"sqlite:///{tmp_path / 'bad.db'}")
    for url, events, said in (("ftp://example.kz/x", "answer.submitted", "http:// or https://"),
                              ("https://example.kz/x", "answer.submited", "did you mean 'answer.submitted'"),
                              ("https://example.kz/x", " , ", "at least one event type"),
                              ("https://exa mple.kz/x", "answer.submitted", "http:// or https://")):
        with pytest.raises(BadInput, match=said):
            webhooks.add(service.engine, url, events, at(12, 1))
    webhooks.add(service.engine, "https://example.kz/x", "answer.submitted", at(12, 1))
    with pytest.raises(BadInput, match="already added"):
        webhooks.add(service.engine, "https://example.kz/x", "answer.accepted", at(12, 1))
    with pytest.raises(BadInput, match="no webhook at 'https://example.kz/y': did you mean"):
        webhooks.remove(service.engine, "https://example.kz/y", at(12, 2))
    webhooks.remove(service.engine, "https://example.kz/x", at(12, 2))
    assert [(r.url, r.removed_at is not None) for r in webhooks.listing(service.engine)] == [("https://example.kz/x", True)]
    with session(service.engine) as db:
        assert [a.action for a in db.exec(select(AdminEventRow).order_by(AdminEventRow.id))] == [
            "webhook-add", "webhook-remove"]


def test_instances_sending_at_once_never_send_one_message_twice(database_url, make_service, receiver, monkeypatch):
    monkeypatch.setattr(outbox, "CLAIM_BATCH", 4)  # small claims, so that the instances take turns
    service = make_service(database_url)
    for path in ("/a", "/b", "/c"):
        webhooks.add(service.engine, receiver.url(path), "answer.submitted,answer.accepted,answer.returned", at(12, 1))
    with session(service.engine) as db:
        owed = list(db.exec(select(OccurrenceRow.id).where(OccurrenceRow.state == "open", OccurrenceRow.status == "active")
                            .order_by(OccurrenceRow.id).limit(10)))
    for oid in owed:
        answer.submit(service.engine, service.timing, oid, at=at(12, 9), now=at(12, 9))
        answer.act(service.engine, service.timing, oid, "accept", now=at(12, 9, 9, 1))
    instances = [threading.Thread(target=deliver, args=(service.engine, at(12, 10), clock)) for _ in range(3)]
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.join()
    ids = [headers["webhook-id"] for _, headers, _ in receiver.received]
    assert len(ids) == len(set(ids)) == 60
    with session(service.engine) as db:  # each message was tried once, and the claims were shared out
        assert {a.delivery_id for a in db.exec(select(WebhookAttemptRow))} == {d.id for d in deliveries(service)}
        assert len(list(db.exec(select(WebhookAttemptRow)))) == 60
    assert {d.state for d in deliveries(service)} == {"sent"}


def test_a_receiver_that_is_down_costs_one_attempt_a_pass_and_a_slow_one_its_share(make_service, receiver, tmp_path,
                                                                                    monkeypatch):
    from scheduler.app import hooks_deliver

    service = make_service(f"sqlite:///{tmp_path / 'down.db'}")
    down = webhooks.add(service.engine, receiver.url("/down"), "answer.submitted,answer.accepted,answer.returned", at(12, 1))
    receiver.plans = {"/down": ["500"]}
    answer.submit(service.engine, service.timing, OID, at=at(12, 9), now=at(12, 9))
    answer.act(service.engine, service.timing, OID, "accept", now=at(12, 9, 9, 1))
    answer.act(service.engine, service.timing, OID, "return", now=at(12, 9, 9, 2), reason="again")
    report = deliver(service.engine, at(12, 9, 10), clock)
    assert (report.sent, report.retried) == (0, 1) and receiver.seen == ["/down"]
    assert [(d.state, d.attempts) for d in deliveries(service, down.id)] == [("retry", 1), ("retry", 0), ("retry", 0)]
    assert deliver(service.engine, at(12, 9, 10) + dt.timedelta(seconds=29), clock).sent == 0
    assert deliver(service.engine, at(12, 9, 10) + dt.timedelta(seconds=30), clock).sent == 3
    assert [json.loads(b)["type"] for _, b in receiver.at("/down")] == [
        "answer.submitted", "answer.accepted", "answer.returned"], "in order"

    monkeypatch.setattr(hooks_deliver, "SHARE", 0.5)
    receiver.plans = {"/down": ["slow:1"]}
    answer.submit(service.engine, service.timing, OID, at=at(12, 9, 11), now=at(12, 9, 11))
    answer.act(service.engine, service.timing, OID, "accept", now=at(12, 9, 11, 1))
    begun = time.monotonic()
    assert deliver(service.engine, at(12, 9, 12), clock).sent == 1
    assert time.monotonic() - begun < 3, "the endpoint's share spent, the pass ends"
    assert deliveries(service, down.id)[-1].state == "retry" and deliveries(service, down.id)[-1].attempts == 0
    assert deliver(service.engine, at(12, 9, 12), clock).sent == 1


def test_closing_a_backlog_sends_one_message_per_deadline_naming_its_link(database_url, make_service, receiver):
    from scheduler.app import backlog

    service = make_service(database_url)
    hook = webhooks.add(service.engine, receiver.url("/closed"), "answer.closed", at(12, 1))
    closed = backlog.close(service.engine, service.timing, backlog.Selection(agency="finance", year=2021),
                           reason="the old plan's backlog", now=at(12, 9))
    assert closed
    deliver(service.engine, at(12, 9, 9, 1), clock)
    got = [verified(hook, h, b) for h, b in receiver.at("/closed")]
    assert sorted(m["data"]["occurrence"] for m in got) == sorted(closed)
    assert all(m["type"] == "answer.closed" and m["data"]["reason"] == "the old plan's backlog" for m in got)
    seqs = [m["data"]["event"]["seq"] for m in got]
    assert None not in seqs and len(set(seqs)) == len(seqs)
    with session(service.engine) as db:
        assert chain.verify(db.connection()).broken is None
