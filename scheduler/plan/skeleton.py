"""The skeleton of a new plan (`scheduler new-plan`): a TOML file that the secretariat fills in
without an engineer. Every field carries a short comment in Kazakh and Russian with the values it
takes; the placeholders are valid values, so the file passes `scheduler validate` as written.

The directory of bodies is the shipped plan's (`directory.py`), so the codes stay the same, less the
bodies abolished before the new plan starts (`valid_until` before its first 1 January: БҒМ, gone on
10 June 2022, is not in a 2024 plan, and no body names it as predecessor there); the commission's
working body is held by the Ministry of Internal Affairs in every year of the new plan.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib

from scheduler.plan.directory import AGENCIES, GROUPS

DEFAULT_TITLE_KK = "ЖОСПАРДЫҢ АТАУЫН ЖАЗЫҢЫЗ: {first} – {last} жылдарға арналған іс-шаралар жоспары"
DEFAULT_TITLE_RU = "НАПИШИТЕ НАЗВАНИЕ ПЛАНА: план мероприятий на {first} – {last} годы"


def toml_string(text: str) -> str:
    """`text` as a TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def render(plan_id: str, first: int, last: int, title_kk: str | None = None) -> str:
    """The skeleton for a plan `plan_id` running from `first` to `last` (years)."""
    title_kk = title_kk if title_kk is not None else DEFAULT_TITLE_KK.format(first=first, last=last)
    # and the year after: the report on the plan's last year is due then (as in the shipped plan)
    years = ", ".join(str(y) for y in range(first, last + 2))
    values = {
        "id": toml_string(plan_id),
        "title_kk": toml_string(title_kk),
        "title_ru": toml_string(DEFAULT_TITLE_RU.format(first=first, last=last)),
        "first": first,
        "last": last,
        "years": years,
        "after": last + 1,
    }
    agencies, groups, gone = bodies_in_force(first)
    return _HEAD.format(**values) + _DIRECTORY_HEAD + _gone_note(gone) + agencies + "\n" + _GROUPS_HEAD + groups + \
        "\n" + _OFFICE.format(**values) + _ROWS.format(**values) + _report_on_the_year_before(first, last)


def bodies_in_force(first: int) -> tuple[str, str, dict[str, dt.date]]:
    """The shipped directory's `[agency.*]` and `[group.*]` text without the bodies abolished before
    1 January of `first` (and without what names them: a `predecessor`, a group member), and those
    bodies with the day they ceased to exist."""
    start = dt.date(first, 1, 1)
    tables = tomllib.loads(AGENCIES)["agency"]
    gone = {code: body["valid_until"] for code, body in tables.items()
            if body.get("valid_until") is not None and body["valid_until"] < start}
    if not gone:
        return AGENCIES, GROUPS, gone
    names = "|".join(re.escape(code) for code in gone)
    kept = []
    for block in re.split(r"(?m)^(?=\[agency\.)", AGENCIES):
        table = re.match(r"\[agency\.([a-z0-9-]+)\]", block)
        if table and table.group(1) in gone:
            continue
        cut = re.sub(rf'(?m)^predecessor = "(?:{names})"\n', "", block)
        if cut != block:  # its note tells of the predecessor too
            cut = re.sub(r"(?m)^note = .*\n", "", cut)
        kept.append(cut)
    agencies = "".join(kept).rstrip("\n") + "\n"
    groups = re.sub(rf'(?m)^  (?:"(?:{names})"|{{ agency = "(?:{names})"[^\n]*}}),\n', "", GROUPS)
    return agencies, groups, gone


def _gone_note(gone: dict[str, dt.date]) -> str:
    if not gone:
        return ""
    listed = ", ".join(f"{code} ({day.isoformat()})" for code, day in sorted(gone.items()))
    return (f"# kk: Жоспар басталғанға дейін таратылған органдар енгізілмеді / ru: органы, упразднённые до начала плана,\n"
            f"#     не включены: {listed}\n\n")


def _report_on_the_year_before(first: int, last: int) -> str:
    """The commented example of a yearly report on the year before, due in January of the next year:
    a `dates` rule, one instance a year, each labelled by the year it covers; the final year's is
    due after the plan's period ends, as in the shipped plan (paragraphs 3.2 and 4)."""
    instances = "".join(
        f"#\n# [[obligation.instance]]\n# date = {year + 1}-01-20   # kk: {year} жыл туралы есеп | ru: отчёт за {year} год\n"
        f'# period = "{year}"\n'
        for year in range(first, last + 1)
    )
    return _YEAR_BEFORE.format(first=first, last=last, next=first + 1, after=last + 1) + instances


_HEAD = """\
# Жаңа жоспардың үлгісі. / Шаблон нового плана.
#
# kk: Мәндерді өз жоспарыңыздың мәтінімен ауыстырыңыз. # белгісінен кейінгісі — түсініктеме,
#     бағдарлама оны оқымайды. Мәтін тырнақшада жазылады: "…". Күндер тырнақшасыз, ЖЖЖЖ-АА-КК
#     түрінде: 2024-12-10 (10.12.2024 емес). Әр өзгерістен кейін тексеріңіз:
#     scheduler validate --plan <осы файл>
# ru: Замените значения текстом своего плана. После знака # — пояснение, программа его не читает.
#     Текст пишется в кавычках: "…". Даты — без кавычек, в виде ГГГГ-ММ-ДД: 2024-12-10 (не
#     10.12.2024). После каждого изменения проверяйте: scheduler validate --plan <этот файл>

schema = 1   # kk: файл пішімінің нұсқасы, өзгертпеңіз | ru: версия формата файла, не менять

# ── Жоспар / План ────────────────────────────────────────────────────────────────────────────
[plan]
id = {id}   # kk: жоспардың коды: кіші латын әріптері, цифрлар, сызықша | ru: код плана: строчные латинские буквы, цифры, дефис
title_kk = {title_kk}   # kk: жоспардың атауы (міндетті) | ru: название плана на казахском (обязательно)
title_ru = {title_ru}   # kk: орысша атауы (болмаса, жолды өшіріңіз) | ru: название на русском (нет — удалите строку)
number = "000"   # kk: қаулының нөмірі, мысалы "94" | ru: номер постановления, например "94"
date = {first}-01-01   # kk: қаулының күні, ЖЖЖЖ-АА-КК | ru: дата постановления, ГГГГ-ММ-ДД
adopted = {first}-01-01   # kk: күшіне енген күні (date-тен ерте емес) | ru: дата вступления в силу (не раньше date)
period = {{ from = {first}, to = {last} }}   # kk: жоспардың бірінші және соңғы жылы | ru: первый и последний год плана
coordinator = "vak-working-body"   # kk: апталық шолуды алатын орган: төмендегі агенттік не office коды | ru: кто получает еженедельную сводку: код органа или office ниже
translations = {{ ru = "working" }}   # kk: орысша мәтін: "working" (жұмыс аудармасы) не "official" (ресми) | ru: русский текст: "working" (рабочий перевод) или "official" (официальный)

# ── Мерзімдер мен хабарламалар / Сроки и уведомления ─────────────────────────────────────────
[policy]
shift = "previous"   # kk: демалыс күнгі мерзім: "previous" (алдыңғы жұмыс күні), "next" (келесі), "none" (жылжымайды) | ru: срок в выходной: "previous" (предыдущий рабочий день), "next" (следующий), "none" (не переносится)
shift_period = "next"   # kk: "… ішінде" (бір ай ішінде) мерзімнің соңғы күні демалыс болса: "next" (келесі жұмыс күні) | ru: последний день срока «в течение …» в выходной: "next" (следующий рабочий день)
holidays = "KZ"   # kk: мереке күнтізбесінің елі | ru: страна календаря праздников
timezone = "Asia/Almaty"   # kk: уақыт белдеуі | ru: часовой пояс
send_time = 09:00:00   # kk: хаттар жіберілетін уақыт, СС:ММ:СС | ru: время отправки писем, ЧЧ:ММ:СС
digest_weekday = "monday"   # kk: апталық шолу күні: "monday" … "sunday" | ru: день сводки: "monday" … "sunday"
catch_up_days = 7   # kk: осыдан көп күн кешіккен хат жіберілмейді | ru: письмо, опоздавшее больше чем на столько дней, не отправляется

# kk: Еске салу сатылары: step — атауы; offset — мерзімнен бұрын (-) не кейін (+); unit — "days"
#     (күнтізбелік күн) не "working-days" (жұмыс күні); notify — кімге: "focal" (жауапты
#     қызметкер), "supervisor" (жетекші), "head" (басшы), "recipient-focal" (алушы органның қызметкері).
# ru: Ступени напоминаний: step — название; offset — до срока (-) или после (+); unit — "days"
#     (календарные дни) или "working-days" (рабочие дни); notify — кому: "focal" (ответственный),
#     "supervisor" (куратор), "head" (руководитель), "recipient-focal" (ответственный получателя).
[[policy.ladder]]
step = "reminder-14d"
offset = -14
unit = "days"
notify = ["focal"]

[[policy.ladder]]
step = "reminder-7d"
offset = -7
unit = "days"
notify = ["focal"]

[[policy.ladder]]
step = "reminder-1wd"
offset = -1
unit = "working-days"
notify = ["focal"]

[[policy.ladder]]
step = "due"
offset = 0
unit = "days"
notify = ["focal"]

[[policy.ladder]]
step = "escalation-1wd"
offset = 1
unit = "working-days"
notify = ["focal", "supervisor"]

[[policy.ladder]]
step = "escalation-5wd"
offset = 5
unit = "working-days"
notify = ["head", "recipient-focal"]

# kk: anchor = "period-start" — саты мерзімнен емес, кезеңнің басынан саналады (offset = 0,
#     "working-days": кезеңнің бірінші жұмыс күні) және тек іс-шара жолдарына (kind = "event")
#     жіберіледі: отырыс, тренинг кезеңнің басында еске салынады.
# ru: anchor = "period-start" — ступень считается не от срока, а от начала периода (offset = 0,
#     "working-days": первый рабочий день периода) и отправляется только по строкам-событиям
#     (kind = "event"): о заседании, тренинге напоминают в начале периода.
[[policy.ladder]]
step = "period-start"
anchor = "period-start"
offset = 0
unit = "working-days"
notify = ["focal"]

"""

_DIRECTORY_HEAD = """\
# ── Органдар / Органы ────────────────────────────────────────────────────────────────────────
# kk: Әр орган — бір [agency.<код>] кестесі; кодты responsible, recipient өрістерінде және
#     байланыстар файлында жазыңыз. Кодтар 2021–2023 жоспарындағыдай. Жаңа орган қосу үшін кестені
#     көшіріп, кодын өзгертіңіз. kind: "ministry", "agency", "court", "akimat",
#     "international-organisation", "ngo", "ombudsman", "academy", "commission". short_kk — жоспардағы
#     қысқартуы; by_agreement = true — "келісу бойынша"; valid_from / valid_until — болған күндері;
#     source — сол күндерді белгілеген акт (жарлық, заң, оның күні). placeholder = true — жоспар
#     мекенжайсыз атаған тарап ("мүдделі мемлекеттік органдар", "ҮЕҰ"): мерзімдері тізімде тұрады,
#     бірақ оған хат жіберілмейді, орындалу есебіне кірмейді, responsible = "all" оны қамтымайды.
# ru: Каждый орган — одна таблица [agency.<код>]; код пишется в полях responsible, recipient и в
#     файле контактов. Коды — как в плане 2021–2023. Новый орган: скопируйте таблицу, смените код.
#     kind: "ministry", "agency", "court", "akimat", "international-organisation", "ngo",
#     "ombudsman", "academy", "commission". short_kk — сокращение в плане; by_agreement = true —
#     "по согласованию"; valid_from / valid_until — даты существования органа; source — акт,
#     установивший эти даты (указ, закон, его дата). placeholder = true — сторона, названная в плане
#     без адресата («заинтересованные государственные органы», «НПО»): её сроки показываются, но
#     писем ей нет, в учёт исполнения она не входит, responsible = "all" её не включает.

"""

_GROUPS_HEAD = """\
# ── Топтар / Группы ──────────────────────────────────────────────────────────────────────────
# kk: Бірге аталатын органдар: responsible = ["akimats"] барлық әкімдіктерді білдіреді.
# ru: Органы, названные вместе: responsible = ["akimats"] означает все акиматы.
# kk/ru: members ішінде / в members: { agency = "…", from = 2022-06-08, source = "…" } — мүшелік
#     күндері және оларды белгілеген акт / даты членства и акт, который их установил.

"""

_OFFICE = """\
# ── Қызметтер / Функции ──────────────────────────────────────────────────────────────────────
# kk: Жылдан жылға әр түрлі орган атқаратын қызмет: held_by — қай жылы қай орган. Жоспардың әр жылы
#     жазылуы керек.
# ru: Функция, которую по годам выполняют разные органы: held_by — какой орган в какой год. Каждый
#     год плана должен быть указан.
# kk/ru: {after} — жоспардан кейінгі жыл: соңғы жыл туралы есеп сол жылы беріледі (файлдың соңындағы мысал) /
#     год после плана: отчёт за последний год сдаётся в нём (пример в конце файла).

[office.vak-working-body]
name_kk = "ВАК жұмыс органы"
name_ru = "рабочий орган МВК"
name_en = "working body of the Interdepartmental Commission"
held_by = [
  {{ agency = "mvd", years = [{years}] }},
]

"""

_ROWS = """\
# ── Бөлімдер / Разделы ───────────────────────────────────────────────────────────────────────
[[section]]
number = 1   # kk: бөлімнің нөмірі | ru: номер раздела
title_kk = "БӨЛІМНІҢ АТАУЫН ЖАЗЫҢЫЗ"   # kk: бөлімнің атауы | ru: название раздела на казахском
title_ru = "НАПИШИТЕ НАЗВАНИЕ РАЗДЕЛА"   # kk: орысша атауы | ru: название раздела на русском

# ── Іс-шаралар / Мероприятия ─────────────────────────────────────────────────────────────────
# kk: Әр жол — бір [[obligation]] кестесі. Үш мысал төменде: жыл сайын, тоқсан сайын, бір рет.
#     Мысалдарды өз жолдарыңызбен ауыстырыңыз; жаңа жол үшін кестені көшіріңіз.
# ru: Каждая строка плана — одна таблица [[obligation]]. Ниже три примера: ежегодно, ежеквартально,
#     один раз. Замените их строками своего плана; для новой строки скопируйте таблицу.
#
# due — мерзім ережесі / правило срока:
#   {{ kind = "annual", month = 12, day = 10 }}   kk: жыл сайын, 10 желтоқсанға дейін (ай — 1…12 санмен)
#                                               ru: ежегодно, до 10 декабря (месяц — числом 1…12)
#       kk: кезең мерзім түскен жылмен белгіленеді ("{first}"): есеп сол жыл туралы болғанда ғана.
#           Өткен жыл туралы есеп (қаңтарда, ақпанда) — "dates" ережесімен, файлдың соңындағы мысалды қараңыз.
#       ru: период помечается годом срока ("{first}"): годится, только если отчёт за тот же год.
#           Отчёт за прошедший год (в январе, феврале) — правилом "dates", см. пример в конце файла.
#   {{ kind = "half-yearly" }}   kk: жарты жылда бір рет (30.06, 31.12) | ru: раз в полугодие
#   {{ kind = "quarterly" }}     kk: тоқсан сайын, тоқсанның соңғы күні | ru: ежеквартально, последний день квартала
#   {{ kind = "monthly" }}       kk: ай сайын, айдың соңғы күні | ru: ежемесячно, последний день месяца
#   {{ kind = "once", date = {first}-07-01 }}   kk: бір рет, осы күнге дейін | ru: один раз, к этой дате
#   {{ kind = "within", months = 1 }}   kk: жоспар қабылданғаннан кейін бір ай ішінде | ru: в течение месяца после принятия
#   {{ kind = "year-end", year = {first} }}   kk: жылдың соңына дейін | ru: до конца года
#   {{ kind = "dates" }}   kk: бірнеше күн, әрқайсысы [[obligation.instance]] кестесінде | ru: несколько дат, каждая в [[obligation.instance]]
#       kk: period = есеп қамтитын жыл ("{first}"), күні келесі жылда болса да | ru: period = год, за который отчёт ("{first}"), даже если срок в следующем году
# kind = "event" — kk: жол құжатты емес, әр кезеңде өтетін іс-шараны талап етеді (отырыс "жарты жылда
#     бір рет", тренинг "тоқсанына бір рет", басқа органдардың отырыстарына қатысу); мерзімі — кезеңнің
#     соңғы күні. Тек half-yearly, quarterly, monthly, annual ережелерімен; annual іс-шара 1 қаңтардан
#     мерзіміне дейін өтеді ("10 желтоқсанға дейін": month = 12, day = 10), мерзімі жылдың екінші жартысында.
#   ru: строка требует не документ, а событие в каждом периоде (заседание «раз в полугодие», тренинг
#     «раз в квартал», участие в заседаниях других органов); срок — последний день периода. Только с
#     правилами half-yearly, quarterly, monthly, annual; annual-событие проводится с 1 января до срока
#     («до 10 декабря»: month = 12, day = 10), срок — во втором полугодии.
# kk: Мерзім жоспардың жылдарының ішінде болуы керек ({first}–{last}).
# ru: Срок должен лежать в годах плана ({first}–{last}).

[[obligation]]
id = "1"   # kk: жолдың нөмірі, жоспардағыдай: "1", "8.1"; қайталанбайды | ru: номер строки, как в плане: "1", "8.1"; не повторяется
section = 1   # kk: бөлімнің нөмірі ([[section]]) | ru: номер раздела ([[section]])
title_kk = "МЫСАЛ: ВАК жұмыс органына адам саудасына қарсы іс-қимыл туралы ақпарат беру"   # kk: іс-шараның атауы (міндетті) | ru: наименование на казахском (обязательно)
title_ru = "ПРИМЕР: Информация в рабочий орган МВК о противодействии торговле людьми"   # kk: орысша атауы | ru: наименование на русском
responsible = ["mvd", "akimats"]   # kk: жауаптылар: [agency.…] не [group.…] кодтары, тізіммен; не "all" (барлығы) | ru: ответственные: коды [agency.…] или [group.…] списком; или "all" (все)
responsible_kk = "ІІМ, облыстардың және Астана, Алматы, Шымкент қалаларының әкімдіктері"   # kk: жоспарда жазылғандай | ru: как напечатано в плане
form_kk = "ВАК жұмыс органына ақпарат"   # kk: аяқтау нысаны | ru: форма завершения (на казахском)
form_ru = "информация в рабочий орган МВК"   # kk: орысша нысаны | ru: форма завершения на русском
deadline_kk = "жыл сайын, 10 желтоқсанға дейін"   # kk: мерзім, жоспарда жазылғандай | ru: срок, как напечатано в плане
deadline_ru = "ежегодно, до 10 декабря"   # kk: орысша мерзім | ru: срок на русском
due = {{ kind = "annual", month = 12, day = 10 }}   # kk: мерзім ережесі, жоғарыдағы тізімнен | ru: правило срока, из списка выше
recipient = "vak-working-body"   # kk: кімге: агенттік не office коды, не "government" (Үкімет); жоқ болса жолды өшіріңіз | ru: кому: код органа или office, или "government" (Правительство); если некому — удалите строку
costs_kk = "талап етілмейді"   # kk: шығындар | ru: расходы
financing_kk = "–"   # kk: қаржыландыру көзі | ru: источник финансирования

[[obligation]]
id = "2"
section = 1
title_kk = "МЫСАЛ: Адам саудасының құрбандарын анықтау бойынша оқыту курстарын өткізу"
title_ru = "ПРИМЕР: Проведение обучающих курсов по выявлению жертв торговли людьми"
responsible = ["mvd", "labour"]
responsible_kk = "ІІМ, Еңбекмині"
form_kk = "ВАК жұмыс органына ақпарат"
form_ru = "информация в рабочий орган МВК"
deadline_kk = "тоқсанына бір рет"
deadline_ru = "ежеквартально"
due = {{ kind = "quarterly" }}   # kk: тоқсан сайын | ru: ежеквартально
kind = "event"   # kk: құжат емес, кезең ішінде өтетін іс-шара (отырыс, тренинг); жауапта өткізілген күні көрсетіледі | ru: не документ, а событие в периоде (заседание, тренинг); в ответе указывается дата проведения
recipient = "vak-working-body"

[[obligation]]
id = "3"
section = 1
title_kk = "МЫСАЛ: Үкіметке заңнаманы жетілдіру бойынша ұсыныстар енгізу"
title_ru = "ПРИМЕР: Внесение в Правительство предложений по совершенствованию законодательства"
responsible = ["justice"]
responsible_kk = "Әділетмині"
form_kk = "Үкіметке ұсыныстар"
form_ru = "предложения в Правительство"
deadline_kk = "{first} жылғы 1 шілде"
deadline_ru = "1 июля {first} года"
due = {{ kind = "once", date = {first}-07-01 }}   # kk: бір рет, ЖЖЖЖ-АА-КК | ru: один раз, ГГГГ-ММ-ДД
recipient = "government"
"""

_YEAR_BEFORE = """
# ── Өткен жыл туралы есеп / Отчёт за прошедший год ───────────────────────────────────────────
# kk: "жыл сайын, 20 қаңтардан кешіктірмей" өткен жыл туралы ақпарат: annual ережесі емес (ол кезеңді
#     мерзім түскен жылмен белгілейді және жоспардың соңғы жылы туралы есепті бермейді), "dates" ережесі:
#     әр жылға бір [[obligation.instance]], period — есеп қамтитын жыл, date — келесі жылдың күні.
#     Соңғы жыл туралы есеп ({last}) жоспар біткеннен кейін, {after}-01-20 беріледі: оны да жазыңыз
#     (2021–2023 жоспары да солай: 3.2 және 4-тармақтар). Мысалды қолдану үшін төмендегі жолдардың
#     басындағы "# " белгісін алып тастаңыз; id-ді өз нөміріңізбен ауыстырыңыз.
# ru: «ежегодно, не позднее 20 января» — информация за прошедший год: не правило annual (оно помечает
#     период годом срока и не даёт отчёта за последний год плана), а правило "dates": по одной
#     [[obligation.instance]] на год, period — год, за который отчёт, date — дата в следующем году.
#     Отчёт за последний год ({last}) сдаётся уже после окончания плана, {after}-01-20: впишите и его
#     (так и в плане 2021–2023: пункты 3.2 и 4). Чтобы применить пример, уберите "# " в начале строк
#     ниже; замените id своим номером.
#
# [[obligation]]
# id = "4"
# section = 1
# title_kk = "МЫСАЛ: Жоспардың орындалуы туралы ақпарат беру"
# title_ru = "ПРИМЕР: Информация об исполнении Плана"
# responsible = "all"
# form_kk = "Жоспардың орындалуы туралы ақпарат"
# deadline_kk = "жыл сайын, 20 қаңтардан кешіктірмей"
# deadline_ru = "ежегодно, не позднее 20 января"
# due = {{ kind = "dates" }}
# recipient = "vak-working-body"
"""
