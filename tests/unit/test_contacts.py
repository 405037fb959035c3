import pytest

from scheduler.errors import ContactsError
from scheduler.plan import load_contacts

HEADER = "agency,name,email,role,language\n"


@pytest.fixture
def write_csv(tmp_path):
    def write(text: str):
        path = tmp_path / "contacts.csv"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_valid_contacts_load(shipped_plan, write_csv):
    path = write_csv(
        HEADER
        + "finance,Айгүл Серікова,aigul@minfin.example.kz,focal,kk\n"
        + "finance,Пётр Иванов,p.ivanov@minfin.example.kz,supervisor,ru\n"
        + 'akimat-astana,"Smith, Anna",anna@astana.example.kz,head,en\n'
    )
    contacts = load_contacts(path, shipped_plan)
    assert [(c.agency, c.role, c.language) for c in contacts] == [
        ("finance", "focal", "kk"),
        ("finance", "supervisor", "ru"),
        ("akimat-astana", "head", "en"),
    ]
    assert contacts[2].name == "Smith, Anna"


def test_columns_may_come_in_any_order(shipped_plan, write_csv):
    path = write_csv("email,agency,role,language,name\nx@example.kz,mvd,focal,kk,Асқар\n")
    assert load_contacts(path, shipped_plan)[0].name == "Асқар"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("finanse,Айгүл,a@example.kz,focal,kk", "unknown agency 'finanse'"),
        ("finance,Айгүл,not-an-email,focal,kk", "not an email address 'not-an-email'"),
        ("finance,Айгүл,a@example.kz,boss,kk", "role 'boss' is not one of focal, supervisor, head"),
        ("finance,Айгүл,a@example.kz,focal,de", "language 'de' is not one of kk, ru, en"),
        ('finance,"Айгүл\nBcc: x@evil.example",a@example.kz,focal,kk', "the name contains a line break"),
        ("finance,,a@example.kz,focal,kk", "the name is empty"),
        ("finance,Айгүл,a@example.kz,focal", "expected 5 fields, found 4"),
    ],
)
def test_bad_rows_name_file_and_line(shipped_plan, write_csv, row, message):
    path = write_csv(HEADER + "mvd,Асқар,askar@example.kz,focal,kk\n" + row + "\n")
    with pytest.raises(ContactsError) as caught:
        load_contacts(path, shipped_plan)
    text = str(caught.value)
    assert f"{path}:3:" in text
    assert message in text


def test_wrong_header(shipped_plan, write_csv):
    path = write_csv("agency,name,mail,role,language\nmvd,Асқар,askar@example.kz,focal,kk\n")
    with pytest.raises(ContactsError, match=r"contacts.csv:1: the header must be agency,name,email,role,language"):
        load_contacts(path, shipped_plan)


def test_duplicate_contact(shipped_plan, write_csv):
    row = "mvd,Асқар,askar@example.kz,focal,kk\n"
    with pytest.raises(ContactsError, match="askar@example.kz is listed 2 times as focal of mvd"):
        load_contacts(write_csv(HEADER + row + row), shipped_plan)


def test_addresses_are_kept_lowercased_with_an_ascii_domain(shipped_plan, write_csv):
    path = write_csv(HEADER + "finance,Айгүл,Aigul.Serikova@МинФин.Қаз,focal,kk\nmvd,Асқар,Askar@MVD.Example.KZ,focal,kk\n")
    assert [c.email for c in load_contacts(path, shipped_plan)] == [
        "aigul.serikova@xn--h1aakfb4b.xn--80ao21a",  # the domain as punycode, as it goes out
        "askar@mvd.example.kz",
    ]


def test_a_non_latin_mailbox_name_is_refused_unless_the_server_takes_smtputf8(shipped_plan, write_csv):
    path = write_csv(HEADER + "health,Айгүл,айгүл@денсаулық.қаз,focal,kk\n")
    with pytest.raises(ContactsError) as refused:
        load_contacts(path, shipped_plan)
    message = str(refused.value)
    assert "contacts.csv:2" in message and "айгүл@денсаулық.қаз" in message and "SCHEDULER_SMTP_UTF8" in message
    (contact,) = load_contacts(path, shipped_plan, smtputf8=True)
    assert contact.email == "айгүл@xn--80ahdziyp9dx5b.xn--80ao21a"


def test_a_phone_column_may_follow(shipped_plan, write_csv):
    """`phone` is optional: the focal point's number, which her supervisors' and heads' escalations say."""
    path = write_csv("agency,name,email,role,language,phone\n"
                     "finance,Айгүл Серікова,aigul@minfin.example.kz,focal,kk, +7  7172 74-00-00 \n"
                     "finance,Пётр Иванов,ivanov@minfin.example.kz,supervisor,ru,\n")
    assert [c.phone for c in load_contacts(path, shipped_plan)] == ["+7 7172 74-00-00", None]
    assert load_contacts(write_csv(HEADER + "mvd,Асқар,x@example.kz,focal,kk\n"), shipped_plan)[0].phone is None
    with pytest.raises(ContactsError, match="the phone is longer than 40 characters"):
        load_contacts(write_csv("agency,name,email,role,language,phone\nmvd,Асқар,x@example.kz,focal,kk," + "1" * 41 + "\n"),
                      shipped_plan)
