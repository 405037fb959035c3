"""Several plans at once, through the installed command: `--plan` given twice, `SCHEDULER_PLAN`
naming a directory, a regional plan linked to the national one, bodies shared and conflicts named,
one email per recipient and step across plans, `diff` of two sets of plans."""

import email
import json
import shutil
from email import policy

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance

REGIONAL = ROOT / "examples" / "regional-plan-akmola.toml"
PREFIX = "akmola-tip-2021-2023/"

# A second plan with no bodies of its own: it names the national plan's `mvd` and `labour`.
SECOND = """\
schema = 1

[plan]
id = "second-2022"
title_kk = "Екінші жоспар (сынақ)"
title_ru = "Второй план (проверка)"
number = "7"
date = 2022-01-10
adopted = 2022-01-10
period = { from = 2022, to = 2022 }
coordinator = "mvd"

[[obligation]]
id = "1"
title_kk = "Жыл сайынғы ақпарат"
title_ru = "Ежегодная информация"
responsible = ["mvd"]
recipient = "labour"
due = { kind = "annual", month = 12, day = 10 }
"""


def expansion(scheduler, *args, env_extra=None):
    result = scheduler("expand", *args, "--format", "json", env_extra=env_extra)
    assert result.returncode == 0, result.stderr
    return {o["id"]: o for o in json.loads(result.stdout)}


def test_two_plans_given_with_plan_twice_keep_the_shipped_ids_and_add_prefixed_ones(scheduler):
    shutil.copy(REGIONAL, scheduler.cwd / "regional.toml")
    alone = expansion(scheduler)
    together = expansion(scheduler, "--plan", "obligations.toml", "--plan", "regional.toml")
    added = {oid: o for oid, o in together.items() if oid not in alone}
    # every shipped occurrence is there, unchanged, id for id and date for date
    assert {oid: together[oid] | {"plan": None} for oid in alone} == {oid: o | {"plan": None} for oid, o in alone.items()}
    assert {o["plan"] for o in alone.values()} == {"kz-tip-2021-2023"}
    assert added and all(oid.startswith(PREFIX) for oid in added)
    assert {o["plan"] for o in added.values()} == {"akmola-tip-2021-2023"}
    assert {o["obligation"] for o in added.values()} == {PREFIX + "1", PREFIX + "2", PREFIX + "3"}

    result = scheduler("validate", "--plan", "obligations.toml", "--plan", "regional.toml")
    assert result.returncode == 0, result.stderr
    assert "plan kz-tip-2021-2023" in result.stdout and "ids as numbered" in result.stdout
    assert "plan akmola-tip-2021-2023" in result.stdout and f"ids {PREFIX}<row>" in result.stdout


def test_scheduler_plan_naming_a_directory_loads_every_plan_in_it(scheduler):
    plans = scheduler.cwd / "plans"
    plans.mkdir()
    shutil.copy(ROOT / "obligations.toml", plans / "national.toml")
    shutil.copy(REGIONAL, plans / "akmola.toml")
    from_directory = expansion(scheduler, env_extra={"SCHEDULER_PLAN": str(plans)})
    given_twice = expansion(scheduler, "--plan", "obligations.toml", "--plan", str(REGIONAL))
    assert from_directory == given_twice
    assert scheduler("validate", "--plan", str(plans)).returncode == 0


def test_the_regional_lead_time_is_counted_in_working_days_across_nauryz(scheduler):
    """Row 3 of the example is due 7 working days before the akimat's national row 34. For 2022-Q1
    that is 31 March 2022; 21–23 March are the Nauryz days off, so 7 working days back is 17 March
    (counting the calendar would give 22 March)."""
    together = expansion(scheduler, "--plan", "obligations.toml", "--plan", str(REGIONAL), "--obligation", PREFIX + "3",
                         "--from", "2022-01-01", "--to", "2022-12-31")
    q1 = together[PREFIX + "3:akmola-social:2022-Q1"]
    assert (q1["due"], q1["recipient"]) == ("2022-03-17", "akimat-akmola")
    national = expansion(scheduler, "--obligation", "34", "--agency", "akimat-akmola", "--from", "2022-03-31", "--to", "2022-03-31")
    assert national["34:akimat-akmola:2022-Q1"]["due"] == "2022-03-31"
    result = scheduler("explain", "--plan", "obligations.toml", "--plan", str(REGIONAL), PREFIX + "3:akmola-social:2022-Q1")
    assert result.returncode == 0, result.stderr
    assert "7 working days before akimat-akmola's deadline under row 34 of plan kz-tip-2021-2023" in result.stdout
    assert "34:akimat-akmola:2022-Q1, due 2022-03-31" in result.stdout
    assert "plan         akmola-tip-2021-2023" in result.stdout and "row 3" in result.stdout
    # res-3.2 for 2021 falls on 20 January 2022: the departments owe the akimat 5 working days earlier
    first = together_all = expansion(scheduler, "--plan", "obligations.toml", "--plan", str(REGIONAL), "--obligation", PREFIX + "1")
    assert together_all[PREFIX + "1:akmola-health:2021"]["due"] == "2022-01-13"
    assert {o["period"] for o in first.values()} == {"2021", "2022", "2023"}


def test_a_regional_plan_alone_says_which_plan_it_needs(scheduler):
    result = scheduler("validate", "--plan", str(REGIONAL))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "regional-plan-akmola.toml" in result.stderr
    assert "links to plan 'kz-tip-2021-2023', which is not loaded with this one" in result.stderr
    assert "give both with --plan" in result.stderr


def test_a_body_written_differently_in_two_plans_is_named_with_both_files(scheduler):
    text = SECOND + """
[agency.mvd]
kind = "ministry"
short_kk = "ІІМ"
name_kk = "Қазақстан Республикасы Ішкі істер министрлігі"
name_ru = "МВД (написано иначе)"
"""
    (scheduler.cwd / "second.toml").write_text(text, encoding="utf-8")
    before = (scheduler.cwd / "obligations.toml").read_bytes()
    result = scheduler("sync", "--plan", "obligations.toml", "--plan", "second.toml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "second.toml" in result.stderr and "agency mvd" in result.stderr and "name_ru" in result.stderr
    assert "obligations.toml" in result.stderr and "share one directory" in result.stderr
    assert not (scheduler.cwd / "var").exists() or not list((scheduler.cwd / "var").glob("*.db"))
    assert (scheduler.cwd / "obligations.toml").read_bytes() == before
    # the same body written the same way (or with fields the other leaves out) is one body
    same = SECOND + '\n[agency.mvd]\nkind = "ministry"\nshort_kk = "ІІМ"\nname_kk = "Қазақстан Республикасы Ішкі істер министрлігі"\n'
    (scheduler.cwd / "second.toml").write_text(same, encoding="utf-8")
    assert scheduler("validate", "--plan", "obligations.toml", "--plan", "second.toml").returncode == 0


def test_two_plans_with_one_id_are_refused(scheduler):
    (scheduler.cwd / "copy.toml").write_bytes((scheduler.cwd / "obligations.toml").read_bytes())
    result = scheduler("validate", "--plan", "obligations.toml", "--plan", "copy.toml")
    assert result.returncode == 2 and "each plan needs an id of its own" in result.stderr and "copy.toml" in result.stderr


def test_one_email_per_recipient_and_step_lists_both_plans_items_under_their_plans(scheduler):
    """mvd owes national rows on 9 December 2022 and the second plan's row 1 (10 December, a
    Saturday: 9 December). Its focal point gets one reminder 14 days before, naming both plans."""
    plans = scheduler.cwd / "plans"
    plans.mkdir()
    shutil.move(scheduler.cwd / "obligations.toml", plans / "obligations.toml")
    (plans / "second.toml").write_text(SECOND, encoding="utf-8")
    (scheduler.cwd / "contacts.csv").write_text(
        "agency,role,email,name,language\nmvd,focal,focal@mvd.example.kz,Айгүл Серікова,ru\n", encoding="utf-8")
    env = {"SCHEDULER_PLAN": str(plans)}
    synced = scheduler("sync", env_extra=env)
    assert synced.returncode == 0, synced.stderr
    ticked = scheduler("tick", "--now", "2022-11-25T09:30:00+06:00", env_extra=env)
    assert ticked.returncode == 0, ticked.stderr
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted((scheduler.cwd / "var" / "mail" / "new").iterdir())]
    reminders = [m for m in messages if m["X-Scheduler-Step"] == "reminder-14d"]
    assert len(reminders) == 1 and reminders[0]["To"].addresses[0].addr_spec == "focal@mvd.example.kz"
    text = reminders[0].get_body(("plain",)).get_content()
    national = "План мероприятий Правительства Республики Казахстан по профилактике"
    assert text.index(national) < text.index("Второй план (проверка)")  # the home plan first, each named once
    assert text.count("Второй план (проверка)\n\n* ") == 1
    assert "Мероприятие 1\n  Ежегодная информация" in text and "/occurrences/second-2022/1:mvd:2022" in text
    assert "Мероприятие 13\n" in text  # the national rows keep their own numbers
    html = reminders[0].get_body(("html",)).get_content()
    assert "Второй план (проверка)" in html and "second-2022/1:mvd:2022" in html


def test_diff_of_two_plan_directories_shows_the_added_plan(scheduler):
    old, new = scheduler.cwd / "old", scheduler.cwd / "new"
    old.mkdir(), new.mkdir()
    shutil.copy(ROOT / "obligations.toml", old / "obligations.toml")
    shutil.copy(ROOT / "obligations.toml", new / "obligations.toml")
    (new / "second.toml").write_text(SECOND, encoding="utf-8")
    result = scheduler("diff", str(old), str(new), "--format", "json")
    assert result.returncode == 0, result.stderr
    changes = json.loads(result.stdout)
    assert [(c["occurrence"], c["change"], c["after"]) for c in changes] == [("second-2022/1:mvd:2022", "added", "2022-12-09")]


def test_the_next_plan_from_new_plan_runs_beside_the_shipped_one(scheduler):
    """The 2024–2026 plan as `new-plan` writes it, put beside the shipped plan: it validates, syncs
    and is reminded with no code change, its rows `kz-tip-2024-2026/<row>`, the shipped ids unchanged."""
    plans = scheduler.cwd / "plans"
    plans.mkdir()
    shutil.move(scheduler.cwd / "obligations.toml", plans / "obligations.toml")
    made = scheduler("new-plan", str(plans / "next.toml"), "--from", "2024", "--to", "2026", "--id", "kz-tip-2024-2026")
    assert made.returncode == 0, made.stderr
    (scheduler.cwd / "contacts.csv").write_text(
        "agency,role,email,name,language\nmvd,focal,focal@mvd.example.kz,Асқар Нұрланов,kk\n", encoding="utf-8")
    env = {"SCHEDULER_PLAN": str(plans)}
    checked = scheduler("validate", env_extra=env)
    assert checked.returncode == 0, checked.stderr
    assert "ids kz-tip-2024-2026/<row>" in checked.stdout
    synced = scheduler("sync", env_extra=env)
    assert synced.returncode == 0, synced.stderr
    again = scheduler("sync", "--dry-run", env_extra=env)
    assert again.returncode == 0 and "7:finance:2022" not in again.stdout  # nothing moves on a second look
    shown = scheduler("show", "7:finance:2022", "--format", "json", env_extra=env)
    assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == "7:finance:2022"
    ticked = scheduler("tick", "--now", "2024-11-26T10:00:00+05:00", env_extra=env)
    assert ticked.returncode == 0, ticked.stderr
    texts = [email.message_from_bytes(p.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
             for p in (scheduler.cwd / "var" / "mail" / "new").iterdir()]
    assert any("kz-tip-2024-2026/1:mvd:2024" in t for t in texts), texts[:1]
