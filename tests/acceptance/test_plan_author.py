"""The next plan's author meets clear messages: what a person writing a plan from `new-plan` and the
skeleton's comments alone runs into is refused with the file, the line and the fix, exit 2, no
traceback, nothing stored; a code typed at the command line gets "did you mean"; a database
directory the user names is never made."""

import json
import re
import tomllib

import pytest

pytestmark = pytest.mark.acceptance
NAME = "next.toml"


def refused(done, *fragments):
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, (fragment, done.stderr)
    return done.stderr


def problems(stderr: str) -> list[str]:
    """The problem lines of a refused plan, in the order printed."""
    return [line.strip() for line in stderr.splitlines()[1:] if line.startswith("  ")]


@pytest.fixture
def skeleton(scheduler):
    done = scheduler("new-plan", NAME, "--from", "2026", "--to", "2028", "--id", "kz-tip-2026-2028")
    assert done.returncode == 0, done.stderr
    return scheduler.cwd / NAME


def line_of(text: str, fragment: str, start: int = 0) -> int:
    return text[: text.index(fragment, start)].count("\n") + 1


def assert_nothing_stored(scheduler):
    """`sync` refuses the plan too, and leaves no database (not even its folder) behind."""
    synced = scheduler("sync", "--plan", NAME)
    assert synced.returncode == 2 and "Traceback" not in synced.stderr, synced.stderr
    assert not (scheduler.cwd / "var").exists()


# --- 1. a missing [[obligation]] line -------------------------------------------------------------


def test_a_missing_obligation_line_names_the_repeated_key_and_where_the_line_is_missing(scheduler, skeleton):
    text = skeleton.read_text(encoding="utf-8")
    second = text.index('[[obligation]]\nid = "2"')
    broken = text[:second] + text[second + len("[[obligation]]\n"):]
    skeleton.write_text(broken, encoding="utf-8")
    first_id, again = line_of(broken, 'id = "1"'), line_of(broken, 'id = "2"')
    stderr = refused(scheduler("validate", "--plan", NAME))
    assert problems(stderr) == [
        f"{NAME}:{again}: TOML syntax: key 'id' is set twice in one [[obligation]] table (first on line {first_id}, "
        f"again on line {again}): two rows' keys run together; a [[obligation]] line is probably missing above "
        f"line {again}: each row starts with its own [[obligation]]"
    ]
    assert "Cannot overwrite a value" not in stderr
    assert_nothing_stored(scheduler)


def test_in_the_shipped_plan_the_missing_line_is_placed_above_the_rows_first_key(scheduler):
    path = scheduler.cwd / "obligations.toml"
    text = path.read_text(encoding="utf-8")
    row = text.index('[[obligation]]\nid = "7"')
    broken = text[:row] + text[row + len("[[obligation]]\n"):]
    path.write_text(broken, encoding="utf-8")
    again = line_of(broken, 'id = "7"')
    stderr = refused(scheduler("validate"))
    assert f"obligations.toml:{again}: TOML syntax: key 'id' is set twice in one [[obligation]] table" in stderr
    assert f"a [[obligation]] line is probably missing above line {again}" in stderr


def test_a_row_run_into_the_instance_above_it_is_placed_at_its_id(scheduler):
    path = scheduler.cwd / "obligations.toml"
    text = path.read_text(encoding="utf-8")
    row = text.index('[[obligation]]\nid = "res-4"')
    broken = text[:row] + text[row + len("[[obligation]]\n"):]
    path.write_text(broken, encoding="utf-8")
    starts, again = line_of(broken, 'id = "res-4"'), line_of(broken, "recipient = ", row)
    refused(scheduler("validate"),
            f"obligations.toml:{again}: TOML syntax: key 'recipient' is set twice in one [[obligation.instance]] table",
            f"the row that starts on line {starts} runs into the instance above it; a [[obligation]] line is "
            f"probably missing above line {starts}")


# --- 2. the Government by its name ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["Үкімет", "Правительство", "Government", "Қазақстан Республикасының Үкіметі"])
def test_the_government_by_its_name_suggests_its_code(scheduler, skeleton, name):
    text = skeleton.read_text(encoding="utf-8")
    at = text.index('recipient = "government"')
    skeleton.write_text(text.replace('recipient = "government"', f'recipient = "{name}"'), encoding="utf-8")
    refused(scheduler("validate", "--plan", NAME),
            f"{NAME}:{line_of(text, 'recipient = ', at)}: obligation 3: recipient: {name!r} is the Government's name, "
            "not a code: write 'government' (recipient = \"government\")")
    assert_nothing_stored(scheduler)


# --- 3. a misspelt key --------------------------------------------------------------------------


def test_a_misspelt_key_is_the_first_message_with_the_key_meant(scheduler, skeleton):
    text = skeleton.read_text(encoding="utf-8")
    skeleton.write_text(text.replace('responsible = ["justice"]', 'responsable = ["justice"]'), encoding="utf-8")
    stderr = refused(scheduler("validate", "--plan", NAME))
    line = line_of(text, 'responsible = ["justice"]')
    first, *rest = problems(stderr)
    assert first == f"{NAME}:{line}: obligation 3: responsable: unknown key: did you mean 'responsible'? (write responsible = …)"
    header = line_of(text, 'id = "3"') - 1  # the row's [[obligation]] line
    assert rest == [f"{NAME}:{header}: obligation 3: responsible: required key is missing"]
    assert "square brackets" not in stderr  # not the shape of a key that is not there


def test_a_misspelt_optional_key_suggests_the_key_of_that_table(scheduler, skeleton):
    text = skeleton.read_text(encoding="utf-8")
    skeleton.write_text(text.replace('deadline_ru = "1 июля', 'dedline_ru = "1 июля'), encoding="utf-8")
    refused(scheduler("validate", "--plan", NAME), "obligation 3: dedline_ru: unknown key: did you mean 'deadline_ru'?")


# --- 4. an annual event "by 20 January" ---------------------------------------------------------


def test_an_annual_event_due_early_in_the_year_is_refused_with_how_to_write_it(scheduler, skeleton):
    text = skeleton.read_text(encoding="utf-8")
    edited = text.replace('due = { kind = "annual", month = 12, day = 10 }   #',
                          'due = { kind = "annual", month = 1, day = 20 }\nkind = "event"   #', 1)
    skeleton.write_text(edited, encoding="utf-8")
    stderr = refused(scheduler("validate", "--plan", NAME))
    line = line_of(edited, 'kind = "event"   #')
    assert problems(stderr) == [
        f"{NAME}:{line}: obligation 1: kind = \"event\" with an annual rule due "
        "20 January: an annual event is held between 1 January and its due date, and 20 January leaves only the "
        "year's first weeks. For an event held once each year write its date in the second half of the year, "
        'e.g. due = { kind = "annual", month = 12, day = 10 }; for a report due by 20 January leave out kind = "event" (a report on the year before is written with a '
        '"dates" rule, one [[obligation.instance]] per year, period = the year it covers)'
    ]
    assert_nothing_stored(scheduler)
    # written as the message says, it is an event held in the year up to its date
    skeleton.write_text(edited.replace("month = 1, day = 20 }", "month = 12, day = 10 }"), encoding="utf-8")
    assert scheduler("validate", "--plan", NAME).returncode == 0


# --- 5. the skeleton -----------------------------------------------------------------------------


def test_the_skeleton_shows_how_the_report_on_the_year_before_is_written(scheduler, skeleton):
    text = skeleton.read_text(encoding="utf-8")
    assert "period = год, за который отчёт" in text and "period — есеп қамтитын жыл" in text
    assert "Отчёт за последний год (2028) сдаётся уже после окончания плана, 2029-01-20" in text
    # the example, uncommented as its comment says, validates and dates each report by the year it covers
    start = text.index('# [[obligation]]\n# id = "4"')
    tail = "\n".join(line[2:] if line.startswith("# ") else "" if line == "#" else line
                     for line in text[start:].splitlines())
    skeleton.write_text(text[:start] + tail + "\n", encoding="utf-8")
    checked = scheduler("validate", "--plan", NAME)
    assert checked.returncode == 0, checked.stderr
    listed = scheduler("expand", "--plan", NAME, "--obligation", "4", "--agency", "labour",
                       "--from", "2026-01-01", "--to", "2029-12-31", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["period"], r["nominal_due"], r["recipient"]) for r in json.loads(listed.stdout)] == [
        ("2026", "2027-01-20", "mvd"), ("2027", "2028-01-20", "mvd"), ("2028", "2029-01-20", "mvd")]


def test_the_skeleton_leaves_out_bodies_abolished_before_the_plan(scheduler, skeleton):
    plan = tomllib.loads(skeleton.read_text(encoding="utf-8"))
    assert "mes" not in plan["agency"]  # БҒМ, reorganised on 11 June 2022
    assert "predecessor" not in plan["agency"]["enlightenment"]
    assert "enlightenment" in plan["agency"] and "akimat-abai" in plan["agency"]
    assert re.search(r"не включены: mes \(2022-06-10\)", skeleton.read_text(encoding="utf-8"))
    earlier = scheduler("new-plan", "earlier.toml", "--from", "2021", "--to", "2023")
    assert earlier.returncode == 0, earlier.stderr
    assert "mes" in tomllib.loads((scheduler.cwd / "earlier.toml").read_text(encoding="utf-8"))["agency"]


# --- 6. did you mean, wherever a code is typed ---------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (("expand", "--from", "2022-01-01", "--to", "2022-12-31", "--agency", "finanse"),
     "--agency: unknown agency code 'finanse': did you mean 'finance'?"),
    (("explain", "7:finanse:2022"), "7:finanse:2022: unknown agency code 'finanse': did you mean '7:finance:2022'?"),
    (("explain", "7:finance:2O22"), "its occurrences for finance: 7:finance:2021, 7:finance:2022, 7:finance:2023"),
    (("explain", "res-3.3:mvd:2022"), "the plan has no obligation 'res-3.3': did you mean 'res-3.2:mvd:2022'?"),
    (("feeds", "issue", "--agency", "helth"), "--agency: unknown agency code 'helth': did you mean 'health'?"),
    (("expand", "--from", "2022-01-01", "--to", "2022-12-31", "--obligation", "res-32"),
     "--obligation: the plan obligations.toml has no obligation 'res-32': did you mean 'res-3.2'?"),
], ids=["expand", "explain-agency", "explain-period", "explain-obligation", "feeds", "expand-obligation"])
def test_a_mistyped_code_gets_did_you_mean(scheduler, args, message):
    refused(scheduler(*args), message)


def test_close_suggests_the_id_and_the_agency_meant(scheduler):
    assert scheduler("sync").returncode == 0
    database = scheduler.cwd / "var" / "scheduler.db"
    before = database.read_bytes()
    refused(scheduler("close", "7:finanse:2022", "--reason", "x"),
            "7:finanse:2022: no such occurrence in the plan: unknown agency code 'finanse': did you mean '7:finance:2022'?")
    refused(scheduler("close", "--agency", "finanse", "--reason", "x"),
            "--agency: agency 'finanse': no such agency in the plan: did you mean 'finance'?; nothing closed")
    shown = scheduler("show", "7:finance:2022", "--format", "json")
    assert json.loads(shown.stdout)["state"] == "open" and json.loads(shown.stdout)["events"] == []
    assert database.read_bytes() == before


def test_the_contacts_check_suggests_the_agency_meant(scheduler):
    (scheduler.cwd / "contacts.csv").write_text(
        "agency,name,email,role,language\nfinanse,Айгүл Серікова,aigul@example.kz,focal,kk\n", encoding="utf-8")
    refused(scheduler("validate", "--contacts", "contacts.csv"),
            "contacts.csv:2: aigul@example.kz: unknown agency 'finanse': did you mean 'finance'?")


# --- 7. a database directory the user names is never made -----------------------------------------


@pytest.mark.parametrize("command", [("sync",), ("status",), ("tick", "--now", "2022-12-09T09:00")])
def test_a_database_in_a_directory_that_does_not_exist_is_refused_and_nothing_is_made(scheduler, tmp_path, command):
    url = f"sqlite:///{tmp_path}/nonexistent/dir/x.db"
    done = scheduler(*command, env_extra={"SCHEDULER_DATABASE_URL": url})
    refused(done, f"SCHEDULER_DATABASE_URL: the directory {tmp_path}/nonexistent/dir does not exist "
                  f"({tmp_path}/nonexistent is missing; in '{url}'): create it first")
    assert not (tmp_path / "nonexistent").exists()
    assert not (tmp_path / "var").exists()


def test_the_defaults_var_directory_is_made_by_the_first_sync(scheduler):
    done = scheduler("sync")
    assert done.returncode == 0, done.stderr
    assert (scheduler.cwd / "var" / "scheduler.db").is_file()


def test_a_mail_dir_in_a_directory_that_does_not_exist_is_refused_and_nothing_is_made(scheduler, tmp_path):
    mail = tmp_path / "nonexistent" / "dir" / "mail"
    done = scheduler("sync", env_extra={"SCHEDULER_MAIL_DIR": str(mail)})
    refused(done, f"SCHEDULER_MAIL_DIR: the directory {mail.parent} does not exist ({tmp_path}/nonexistent is missing)")
    assert not (tmp_path / "nonexistent").exists()

