"""The plan's words in Russian and English: present for every row, free of Kazakh letters, and
declared a working translation in the data; a bad declaration is refused with its file and line."""

import re

import pytest

from scheduler.errors import PlanError
from scheduler.plan import load_plan
from tests.conftest import MINIMAL_PLAN, SHIPPED_PLAN

KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")


def rows(plan):
    return (*plan.file.headings, *plan.file.obligations)


def translated_words(plan):
    """(where, text) for every Russian and English word of the plan: its title and act, section
    titles, and the rows' titles, forms and deadlines (the bodies' names are their own)."""
    meta = plan.file.plan
    models = [("plan", meta), *((f"section {s.number}", s) for s in plan.file.sections),
              *((f"row {r.id}", r) for r in rows(plan))]
    for where, model in models:
        for name in ("title", "act", "form", "deadline"):
            for language in ("ru", "en"):
                text = getattr(model, f"{name}_{language}", None)
                if text is not None:
                    yield f"{where}: {name}_{language}", text


def test_every_row_has_a_russian_and_an_english_title(shipped_plan):
    for row in rows(shipped_plan):
        assert row.title_ru and row.title_ru.strip(), row.id
        assert row.title_en and row.title_en.strip(), row.id


def test_every_form_has_a_russian_and_an_english_form(shipped_plan):
    for row in rows(shipped_plan):
        if row.form_kk is not None:
            assert row.form_ru and row.form_ru.strip(), row.id
            assert row.form_en and row.form_en.strip(), row.id
    # sub-rows 8.1–8.5 share their heading's form, in every language
    for obligation in shipped_plan.obligations:
        if obligation.form_kk is not None:
            assert obligation.form_ru and obligation.form_en, obligation.id


def test_the_plan_and_its_sections_have_russian_and_english_titles(shipped_plan):
    meta = shipped_plan.file.plan
    assert meta.title_ru.startswith("План мероприятий Правительства Республики Казахстан")
    assert meta.title_en and meta.act_ru and meta.act_en
    for section in shipped_plan.file.sections:
        assert section.title_ru and section.title_en, section.number


def test_no_kazakh_letters_in_russian_or_english_words(shipped_plan):
    found = [(where, KAZAKH_LETTERS.findall(text)) for where, text in translated_words(shipped_plan)]
    assert len(found) > 2 * 44
    assert [(where, letters) for where, letters in found if letters] == []


def test_russian_is_not_a_copy_of_the_kazakh_or_the_english(shipped_plan):
    for row in rows(shipped_plan):
        assert row.title_ru not in (row.title_kk, row.title_en), row.id
        assert re.search("[а-яё]", row.title_ru), row.id
        assert not re.search("[A-Za-z]{4,}", row.title_ru.replace("Winrock International", "")), row.id


def test_bodies_are_named_as_in_the_directory(shipped_plan):
    """The Russian words name bodies the way the directory's Russian names do."""
    texts = " ".join(text for where, text in translated_words(shipped_plan) if where.endswith("_ru"))
    for name in ("Комиссии по правам человека при Президенте Республики Казахстан",
                 "Академии правоохранительных органов при Генеральной прокуратуре Республики Казахстан",
                 "Академии правосудия при Верховном Суде Республики Казахстан",
                 "Министерство труда и социальной защиты населения Республики Казахстан",
                 "Министерство внутренних дел Республики Казахстан"):
        assert name in texts, name
    # the commission's working body is said as the office's Russian name says it
    office = shipped_plan.file.offices["vak-working-body"].name_ru
    assert shipped_plan.obligation("3").form_ru == f"информация в {office}"


def test_the_shipped_translations_are_declared_working(shipped_plan):
    assert shipped_plan.file.plan.translations == {"ru": "working", "en": "working"}
    assert shipped_plan.file.plan.translation_status("ru") == "working"
    assert shipped_plan.translation_status("en") == "working"
    assert shipped_plan.translation_status("kk") == "official"
    assert shipped_plan.translation_status("de") is None


def test_the_shipped_file_says_so_in_words():
    text = SHIPPED_PLAN.read_text(encoding="utf-8")
    head = text[: text.index("[plan]")]
    assert "WORKING TRANSLATION" in head and "not the" in head and "official Russian text" in head
    rows_part = text[text.index("# ── The plan's rows"):]
    assert "WORKING TRANSLATION" in rows_part[: rows_part.index("[[obligation]]")]


# --- the declaration on small plans ---------------------------------------------------------------


def with_plan_keys(extra: str) -> str:
    return MINIMAL_PLAN.replace('coordinator = "labour"\n', 'coordinator = "labour"\n' + extra)


def line_of(text, needle):
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_kazakh_only_plan_has_no_translation(write_plan):
    plan = load_plan(write_plan(MINIMAL_PLAN))
    assert plan.file.plan.translations == {}
    assert [plan.translation_status(lang) for lang in ("kk", "ru", "en")] == ["official", None, None]


def test_text_without_a_declaration_is_a_working_translation(write_plan):
    text = MINIMAL_PLAN.replace('title_kk = "Талдау нәтижелері"\n', 'title_kk = "Талдау нәтижелері"\ntitle_ru = "Результаты анализа"\n')
    plan = load_plan(write_plan(text))
    assert plan.file.plan.translation_status("ru") == "working"
    assert plan.file.plan.translation_status("en") is None


def test_an_official_text_is_declared(write_plan):
    text = with_plan_keys('title_ru = "Тестовый план"\ntranslations = { ru = "official" }\n')
    plan = load_plan(write_plan(text))
    assert plan.file.plan.translation_status("ru") == "official"
    assert plan.translation_status("en") is None


def test_the_declaration_as_a_table(write_plan):
    text = with_plan_keys('title_en = "Test plan"\n') + '\n[plan.translations]\nen = "official"\n'
    plan = load_plan(write_plan(text))
    assert plan.translation_status("en") == "official"


def test_a_declaration_without_text_states_nothing(write_plan):
    plan = load_plan(write_plan(with_plan_keys('translations = { ru = "working" }\n')))
    assert plan.translation_status("ru") is None


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ('{ ru = "working", de = "working" }', "plan.translations: unknown language 'de': a translation is declared for ru or en"),
        ('{ kk = "official" }', "plan.translations: 'kk' is the plan's own text, not a translation: declare ru or en"),
        ('{ ru = "draft" }', "plan.translations.ru: 'draft' is not allowed: write one of: 'official' or 'working'"),
        ('{ en = "Official" }', "plan.translations.en: 'Official' is not allowed (did you mean 'official'?): "
                                "write one of: 'official' or 'working'"),
        ('"working"', "plan.translations: Input should be a valid dictionary"),
    ],
)
def test_bad_declarations_are_refused_with_file_and_line(write_plan, declaration, message):
    text = with_plan_keys(f"translations = {declaration}\n")
    path = write_plan(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:{line_of(text, 'translations =')}: {message}"]


def test_a_bad_declaration_in_a_table_names_its_own_line(write_plan):
    text = MINIMAL_PLAN + '\n[plan.translations]\nen = "working"\nru = "unofficial"\n'
    path = write_plan(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line_of(text, 'ru = ')}: plan.translations.ru: 'unofficial' is not allowed (did you mean "
        "'official'?): write one of: 'official' or 'working'"
    ]
