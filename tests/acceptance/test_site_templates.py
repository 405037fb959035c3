"""A site's own templates: SCHEDULER_TEMPLATES_DIR names a directory whose templates, at the same
relative paths, replace the shipped ones; the others stay as shipped."""

import email
import email.policy

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.acceptance


def test_a_site_template_replaces_the_shipped_one(scheduler, tmp_path):
    (scheduler.cwd / "contacts.csv").write_bytes((ROOT / "examples" / "contacts.csv").read_bytes())
    site = tmp_path / "site-templates"
    (site / "email").mkdir(parents=True)
    shipped = (ROOT / "templates" / "email" / "due.j2").read_text(encoding="utf-8")
    (site / "email" / "due.j2").write_text(
        shipped.replace("{% block subject %}", "{% block subject %}[Хатшылық] ", 1), encoding="utf-8")
    env = {"SCHEDULER_TEMPLATES_DIR": str(site)}
    assert scheduler("sync", env_extra=env).returncode == 0
    for moment in ("2022-12-08T09:00", "2022-12-09T09:00"):  # the day before's reminders, then the due date's
        result = scheduler("tick", "--now", moment, env_extra=env)
        assert result.returncode == 0, result.stderr
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (scheduler.cwd / "var" / "mail" / "new").iterdir()]
    due = [m for m in mails if m["X-Scheduler-Step"] == "due"]
    others = [m for m in mails if m["X-Scheduler-Step"] != "due"]
    assert due and all(m["Subject"].startswith("[Хатшылық] ") for m in due)
    assert others and not any(m["Subject"].startswith("[Хатшылық]") for m in others), "the rest as shipped"


def test_a_site_template_directory_that_is_not_one_is_refused(scheduler, tmp_path):
    result = scheduler("sync", env_extra={"SCHEDULER_TEMPLATES_DIR": str(tmp_path / "nowhere")})
    assert result.returncode == 2 and "SCHEDULER_TEMPLATES_DIR" in result.stderr and "Traceback" not in result.stderr
