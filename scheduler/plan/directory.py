"""The shipped plan's directory of responsible bodies, for `scheduler new-plan`: the
`[agency.*]` and `[group.*]` tables of `obligations.toml`, copied so that a new plan keeps the same
codes (contacts, feeds and the secretariat's habits carry over). A test checks that they still agree
with the shipped plan."""

AGENCIES = r'''[agency.labour]
kind = "ministry"
short_kk = "Еңбекмині"
name_kk = "Қазақстан Республикасы Еңбек және халықты әлеуметтік қорғау министрлігі"
name_ru = "Министерство труда и социальной защиты населения Республики Казахстан"
name_en = "Ministry of Labour and Social Protection of the Population of the Republic of Kazakhstan"

[agency.mvd]
kind = "ministry"
short_kk = "ІІМ"
name_kk = "Қазақстан Республикасы Ішкі істер министрлігі"
name_ru = "Министерство внутренних дел Республики Казахстан"
name_en = "Ministry of Internal Affairs of the Republic of Kazakhstan"

[agency.finance]
kind = "ministry"
short_kk = "Қаржымині"
name_kk = "Қазақстан Республикасы Қаржы министрлігі"
name_ru = "Министерство финансов Республики Казахстан"
name_en = "Ministry of Finance of the Republic of Kazakhstan"

[agency.health]
kind = "ministry"
short_kk = "ДСМ"
name_kk = "Қазақстан Республикасы Денсаулық сақтау министрлігі"
name_ru = "Министерство здравоохранения Республики Казахстан"
name_en = "Ministry of Healthcare of the Republic of Kazakhstan"

[agency.mes]
kind = "ministry"
short_kk = "БҒМ"
name_kk = "Қазақстан Республикасы Білім және ғылым министрлігі"
name_ru = "Министерство образования и науки Республики Казахстан"
name_en = "Ministry of Education and Science of the Republic of Kazakhstan"
valid_until = 2022-06-10
source = "Decree of the President of the Republic of Kazakhstan No. 872 of 11 June 2022 \"On measures to further improve the system of public administration\" (ҚР Президентінің 2022 жылғы 11 маусымдағы № 872 Жарлығы), as publicly recorded; its text is not in this repository"
note = "Reorganised on 11 June 2022 into the Ministry of Enlightenment (ОМ) and the Ministry of Science and Higher Education."

[agency.enlightenment]
kind = "ministry"
short_kk = "ОМ"
name_kk = "Қазақстан Республикасы Оқу-ағарту министрлігі"
name_ru = "Министерство просвещения Республики Казахстан"
name_en = "Ministry of Enlightenment of the Republic of Kazakhstan"
valid_from = 2022-06-11
predecessor = "mes"
source = "Decree of the President of the Republic of Kazakhstan No. 872 of 11 June 2022 \"On measures to further improve the system of public administration\" (ҚР Президентінің 2022 жылғы 11 маусымдағы № 872 Жарлығы), as publicly recorded; its text is not in this repository"
note = "The amended plan names ОМ; deadlines before 11 June 2022 fall to its predecessor БҒМ."

[agency.justice]
kind = "ministry"
short_kk = "Әділетмині"
name_kk = "Қазақстан Республикасы Әділет министрлігі"
name_ru = "Министерство юстиции Республики Казахстан"
name_en = "Ministry of Justice of the Republic of Kazakhstan"

[agency.mfa]
kind = "ministry"
short_kk = "СІМ"
name_kk = "Қазақстан Республикасы Сыртқы істер министрлігі"
name_ru = "Министерство иностранных дел Республики Казахстан"
name_en = "Ministry of Foreign Affairs of the Republic of Kazakhstan"

[agency.info]
kind = "ministry"
short_kk = "АҚДМ"
name_kk = "Қазақстан Республикасының Ақпарат және қоғамдық даму министрлігі"
name_ru = "Министерство информации и общественного развития Республики Казахстан"
name_en = "Ministry of Information and Social Development of the Republic of Kazakhstan"

[agency.digital]
kind = "ministry"
short_kk = "ЦДИАӨМ"
name_kk = "Қазақстан Республикасы Цифрлық даму, инновациялар және аэроғарыш өнеркәсібі министрлігі"
name_ru = "Министерство цифрового развития, инноваций и аэрокосмической промышленности Республики Казахстан"
name_en = "Ministry of Digital Development, Innovations and Aerospace Industry of the Republic of Kazakhstan"

[agency.culture]
kind = "ministry"
short_kk = "МСМ"
name_kk = "Қазақстан Республикасы Мәдениет және спорт министрлігі"
name_ru = "Министерство культуры и спорта Республики Казахстан"
name_en = "Ministry of Culture and Sports of the Republic of Kazakhstan"

[agency.defence]
kind = "ministry"
short_kk = "Қорғанысмині"
aliases_kk = ["Қорғаныс мині"]
name_kk = "Қазақстан Республикасы Қорғаныс министрлігі"
name_ru = "Министерство обороны Республики Казахстан"
name_en = "Ministry of Defence of the Republic of Kazakhstan"

[agency.gpo]
kind = "agency"
short_kk = "БП"
name_kk = "Қазақстан Республикасы Бас прокуратурасы"
name_ru = "Генеральная прокуратура Республики Казахстан"
name_en = "Prosecutor General's Office of the Republic of Kazakhstan"
by_agreement = true

[agency.knb]
kind = "agency"
short_kk = "ҰҚК"
name_kk = "Қазақстан Республикасы Ұлттық қауіпсіздік комитеті"
name_ru = "Комитет национальной безопасности Республики Казахстан"
name_en = "National Security Committee of the Republic of Kazakhstan"
by_agreement = true

[agency.anticorruption]
kind = "agency"
short_kk = "СҚА"
name_kk = "Қазақстан Республикасы Сыбайлас жемқорлыққа қарсы іс-қимыл агенттігі"
name_ru = "Агентство Республики Казахстан по противодействию коррупции"
name_en = "Anti-Corruption Agency of the Republic of Kazakhstan"
by_agreement = true

[agency.supreme-court]
kind = "court"
short_kk = "ЖС"
name_kk = "Қазақстан Республикасының Жоғарғы Соты"
name_ru = "Верховный Суд Республики Казахстан"
name_en = "Supreme Court of the Republic of Kazakhstan"
by_agreement = true

[agency.hr-commission]
kind = "commission"
short_kk = "АҚК"
name_kk = "Қазақстан Республикасының Президенті жанындағы Адам құқықтары жөніндегі комиссия"
name_ru = "Комиссия по правам человека при Президенте Республики Казахстан"
name_en = "Human Rights Commission under the President of the Republic of Kazakhstan"
by_agreement = true

[agency.nchr]
kind = "agency"
short_kk = "АҚҰО"
name_kk = "Адам құқықтары жөніндегі ұлттық орталық"
name_ru = "Национальный центр по правам человека"
name_en = "National Centre for Human Rights"
by_agreement = true
note = "The source's list of abbreviations breaks off after АҚДМ; АҚҰО is read as the National Centre for Human Rights."

[agency.hr-ombudsman]
kind = "ombudsman"
short_kk = "Адам құқықтары жөніндегі уәкіл"
name_kk = "Қазақстан Республикасындағы Адам құқықтары жөніндегі уәкіл"
name_ru = "Уполномоченный по правам человека в Республике Казахстан"
name_en = "Commissioner for Human Rights in the Republic of Kazakhstan"
by_agreement = true

[agency.child-ombudsman]
kind = "ombudsman"
short_kk = "баланың құқықтары жөніндегі уәкіл"
name_kk = "Қазақстан Республикасындағы баланың құқықтары жөніндегі уәкіл"
name_ru = "Уполномоченный по правам ребенка в Республике Казахстан"
name_en = "Commissioner for Children's Rights in the Republic of Kazakhstan"
by_agreement = true

[agency.karaganda-academy]
kind = "academy"
short_kk = "ІІМ Б.Бейсенов атындағы Қарағанды академиясы"
name_kk = "Қазақстан Республикасы ІІМ Б.Бейсенов атындағы Қарағанды академиясы"
name_ru = "Карагандинская академия МВД Республики Казахстан имени Б. Бейсенова"
name_en = "Karaganda Academy of the Ministry of Internal Affairs named after B. Beisenov"
by_agreement = true

[agency.gpo-academy]
kind = "academy"
short_kk = "Құқық қорғау органдарының академиясы"
name_kk = "Қазақстан Республикасы Бас прокуратурасының жанындағы Құқық қорғау органдарының академиясы"
name_ru = "Академия правоохранительных органов при Генеральной прокуратуре Республики Казахстан"
name_en = "Law Enforcement Academy under the Prosecutor General's Office of the Republic of Kazakhstan"
by_agreement = true

[agency.justice-academy]
kind = "academy"
short_kk = "Сот төрелігі академиясы"
name_kk = "Қазақстан Республикасы Жоғарғы Сотының жанындағы Сот төрелігі академиясы"
name_ru = "Академия правосудия при Верховном Суде Республики Казахстан"
name_en = "Academy of Justice under the Supreme Court of the Republic of Kazakhstan"
by_agreement = true

[agency.iom]
kind = "international-organisation"
short_kk = "ХКҰ"
aliases_kk = ["ХҚҰ"]
name_kk = "Халықаралық көші-қон ұйымы"
name_ru = "Международная организация по миграции"
name_en = "International Organization for Migration (IOM)"
by_agreement = true
note = "Row 3 writes ХҚҰ, read as a variant of ХКҰ."

[agency.winrock]
kind = "ngo"
short_kk = "Winrock International"
name_kk = "Winrock International ұйымы"
name_ru = "Организация Winrock International"
name_en = "Winrock International"
by_agreement = true

[agency.ngos]
kind = "ngo"
short_kk = "ҮЕҰ"
name_kk = "үкіметтік емес ұйымдар"
name_ru = "неправительственные организации"
name_en = "non-governmental organisations"
by_agreement = true
collective = true
placeholder = true
note = "NGOs taken together, none named: listed, never mailed, not counted in compliance."

[agency.interested-bodies]
kind = "agency"
short_kk = "мүдделі мемлекеттік органдар"
name_kk = "мүдделі мемлекеттік органдар"
name_ru = "заинтересованные государственные органы"
name_en = "interested state bodies"
collective = true
placeholder = true
note = "Row 36 names them without listing them: listed, never mailed, not counted in compliance."

[agency.akimat-abai]
kind = "akimat"
short_kk = "Абай облысының әкімдігі"
name_kk = "Абай облысының әкімдігі"
name_ru = "Акимат области Абай"
name_en = "Akimat of Abai Region"
valid_from = 2022-06-08
source = "Decree of the President of the Republic of Kazakhstan No. 887 of 3 May 2022 \"On some questions of the administrative-territorial structure\" (ҚР Президентінің 2022 жылғы 3 мамырдағы № 887 Жарлығы): the region formed on 8 June 2022, as publicly recorded; its text is not in this repository"

[agency.akimat-akmola]
kind = "akimat"
short_kk = "Ақмола облысының әкімдігі"
name_kk = "Ақмола облысының әкімдігі"
name_ru = "Акимат Акмолинской области"
name_en = "Akimat of Akmola Region"

[agency.akimat-aktobe]
kind = "akimat"
short_kk = "Ақтөбе облысының әкімдігі"
name_kk = "Ақтөбе облысының әкімдігі"
name_ru = "Акимат Актюбинской области"
name_en = "Akimat of Aktobe Region"

[agency.akimat-almaty-region]
kind = "akimat"
short_kk = "Алматы облысының әкімдігі"
name_kk = "Алматы облысының әкімдігі"
name_ru = "Акимат Алматинской области"
name_en = "Akimat of Almaty Region"

[agency.akimat-atyrau]
kind = "akimat"
short_kk = "Атырау облысының әкімдігі"
name_kk = "Атырау облысының әкімдігі"
name_ru = "Акимат Атырауской области"
name_en = "Akimat of Atyrau Region"

[agency.akimat-east-kazakhstan]
kind = "akimat"
short_kk = "Шығыс Қазақстан облысының әкімдігі"
name_kk = "Шығыс Қазақстан облысының әкімдігі"
name_ru = "Акимат Восточно-Казахстанской области"
name_en = "Akimat of East Kazakhstan Region"

[agency.akimat-jambyl]
kind = "akimat"
short_kk = "Жамбыл облысының әкімдігі"
name_kk = "Жамбыл облысының әкімдігі"
name_ru = "Акимат Жамбылской области"
name_en = "Akimat of Jambyl Region"

[agency.akimat-jetisu]
kind = "akimat"
short_kk = "Жетісу облысының әкімдігі"
name_kk = "Жетісу облысының әкімдігі"
name_ru = "Акимат области Жетісу"
name_en = "Akimat of Jetisu Region"
valid_from = 2022-06-08
source = "Decree of the President of the Republic of Kazakhstan No. 887 of 3 May 2022 \"On some questions of the administrative-territorial structure\" (ҚР Президентінің 2022 жылғы 3 мамырдағы № 887 Жарлығы): the region formed on 8 June 2022, as publicly recorded; its text is not in this repository"

[agency.akimat-west-kazakhstan]
kind = "akimat"
short_kk = "Батыс Қазақстан облысының әкімдігі"
name_kk = "Батыс Қазақстан облысының әкімдігі"
name_ru = "Акимат Западно-Казахстанской области"
name_en = "Akimat of West Kazakhstan Region"

[agency.akimat-karaganda]
kind = "akimat"
short_kk = "Қарағанды облысының әкімдігі"
name_kk = "Қарағанды облысының әкімдігі"
name_ru = "Акимат Карагандинской области"
name_en = "Akimat of Karaganda Region"

[agency.akimat-kostanay]
kind = "akimat"
short_kk = "Қостанай облысының әкімдігі"
name_kk = "Қостанай облысының әкімдігі"
name_ru = "Акимат Костанайской области"
name_en = "Akimat of Kostanay Region"

[agency.akimat-kyzylorda]
kind = "akimat"
short_kk = "Қызылорда облысының әкімдігі"
name_kk = "Қызылорда облысының әкімдігі"
name_ru = "Акимат Кызылординской области"
name_en = "Akimat of Kyzylorda Region"

[agency.akimat-mangystau]
kind = "akimat"
short_kk = "Маңғыстау облысының әкімдігі"
name_kk = "Маңғыстау облысының әкімдігі"
name_ru = "Акимат Мангистауской области"
name_en = "Akimat of Mangystau Region"

[agency.akimat-pavlodar]
kind = "akimat"
short_kk = "Павлодар облысының әкімдігі"
name_kk = "Павлодар облысының әкімдігі"
name_ru = "Акимат Павлодарской области"
name_en = "Akimat of Pavlodar Region"

[agency.akimat-north-kazakhstan]
kind = "akimat"
short_kk = "Солтүстік Қазақстан облысының әкімдігі"
name_kk = "Солтүстік Қазақстан облысының әкімдігі"
name_ru = "Акимат Северо-Казахстанской области"
name_en = "Akimat of North Kazakhstan Region"

[agency.akimat-turkistan]
kind = "akimat"
short_kk = "Түркістан облысының әкімдігі"
name_kk = "Түркістан облысының әкімдігі"
name_ru = "Акимат Туркестанской области"
name_en = "Akimat of Turkistan Region"

[agency.akimat-ulytau]
kind = "akimat"
short_kk = "Ұлытау облысының әкімдігі"
name_kk = "Ұлытау облысының әкімдігі"
name_ru = "Акимат области Ұлытау"
name_en = "Akimat of Ulytau Region"
valid_from = 2022-06-08
source = "Decree of the President of the Republic of Kazakhstan No. 887 of 3 May 2022 \"On some questions of the administrative-territorial structure\" (ҚР Президентінің 2022 жылғы 3 мамырдағы № 887 Жарлығы): the region formed on 8 June 2022, as publicly recorded; its text is not in this repository"

[agency.akimat-astana]
kind = "akimat"
short_kk = "Астана қаласының әкімдігі"
name_kk = "Астана қаласының әкімдігі"
name_ru = "Акимат города Астаны"
name_en = "Akimat of Astana city"

[[agency.akimat-astana.former_name]]
until = 2022-09-16
short_kk = "Нұр-Сұлтан қаласының әкімдігі"
name_kk = "Нұр-Сұлтан қаласының әкімдігі"
name_ru = "Акимат города Нур-Султана"
name_en = "Akimat of Nur-Sultan city"
source = "Law of the Republic of Kazakhstan of 17 September 2022 amending the Constitution (\"Нұр-Сұлтан\" → \"Астана\"), in force that day: Нұр-Сұлтан to 16 September 2022 inclusive, as publicly recorded; the law's number and text are not in this repository"

[agency.akimat-almaty]
kind = "akimat"
short_kk = "Алматы қаласының әкімдігі"
name_kk = "Алматы қаласының әкімдігі"
name_ru = "Акимат города Алматы"
name_en = "Akimat of Almaty city"

[agency.akimat-shymkent]
kind = "akimat"
short_kk = "Шымкент қаласының әкімдігі"
name_kk = "Шымкент қаласының әкімдігі"
name_ru = "Акимат города Шымкента"
name_en = "Akimat of Shymkent city"
'''

GROUPS = r'''[group.akimats]
name_kk = "облыстардың және Астана, Алматы, Шымкент қалаларының әкімдіктері"
name_ru = "акиматы областей, городов Астаны, Алматы и Шымкента"
name_en = "akimats of the regions and of the cities of Astana, Almaty and Shymkent"
members = [
  "akimat-abai",
  "akimat-akmola",
  "akimat-aktobe",
  "akimat-almaty-region",
  "akimat-atyrau",
  "akimat-east-kazakhstan",
  "akimat-jambyl",
  "akimat-jetisu",
  "akimat-west-kazakhstan",
  "akimat-karaganda",
  "akimat-kostanay",
  "akimat-kyzylorda",
  "akimat-mangystau",
  "akimat-pavlodar",
  "akimat-north-kazakhstan",
  "akimat-turkistan",
  "akimat-ulytau",
  "akimat-astana",
  "akimat-almaty",
  "akimat-shymkent",
]
'''
