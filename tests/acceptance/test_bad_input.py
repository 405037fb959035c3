"""Bad input through the CLI: exit status 2, a message naming file, line or id, and no traceback."""

import os

import pytest

pytestmark = pytest.mark.acceptance


def assert_clean_failure(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def break_plan(scheduler, old, new, after=None):
    path = scheduler.cwd / "obligations.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    assert old in text[start:]
    text = text[:start] + text[start:].replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text[: text.index(new, start)].count("\n") + 1


def test_unknown_agency_in_the_plan(scheduler):
    line = break_plan(scheduler, '"gpo"', '"gpp"', after='id = "7"')
    for command in (["validate"], ["expand"], ["explain", "7:finance:2022"]):
        assert_clean_failure(scheduler(*command), f"obligations.toml:{line}: obligation 7: unknown agency or group 'gpp'")


def test_toml_syntax_error(scheduler):
    line = break_plan(scheduler, "coordinator = ", "coordinator == ")
    assert_clean_failure(scheduler("validate"), "obligations.toml: TOML syntax", f"line {line}")


def test_missing_plan_file(scheduler):
    (scheduler.cwd / "obligations.toml").unlink()
    assert_clean_failure(scheduler("validate"), "obligations.toml: no such file")


def test_bad_contacts_file(scheduler):
    (scheduler.cwd / "contacts.csv").write_text(
        "agency,name,email,role,language\nmvd,Асқар,askar@example.kz,focal,kk\nministry-x,Ann,ann@example.kz,focal,en\n",
        encoding="utf-8",
    )
    assert_clean_failure(scheduler("validate"), "contacts.csv:3: ann@example.kz: unknown agency 'ministry-x'")


def test_unknown_occurrence(scheduler):
    assert_clean_failure(scheduler("explain", "99:mvd:2022"), "the plan has no obligation '99'")
    assert_clean_failure(
        scheduler("explain", "7:finance:2025"), "obligation 7 has no occurrence for period '2025'", "7:finance:2022"
    )
    assert_clean_failure(scheduler("explain", "7-finance-2022"), "expected <obligation>:<agency>:<period>")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["expand", "--from", "2021-13-01"], "'2021-13-01' does not match the format"),
        (["expand", "--from", "2022-01-01", "--to", "2021-01-01"], "--to 2021-01-01 is before --from 2022-01-01"),
        (["expand", "--agency", "nobody"], "--agency: unknown agency code 'nobody'"),
        (["expand", "--obligation", "8"], "--obligation: the plan obligations.toml has no obligation '8'"),
        (["expand", "--format", "xml"], "'xml' is not one of"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_wrong_arguments(scheduler, args, fragment):
    assert_clean_failure(scheduler(*args), fragment)


def test_bad_setting_in_the_environment(scheduler):
    assert_clean_failure(scheduler("validate", env_extra={"SCHEDULER_HTTP_PORT": "eighty"}), "SCHEDULER_HTTP_PORT")


def test_run_refuses_to_listen_beyond_loopback_without_a_credential(scheduler):
    result = scheduler("run", env_extra={"SCHEDULER_HTTP_HOST": "0.0.0.0"})
    assert result.returncode == 2 and "set an admin credential" in result.stderr and "Traceback" not in result.stderr
    empty = scheduler.cwd / "empty-secret"
    empty.write_text("\n")
    result = scheduler("run", env_extra={"SCHEDULER_HTTP_HOST": "0.0.0.0", "SCHEDULER_ADMIN_PASSWORD_FILE": str(empty)})
    assert result.returncode == 2 and "is empty" in result.stderr


def test_a_plan_or_contacts_that_is_not_a_regular_file(scheduler):
    fifo = scheduler.cwd / "plan.fifo"
    os.mkfifo(fifo)
    assert_clean_failure(scheduler("validate", "--plan", "/dev/zero"), "/dev/zero: not a regular file")
    assert_clean_failure(scheduler("validate", "--plan", str(fifo)), "plan.fifo: not a regular file")
    assert_clean_failure(scheduler("validate", "--contacts", "/dev/zero"), "/dev/zero: not a regular file")


def test_an_oversized_contacts_file(scheduler):
    big = scheduler.cwd / "big.csv"
    big.write_bytes(b"agency,name,email,role,language\n" + b"mvd,A,a@x.kz,focal,kk\n" * 400_000)
    assert_clean_failure(scheduler("validate", "--contacts", str(big)), "big.csv: larger than")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://user:s3cret@db.example.kz:port/scheduler", "not a database URL: 'postgresql://***@db.example.kz"),
        ("mysql://user:s3cret@db.example.kz/scheduler", "only sqlite:// and postgresql+psycopg:// are supported"),
        ("postgresql+psycopg2://user:s3cret@db.example.kz/scheduler", "the driver 'postgresql+psycopg2' is not supported"),
    ],
)
def test_a_wrong_database_url_is_named_without_its_password(scheduler, url, fragment):
    result = scheduler("status", env_extra={"SCHEDULER_DATABASE_URL": url})
    assert_clean_failure(result, fragment)
    assert "s3cret" not in result.stderr + result.stdout
