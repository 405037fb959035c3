"""`expand --as-of` and `explain` through the installed command, around Resolution No. 236."""

import json

from tests.acceptance.conftest import pytestmark  # noqa: F401


def records(scheduler, *args):
    done = scheduler("expand", "--from", "2021-01-01", "--to", "2024-12-31", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    return {r["id"]: r for r in json.loads(done.stdout)}


def test_as_of_before_and_after_236_on_the_shipped_plan(scheduler):
    now = records(scheduler)
    assert len(now) == 1690
    # No. 236's changes known from the source are wording only: the same deadlines either side of it.
    assert records(scheduler, "--as-of", "2023-03-01") == now
    assert records(scheduler, "--as-of", "2023-04-01") == now
    before = scheduler("explain", "17:akimat-astana:2023", "--as-of", "2023-03-01")
    after = scheduler("explain", "17:akimat-astana:2023", "--as-of", "2023-04-01")
    assert before.returncode == after.returncode == 0
    assert "text         the original text of No. 94 of 2021-02-24" in before.stdout
    assert "as of 2023-03-01: amendments in force later are left out" in before.stdout
    assert "text         as amended by No. 236 of 2023-03-17" in after.stdout


def test_explain_20_january_2023_names_the_text_before_236(scheduler):
    done = scheduler("explain", "res-3.2:finance:2022")
    assert done.returncode == 0, done.stderr
    assert "text         the original text of No. 94 of 2021-02-24" in done.stdout
    assert "No. 236 of 2023-03-17 changed this row" in done.stdout
    assert "from 2023-03-28 at the earliest" in done.stdout


def test_a_known_earlier_text_is_owed_before_the_effective_date_only(scheduler):
    plan = scheduler.cwd / "obligations.toml"
    text = plan.read_text(encoding="utf-8")
    # Suppose No. 236 had added the Prosecutor General's Office to row 7 (in force from 2023-03-28).
    text = text.replace(
        '[[plan.amendment.change]]\nobligation = "res-3.2"',
        '[[plan.amendment.change]]\nobligation = "7"\nfield = "responsible"\nbefore = ["finance", "mvd"]\n\n'
        '[[plan.amendment.change]]\nobligation = "res-3.2"',
        1,
    )
    plan.write_text(text, encoding="utf-8")
    now = records(scheduler)
    assert "7:gpo:2022" not in now and "7:gpo:2021" not in now  # due 10 December, before No. 236
    assert "7:gpo:2023" in now
    assert "7:gpo:2023" not in records(scheduler, "--as-of", "2023-03-27")
    assert "7:gpo:2023" in records(scheduler, "--as-of", "2023-03-28")
    why = scheduler("explain", "7:gpo:2023")
    assert "text         as amended by No. 236 of 2023-03-17" in why.stdout and "responsible" in why.stdout
    old = scheduler("explain", "7:finance:2022")
    assert "the original text of No. 94" in old.stdout and "owed under the text before it" in old.stdout


def test_bad_amendment_is_refused_with_file_and_line(scheduler):
    plan = scheduler.cwd / "obligations.toml"
    text = plan.read_text(encoding="utf-8").replace('obligation = "16"\nfield = "responsible_kk"', 'obligation = "16"\nfield = "responsible"\nbefore = ["akimats", "nobody"]', 1)
    plan.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '"nobody"' in row)
    done = scheduler("validate")
    assert done.returncode == 2
    assert f"obligations.toml:{line}: amendment 236: obligation 16: before: unknown agency or group 'nobody'" in done.stderr
    assert "Traceback" not in done.stderr
    done = scheduler("expand", "--as-of", "2023-13-01")
    assert done.returncode == 2
