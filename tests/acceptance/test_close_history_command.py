"""Closing a whole history in one step at the command line, through the installed `scheduler`
command: `scheduler close --agency CODE [--year YYYY] [--before DATE] --reason TEXT`, one `close`
event per occurrence still owed, the ladder stopped; `close ID --reason` as it always was."""

import json

import pytest

from tests.acceptance.test_daemon_commands import deployed  # noqa: F401 - the shipped plan, synced

pytestmark = pytest.mark.acceptance
FINANCE_2021 = {"2:finance:2021-07-01", "17:finance:2021", "23:finance:2021", "6:finance:2021", "7:finance:2021",
                "8.4:finance:2021"}
REASON = "before the secretariat kept the plan"


def ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(result, words):
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, (
        result.returncode, result.stdout, result.stderr)


def show(run, oid) -> dict:
    return json.loads(ok(run("show", oid, "--format", "json")))


def test_closing_an_agencys_2021_history_in_one_step(deployed):  # noqa: F811
    ok(deployed("submit", "7:finance:2021", "--at", "2022-01-15T10:00", "--ref", "12-3/45"))
    owed = sorted(FINANCE_2021 - {"7:finance:2021"})
    assert all(show(deployed, oid)["next_step_at"] for oid in owed), "their ladders are planned"

    # bad selections change nothing
    refused(deployed("close", "--agency", "nope", "--year", "2021", "--reason", REASON), "agency 'nope': no such agency")
    refused(deployed("close", "--reason", REASON), "give an occurrence id, or --agency CODE")
    refused(deployed("close", "7:finance:2022", "--agency", "finance", "--reason", REASON), "not both")
    refused(deployed("close", "--agency", "finance", "--year", "2021"), "--reason")
    refused(deployed("close", "--agency", "finance", "--before", "10.12.2021", "--reason", REASON), "--before")
    assert all(show(deployed, oid)["state"] == "open" for oid in owed)

    closed = ok(deployed("close", "--agency", "finance", "--year", "2021", "--reason", REASON, "--by", "reviewer@gov.kz"))
    assert closed.strip() == "5 closed (agency finance, due in 2021); no more reminders for them"
    for oid in owed:
        shown = show(deployed, oid)
        assert (shown["state"], shown["next_step_at"]) == ("closed", None), oid
        [event] = shown["events"]
        assert (event["action"], event["actor"], event["from_state"], event["to_state"], event["reason"]) == (
            "close", "reviewer@gov.kz", "open", "closed", REASON)
    paper = show(deployed, "7:finance:2021")
    assert paper["state"] == "submitted" and len(paper["events"]) == 1, "an answer in is no backlog"
    assert show(deployed, "7:mvd:2021")["state"] == "open" and show(deployed, "7:finance:2022")["state"] == "open"
    # nothing matching is no error
    assert ok(deployed("close", "--agency", "finance", "--year", "2021", "--reason", REASON)).startswith("0 closed")
    assert ok(deployed("close", "--year", "1990", "--reason", REASON)).startswith("0 closed")

    # due before a date, every agency: what expansion says is due then, less what is closed or in
    due = json.loads(ok(deployed("expand", "--from", "2021-01-01", "--to", "2021-06-30", "--format", "json")))
    expected = {o["id"] for o in due} - FINANCE_2021
    assert expected
    closed = ok(deployed("close", "--before", "2021-07-01", "--reason", REASON))
    assert closed.startswith(f"{len(expected)} closed (due before 2021-07-01)")
    assert all(show(deployed, oid)["state"] == "closed" for oid in sorted(expected)[:5])
    assert show(deployed, "2:mvd:2021-07-01")["state"] == "open", "due on the date itself is not before it"

    # one occurrence, as it always was
    assert ok(deployed("close", "7:finance:2022", "--reason", "not applicable")).strip() == \
        "7:finance:2022: closed (was open); no more reminders"
