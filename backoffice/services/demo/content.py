"""What the demo program holds (backoffice.services.demo builds it): tiers, rewards, badges, challenges, surveys,
reviews, feedback and the newsletter with their texts in the five portal languages, the demo's members, earning
rules, products and the demo customer's orders. Data only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from feedback.models import FeedbackRecord, SurveyQuestion
from gamification.models import Challenge
from loyalty.models import EarningRule
from rewards.models import Reward


def _i18n(field: str, texts: dict[str, str]) -> dict[str, str]:
    """A translated field's columns (django-modeltranslation: `name_en`, `name_pl`, …) from {language: text}."""
    return {f"{field}_{code}": texts[code] for code, _name in settings.LANGUAGES}


# ------------------------------------------------------------------------------------------- tiers, rewards
TIERS = [
    # rank, threshold points / spend in 12 months, multiplier, colour, name, benefits
    (1, 0, Decimal("0"), Decimal("1.00"), "#8a5a2b",
     {"en": "Bronze", "pl": "Brązowy", "cs": "Bronzová", "ru": "Бронзовый", "el": "Χάλκινο"},
     {"en": "Earn 1 point per euro. Birthday reward.",
      "pl": "1 punkt za każde wydane euro. Prezent urodzinowy.",
      "cs": "1 bod za každé utracené euro. Dárek k narozeninám.",
      "ru": "1 балл за каждый потраченный евро. Подарок на день рождения.",
      "el": "1 πόντος για κάθε ευρώ που ξοδεύετε. Δώρο γενεθλίων."}),
    (2, 1000, Decimal("1000"), Decimal("1.25"), "#5f6b73",
     {"en": "Silver", "pl": "Srebrny", "cs": "Stříbrná", "ru": "Серебряный", "el": "Ασημένιο"},
     {"en": "25% more points. Free shipping on every order.",
      "pl": "25% więcej punktów. Darmowa dostawa przy każdym zamówieniu.",
      "cs": "O 25 % více bodů. Doprava zdarma u každé objednávky.",
      "ru": "На 25% больше баллов. Бесплатная доставка любого заказа.",
      "el": "25% περισσότεροι πόντοι. Δωρεάν αποστολή σε κάθε παραγγελία."}),
    (3, 3000, Decimal("2500"), Decimal("1.50"), "#8a6d00",
     {"en": "Gold", "pl": "Złoty", "cs": "Zlatá", "ru": "Золотой", "el": "Χρυσό"},
     {"en": "50% more points. Early access to sales. Priority support.",
      "pl": "50% więcej punktów. Wcześniejszy dostęp do wyprzedaży. Priorytetowa obsługa klienta.",
      "cs": "O 50 % více bodů. Dřívější přístup k výprodejům. Přednostní zákaznická podpora.",
      "ru": "На 50% больше баллов. Ранний доступ к распродажам. Приоритетная поддержка.",
      "el": "50% περισσότεροι πόντοι. Πρώιμη πρόσβαση στις εκπτώσεις. Προτεραιότητα στην εξυπηρέτηση."}),
]

REWARDS = [
    # kind, value, cost, stock, minimum tier rank, name, description
    (Reward.Kind.FIXED_DISCOUNT, Decimal("5.00"), 500, None, None,
     {"en": "5 € off your next order", "pl": "5 € rabatu na kolejne zamówienie",
      "cs": "Sleva 5 € na další objednávku", "ru": "Скидка 5 € на следующий заказ",
      "el": "5 € έκπτωση στην επόμενη παραγγελία"},
     {"en": "A voucher worth 5 € on your next order, online or in the café.",
      "pl": "Bon o wartości 5 € na kolejne zamówienie – w sklepie internetowym lub w kawiarni.",
      "cs": "Poukaz v hodnotě 5 € na vaši další objednávku – v e-shopu i v kavárně.",
      "ru": "Ваучер на 5 € для следующего заказа — в интернет-магазине или в кофейне.",
      "el": "Κουπόνι αξίας 5 € για την επόμενη παραγγελία σας, στο ηλεκτρονικό κατάστημα ή στο καφέ."}),
    (Reward.Kind.PERCENT_DISCOUNT, Decimal("10.00"), 800, None, None,
     {"en": "10% off one order", "pl": "10% zniżki na jedno zamówienie", "cs": "Sleva 10 % na jednu objednávku",
      "ru": "Скидка 10% на один заказ", "el": "10% έκπτωση σε μία παραγγελία"},
     {"en": "10% off everything in one order.",
      "pl": "Rabat 10% na wszystkie produkty w jednym zamówieniu.",
      "cs": "Sleva 10 % na všechno v jedné objednávce.",
      "ru": "Скидка 10% на все товары в одном заказе.",
      "el": "Έκπτωση 10% σε όλα τα προϊόντα μίας παραγγελίας."}),
    (Reward.Kind.FREE_SHIPPING, None, 300, None, None,
     {"en": "Free shipping", "pl": "Darmowa dostawa", "cs": "Doprava zdarma", "ru": "Бесплатная доставка",
      "el": "Δωρεάν αποστολή"},
     {"en": "We deliver your next order free of charge.",
      "pl": "Kolejne zamówienie dostarczymy bezpłatnie.",
      "cs": "Vaši další objednávku doručíme zdarma.",
      "ru": "Следующий заказ доставим бесплатно.",
      "el": "Την επόμενη παραγγελία σας τη στέλνουμε δωρεάν."}),
    (Reward.Kind.FREE_PRODUCT, None, 1200, 40, None,
     {"en": "Free coffee beans (250 g)", "pl": "Darmowa kawa ziarnista (250 g)", "cs": "Zrnková káva zdarma (250 g)",
      "ru": "Кофе в зёрнах в подарок (250 г)", "el": "Δωρεάν καφές σε κόκκους (250 γρ.)"},
     {"en": "A 250 g bag of our house blend, freshly roasted.",
      "pl": "Torebka 250 g naszej firmowej mieszanki, świeżo palonej.",
      "cs": "Balíček 250 g naší domácí směsi, čerstvě pražené.",
      "ru": "Пачка нашей фирменной смеси свежей обжарки, 250 г.",
      "el": "Ένα σακουλάκι 250 γρ. από το χαρμάνι του σπιτιού, φρεσκοκαβουρδισμένο."}),
    (Reward.Kind.FIXED_DISCOUNT, Decimal("20.00"), 1800, None, 2,
     {"en": "20 € off your next order", "pl": "20 € rabatu na kolejne zamówienie",
      "cs": "Sleva 20 € na další objednávku", "ru": "Скидка 20 € на следующий заказ",
      "el": "20 € έκπτωση στην επόμενη παραγγελία"},
     {"en": "A voucher worth 20 € on your next order. For Silver and Gold members.",
      "pl": "Bon o wartości 20 € na kolejne zamówienie. Dla członków z poziomem Srebrnym i Złotym.",
      "cs": "Poukaz v hodnotě 20 € na vaši další objednávku. Pro členy se stříbrnou a zlatou úrovní.",
      "ru": "Ваучер на 20 € для следующего заказа. Для участников серебряного и золотого уровня.",
      "el": "Κουπόνι αξίας 20 € για την επόμενη παραγγελία σας. Για μέλη του Ασημένιου και του Χρυσού επιπέδου."}),
    (Reward.Kind.GIFT, None, 5000, 6, 3,
     {"en": "Barista workshop for two", "pl": "Warsztaty baristyczne dla dwojga", "cs": "Baristický kurz pro dva",
      "ru": "Мастер-класс бариста для двоих", "el": "Εργαστήριο barista για δύο"},
     {"en": "Two hours with our head barista: espresso, milk texture and latte art, for you and a friend.",
      "pl": "Dwie godziny z naszym głównym baristą: espresso, spienianie mleka i latte art – dla Ciebie "
            "i osoby towarzyszącej.",
      "cs": "Dvě hodiny s naším hlavním baristou: espresso, napěňování mléka a latte art – pro vás a vašeho hosta.",
      "ru": "Два часа с нашим старшим бариста: эспрессо, взбивание молока и латте-арт — для вас и вашего друга.",
      "el": "Δύο ώρες με τον επικεφαλής barista μας: espresso, αφρόγαλα και latte art, για εσάς και έναν φίλο σας."}),
]
BIRTHDAY_REWARD = (
    {"en": "Birthday treat", "pl": "Urodzinowy poczęstunek", "cs": "Narozeninová pozornost",
     "ru": "Угощение ко дню рождения", "el": "Κέρασμα γενεθλίων"},
    {"en": "A free pastry with your coffee in your birthday month, on us.",
     "pl": "W miesiącu Twoich urodzin do kawy dostajesz od nas ciastko gratis.",
     "cs": "V měsíci vašich narozenin od nás dostanete ke kávě zákusek zdarma.",
     "ru": "В месяц вашего дня рождения — выпечка к кофе за наш счёт.",
     "el": "Τον μήνα των γενεθλίων σας, ένα γλυκό με τον καφέ σας, κερασμένο από εμάς."},
)

# ------------------------------------------------------------------------------------ badges, challenges
BADGES = {
    # key: icon, name, description, how to earn (shown while locked; not a translated field)
    "regular": ("☕", {"en": "Regular", "pl": "Stały bywalec", "cs": "Štamgast", "ru": "Завсегдатай",
                      "el": "Τακτικός θαμώνας"},
                {"en": "Five purchases in one season.", "pl": "Pięć zakupów w jednym sezonie.",
                 "cs": "Pět nákupů během jedné sezóny.", "ru": "Пять покупок за один сезон.",
                 "el": "Πέντε αγορές μέσα σε μία σεζόν."},
                "Complete the “Five coffee runs” challenge."),
    "explorer": ("🧭", {"en": "Explorer", "pl": "Odkrywca", "cs": "Objevitel", "ru": "Исследователь",
                        "el": "Εξερευνητής"},
                 {"en": "Three different product categories in one season.",
                  "pl": "Trzy różne kategorie produktów w jednym sezonie.",
                  "cs": "Tři různé kategorie produktů během jedné sezóny.",
                  "ru": "Три разные категории товаров за один сезон.",
                  "el": "Τρεις διαφορετικές κατηγορίες προϊόντων μέσα σε μία σεζόν."},
                 "Complete the “Explore the range” challenge."),
    "connoisseur": ("🏆", {"en": "Connoisseur", "pl": "Koneser", "cs": "Znalec", "ru": "Знаток", "el": "Γνώστης"},
                    {"en": "150 € of purchases in one season.", "pl": "Zakupy za 150 € w jednym sezonie.",
                     "cs": "Nákupy za 150 € během jedné sezóny.", "ru": "Покупки на 150 € за один сезон.",
                     "el": "Αγορές αξίας 150 € μέσα σε μία σεζόν."},
                    "Complete the “Spend 150 € this season” challenge."),
    "voice": ("💬", {"en": "Voice of the café", "pl": "Głos kawiarni", "cs": "Hlas kavárny", "ru": "Голос кофейни",
                    "el": "Η φωνή του καφέ"},
              {"en": "Answered two of our surveys.", "pl": "Odpowiedzi na dwie nasze ankiety.",
               "cs": "Dva vyplněné dotazníky.", "ru": "Ответы на два наших опроса.",
               "el": "Απαντήσεις σε δύο από τις έρευνές μας."},
              "Complete the “Have your say” challenge."),
    "critic": ("✍", {"en": "Critic", "pl": "Recenzent", "cs": "Recenzent", "ru": "Критик", "el": "Κριτικός"},
               {"en": "Two product reviews published.", "pl": "Dwie opublikowane recenzje produktów.",
                "cs": "Dvě zveřejněné recenze produktů.", "ru": "Два опубликованных отзыва о товарах.",
                "el": "Δύο δημοσιευμένες κριτικές προϊόντων."},
               "Complete the “Review two favourites” challenge."),
}


@dataclass(frozen=True)
class ChallengeSpec:
    icon: str
    goal: str
    target: Decimal
    bonus_points: int
    started_days_ago: int
    ends_in_days: int
    title: dict[str, str]
    description: dict[str, str]
    badge: str | None = None
    voucher_reward: str | None = None  # English name of the reward whose voucher completing it hands out
    enrolment: str = Challenge.Enrolment.AUTOMATIC


G = Challenge.Goal
CHALLENGES = [
    ChallengeSpec("🏁", G.PURCHASES, Decimal("5"), 100, 45, 45,
                  {"en": "Five coffee runs", "pl": "Pięć razy po kawę", "cs": "Pětkrát pro kávu",
                   "ru": "Пять раз за кофе", "el": "Πέντε φορές για καφέ"},
                  {"en": "Shop with us five times before the season ends: every order counts, online or in the café.",
                   "pl": "Zrób u nas zakupy pięć razy przed końcem sezonu – liczy się każde zamówienie, w sklepie "
                         "internetowym i w kawiarni.",
                   "cs": "Nakupte u nás pětkrát do konce sezóny – počítá se každá objednávka, v e-shopu i v kavárně.",
                   "ru": "Сделайте у нас пять покупок до конца сезона — засчитывается каждый заказ, "
                         "в интернет-магазине и в кофейне.",
                   "el": "Ψωνίστε από εμάς πέντε φορές πριν τελειώσει η σεζόν — μετράει κάθε παραγγελία, online ή στο "
                         "καφέ."},
                  badge="regular"),
    ChallengeSpec("🧭", G.CATEGORIES, Decimal("3"), 150, 60, 30,
                  {"en": "Explore the range", "pl": "Odkryj naszą ofertę", "cs": "Objevte naši nabídku",
                   "ru": "Откройте наш ассортимент", "el": "Ανακαλύψτε τη γκάμα μας"},
                  {"en": "Buy from three different categories (coffee, tea, kitchen or brewing gear) and your next "
                         "delivery is on us.",
                   "pl": "Kup produkty z trzech różnych kategorii (kawa, herbata, kuchnia albo sprzęt do parzenia), "
                         "a za następną dostawę zapłacimy my.",
                   "cs": "Nakupte ze tří různých kategorií (káva, čaj, kuchyně nebo vybavení na přípravu kávy) a další "
                         "doprava je na nás.",
                   "ru": "Купите товары из трёх разных категорий (кофе, чай, посуда или оборудование для заваривания), "
                         "и следующую доставку мы возьмём на себя.",
                   "el": "Αγοράστε από τρεις διαφορετικές κατηγορίες (καφέ, τσάι, είδη κουζίνας ή εξοπλισμό "
                         "παρασκευής) και την επόμενη αποστολή την αναλαμβάνουμε εμείς."},
                  badge="explorer", voucher_reward="Free shipping"),
    ChallengeSpec("💶", G.SPEND, Decimal("150"), 200, 60, 30,
                  {"en": "Spend 150 € this season", "pl": "Wydaj 150 € w tym sezonie",
                   "cs": "Nakupte za 150 € v této sezóně", "ru": "Потратьте 150 € в этом сезоне",
                   "el": "Ξοδέψτε 150 € αυτή τη σεζόν"},
                  {"en": "Reach 150 € in purchases this season and collect 200 bonus points.",
                   "pl": "Zrób zakupy za 150 € w tym sezonie i odbierz 200 punktów bonusowych.",
                   "cs": "Nakupte v této sezóně za 150 € a získejte 200 bonusových bodů.",
                   "ru": "Сделайте покупки на 150 € в этом сезоне и получите 200 бонусных баллов.",
                   "el": "Κάντε αγορές αξίας 150 € αυτή τη σεζόν και κερδίστε 200 πόντους μπόνους."},
                  badge="connoisseur"),
    ChallengeSpec("💬", G.SURVEYS, Decimal("2"), 50, 21, 40,
                  {"en": "Have your say", "pl": "Wyraź swoje zdanie", "cs": "Řekněte nám svůj názor",
                   "ru": "Выскажите своё мнение", "el": "Πείτε τη γνώμη σας"},
                  {"en": "Answer two of our short surveys and help us choose what to brew next.",
                   "pl": "Odpowiedz na dwie krótkie ankiety i pomóż nam wybrać, co zaparzymy następnym razem.",
                   "cs": "Vyplňte dva krátké dotazníky a pomozte nám vybrat, co budeme připravovat příště.",
                   "ru": "Ответьте на два коротких опроса и помогите нам выбрать, что заварить дальше.",
                   "el": "Απαντήστε σε δύο σύντομες έρευνές μας και βοηθήστε μας να διαλέξουμε τι θα "
                         "ετοιμάσουμε στη συνέχεια."},
                  badge="voice"),
    ChallengeSpec("✍", G.REVIEWS, Decimal("2"), 100, 30, 60,
                  {"en": "Review two favourites", "pl": "Zrecenzuj dwa ulubione produkty",
                   "cs": "Ohodnoťte dva oblíbené produkty", "ru": "Отзывы о двух любимых товарах",
                   "el": "Κριτικές για δύο αγαπημένα προϊόντα"},
                  {"en": "Write a review of two products you have bought. A review counts once it is published.",
                   "pl": "Napisz recenzje dwóch kupionych produktów. Recenzja liczy się po publikacji.",
                   "cs": "Napište recenzi na dva produkty, které jste koupili. Recenze se započítá po zveřejnění.",
                   "ru": "Напишите отзывы о двух купленных товарах. Отзыв засчитывается после публикации.",
                   "el": "Γράψτε κριτική για δύο προϊόντα που αγοράσατε. Μια κριτική μετράει μόλις δημοσιευτεί."},
                  badge="critic"),
    ChallengeSpec("🔥", G.STREAK, Decimal("3"), 150, 20, 50,
                  {"en": "Three weeks in a row", "pl": "Trzy tygodnie z rzędu", "cs": "Tři týdny v řadě",
                   "ru": "Три недели подряд", "el": "Τρεις εβδομάδες στη σειρά"},
                  {"en": "Join, then shop at least once a week for three weeks in a row.",
                   "pl": "Dołącz i rób zakupy co najmniej raz w tygodniu przez trzy tygodnie z rzędu.",
                   "cs": "Přihlaste se a nakupujte alespoň jednou týdně tři týdny po sobě.",
                   "ru": "Присоединяйтесь и делайте покупки хотя бы раз в неделю три недели подряд.",
                   "el": "Λάβετε μέρος και ψωνίστε τουλάχιστον μία φορά την εβδομάδα για τρεις συνεχόμενες "
                         "εβδομάδες."},
                  enrolment=Challenge.Enrolment.OPT_IN),
]
STREAK_JOINERS = [(3, 16), (7, 15), (12, 13), (21, 11)]  # member index, days ago they joined the opt-in challenge

# ------------------------------------------------------------------------------------------------ surveys
Q = SurveyQuestion.Kind
SURVEYS = {
    "service": {
        "created_days_ago": 25, "bonus_points": 25,
        "title": {"en": "How are we doing?", "pl": "Jak nam idzie?", "cs": "Jak se nám daří?",
                  "ru": "Как мы работаем?", "el": "Πώς τα πάμε;"},
        "intro": {"en": "Three quick questions about your last visit. It takes a minute, and you get 25 points as "
                        "a thank-you.",
                  "pl": "Trzy krótkie pytania o Twoją ostatnią wizytę. Zajmą minutę, a w podziękowaniu dostaniesz "
                        "25 punktów.",
                  "cs": "Tři rychlé otázky k vaší poslední návštěvě. Zaberou minutu a jako poděkování získáte 25 "
                        "bodů.",
                  "ru": "Три коротких вопроса о вашем последнем визите. Это займёт минуту, а в благодарность вы "
                        "получите 25 баллов.",
                  "el": "Τρεις σύντομες ερωτήσεις για την τελευταία σας επίσκεψη. Σας παίρνει ένα λεπτό και ως "
                        "ευχαριστώ κερδίζετε 25 πόντους."},
        "questions": [
            (Q.NPS, True, {"en": "How likely are you to recommend us to a friend or colleague?",
                           "pl": "Jak bardzo prawdopodobne jest, że polecisz nas znajomemu lub współpracownikowi?",
                           "cs": "Jak pravděpodobné je, že nás doporučíte příteli nebo kolegovi?",
                           "ru": "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
                           "el": "Πόσο πιθανό είναι να μας προτείνετε σε έναν φίλο ή συνάδελφο;"}),
            (Q.CSAT, True, {"en": "How satisfied were you with your last order?",
                            "pl": "Jak oceniasz swoje ostatnie zamówienie?",
                            "cs": "Jak hodnotíte svou poslední objednávku?",
                            "ru": "Насколько вы довольны своим последним заказом?",
                            "el": "Πόσο ικανοποιημένοι μείνατε από την τελευταία σας παραγγελία;"}),
            (Q.TEXT, False, {"en": "What is the one thing we should improve?",
                             "pl": "Jaką jedną rzecz powinniśmy poprawić?",
                             "cs": "Jakou jednu věc bychom měli zlepšit?",
                             "ru": "Что нам стоит улучшить в первую очередь?",
                             "el": "Ποιο είναι το ένα πράγμα που πρέπει να βελτιώσουμε;"}),
        ],
    },
    "espresso": {
        "created_days_ago": 30, "bonus_points": 15,
        "title": {"en": "Our new espresso blend", "pl": "Nasza nowa mieszanka espresso",
                  "cs": "Naše nová espresso směs", "ru": "Наша новая смесь для эспрессо",
                  "el": "Το νέο μας χαρμάνι espresso"},
        "intro": {"en": "We have changed the beans in our espresso. Did we get it right?",
                  "pl": "Zmieniliśmy ziarna w naszym espresso. Czy trafiliśmy w Twój gust?",
                  "cs": "Změnili jsme zrna v našem espressu. Trefili jsme se?",
                  "ru": "Мы поменяли зёрна для нашего эспрессо. Как вам результат?",
                  "el": "Αλλάξαμε τους κόκκους στο espresso μας. Πετύχαμε τη γεύση;"},
        "questions": [
            (Q.CSAT, True, {"en": "How do you like the new espresso blend?",
                            "pl": "Jak smakuje Ci nowa mieszanka espresso?",
                            "cs": "Jak vám chutná nová espresso směs?",
                            "ru": "Как вам новая смесь для эспрессо?",
                            "el": "Πώς σας φαίνεται το νέο χαρμάνι espresso;"}),
            (Q.TEXT, False, {"en": "Is there anything you would change?",
                             "pl": "Co warto by w niej zmienić?",
                             "cs": "Co byste na ní změnili?",
                             "ru": "Что бы вы в ней изменили?",
                             "el": "Τι θα αλλάζατε σε αυτό;"}),
        ],
    },
}
# Answers: member index (0 = the demo customer), days ago (1 = yesterday in program time), hour, scores, comment.
SERVICE_ANSWERS = [
    (2, 20, 9, 10, 5, ""), (4, 18, 18, 9, 5, "Open a bit earlier on Saturdays, please."),
    (6, 17, 12, 8, 4, "Więcej miejsc do siedzenia przy oknie."), (8, 15, 10, 10, 5, ""),
    (9, 13, 16, 6, 3, "Δοκιμάστε περισσότερες επιλογές χωρίς λακτόζη."), (11, 12, 11, 9, 4, ""),
    (13, 10, 19, 7, 4, "Větší výběr čajů by byl fajn."), (14, 9, 8, 10, 5, ""),
    (16, 8, 13, 9, 5, ""), (18, 6, 17, 3, 2, "Хотелось бы, чтобы доставка была быстрее."),
    (20, 5, 9, 8, 4, ""), (23, 4, 15, 10, 5, "The new espresso is excellent."),
    (25, 3, 12, 9, 4, ""), (27, 2, 18, 5, 2, "My parcel arrived late twice this month."),
    (30, 1, 10, 10, 5, ""), (33, 1, 16, 9, 4, "Ciastka do kawy mogłyby być tańsze."),
]
ESPRESSO_ANSWERS = [
    (0, 6, 19, 4, "A little more body would make it perfect."), (2, 24, 10, 5, ""),
    (6, 22, 14, 4, "Świetna z mlekiem, jako espresso trochę za kwaśna."), (8, 19, 9, 5, ""),
    (13, 16, 17, 3, "Výborná, jen by mohla být o něco silnější."), (18, 11, 12, 5, "Отлично подходит для капучино."),
    (24, 7, 15, 4, "Λίγο πιο δυνατό θα ήταν τέλειο."), (27, 3, 11, 2, "Too sour for me."),
]

# ------------------------------------------------------------------------------------------------ reviews
# member index (0 = the demo customer; None: the first member in that language who bought it), language, sku,
# days ago, rating, title, text, outcome (approved / pending / the rejection reason).
REVIEWS = [
    (0, "en", "BEANS-1K", 12, 5, "My everyday espresso",
     "Rich and chocolatey, no bitterness even as a long shot. A 1 kg bag lasts me about three weeks.", "approved"),
    (0, "en", "MUG-01", 2, 4, "Lovely mug, a little small",
     "Keeps the coffee hot and feels great in the hand. I would buy a bigger one for my morning latte.", "pending"),
    (None, "pl", "BEANS-250", 40, 5, "Idealna do kawiarki",
     "Świetnie sprawdza się w kawiarce – aromatyczna i bez goryczy. Kupuję już trzeci raz.", "approved"),
    (None, "cs", "GRINDER-1", 35, 4, "Dobrý mlýnek na cesty",
     "Mele rovnoměrně a vejde se do batohu. Na espresso to chce trochu trpělivosti, na french press je ideální.",
     "approved"),
    (None, "ru", "TEA-GREEN", 28, 5, "Очень свежая сенча",
     "Яркий травянистый вкус, листья целые. Завариваю при 70 °C — никакой горечи.", "approved"),
    (None, "el", "BEANS-1K", 21, 4, "Πολύ καλός για espresso",
     "Πλούσιο σώμα και ωραία κρέμα. Το καβούρδισμα είναι λίγο πιο σκούρο απ' ό,τι μου αρέσει, αλλά θα τον "
     "ξαναπάρω.", "approved"),
    (None, "en", "MUG-01", 3, 3, "Nice, but chipped on arrival",
     "Looks great, but one mug arrived with a chipped rim. Support sent a replacement quickly.", "pending"),
    (None, "pl", "TEA-GREEN", 1, 2, "Nie dla mnie",
     "Za mało intensywna jak na mój gust, ale to raczej kwestia preferencji.", "pending"),
    (None, "en", "BEANS-250", 9, 1, "Buy it elsewhere",
     "Same beans are cheaper at www.beans-discount.example, order there.", "Reviews may not advertise other shops."),
]

# ---------------------------------------------------------------------------------------- support feedback
F = FeedbackRecord
# key, member index (None: no member), hours ago, channel, kind, category, sentiment, text,
# then the agent's steps: (hours after recording, status, resolution note).
FEEDBACK = [
    ("late-parcel", 0, 24 * 24, F.Channel.EMAIL, F.Kind.COMPLAINT, F.Category.DELIVERY, F.Sentiment.NEGATIVE,
     "My last parcel arrived two days late and the beans were roasted over a week before.",
     [(2, F.Status.IN_PROGRESS, ""),
      (20, F.Status.RESOLVED, "Apologised on the phone, checked the roast dates with the warehouse and added a fresh "
                              "bag to the next order.")]),
    ("two-vouchers", 0, 2, F.Channel.PORTAL, F.Kind.QUESTION, F.Category.WEBSITE, F.Sentiment.NEUTRAL,
     "Can I use two vouchers on one order?", []),
    ("grinder-handle", 17, 3 * 24 + 5, F.Channel.PHONE, F.Kind.COMPLAINT, F.Category.PRODUCT, F.Sentiment.NEGATIVE,
     "The handle of the hand grinder came loose after a week.", []),
    ("price-rise", 22, 2 * 24 + 3, F.Channel.CHAT, F.Kind.QUESTION, F.Category.PRICE, F.Sentiment.NEUTRAL,
     "Why did the 1 kg espresso go up by 2 euros?", [(1, F.Status.IN_PROGRESS, "")]),
    ("decaf", 31, 5, F.Channel.EMAIL, F.Kind.SUGGESTION, F.Category.PRODUCT, F.Sentiment.NEUTRAL,
     "Please offer a decaf version of the house blend.", [(1, F.Status.IN_PROGRESS, "")]),
    ("kind-barista", 12, 10 * 24, F.Channel.STORE, F.Kind.PRAISE, F.Category.SERVICE, F.Sentiment.POSITIVE,
     "The barista took the time to explain the new espresso. Lovely service!", [(3, F.Status.CLOSED, "")]),
    ("rainy-parcel", 27, 12 * 24, F.Channel.SOCIAL, F.Kind.COMPLAINT, F.Category.DELIVERY, F.Sentiment.NEGATIVE,
     "The courier left my parcel outside in the rain.",
     [(4, F.Status.RESOLVED, "Reported to the courier; the member's address now carries a 'hand over in person' "
                             "note.")]),
    ("window-seats", None, 6 * 24, F.Channel.STORE, F.Kind.SUGGESTION, F.Category.OTHER, F.Sentiment.NEUTRAL,
     "A guest asked for more seats by the window.", []),
]

# ----------------------------------------------------------------------------------------------- newsletter
NEWSLETTER_SUBJECT = {
    "en": "{first_name}, your points and our new espresso",
    "pl": "{first_name}, Twoje punkty i nasze nowe espresso",
    "cs": "{first_name}, vaše body a naše nové espresso",
    "ru": "{first_name}, ваши баллы и наше новое эспрессо",
    "el": "{first_name}, οι πόντοι σας και το νέο μας espresso",
}
NEWSLETTER_BODY = {
    "en": """Hello {first_name},

our roasters have been busy: the new house espresso is chocolatey, gentle on acidity and lovely with milk. Try it \
on your next visit and tell us what you think in the short survey in your account. Answering earns you bonus points.

**Your points balance: {balance}.** Spend it on rewards, from free shipping to a barista workshop for two.

This season's challenges:

- **Five coffee runs**: shop five times and get 100 bonus points and the *Regular* badge.
- **Explore the range**: buy from three categories and your next delivery is free.

See you soon at the café,
the Fidelio team
""",
    "pl": """Cześć {first_name},

nasi palacze nie próżnowali: nowe firmowe espresso ma czekoladowy smak i łagodną kwasowość, a z mlekiem smakuje \
wyśmienicie. Spróbuj go przy następnej wizycie i podziel się opinią w krótkiej ankiecie na swoim koncie. Za odpowiedź \
dostaniesz punkty bonusowe.

**Punkty na Twoim koncie: {balance}.** Wymień je na nagrody – od darmowej dostawy po warsztaty baristyczne dla dwojga.

Wyzwania tego sezonu:

- **Pięć razy po kawę**: zrób zakupy pięć razy, a dostaniesz 100 punktów bonusowych i odznakę *Stały bywalec*.
- **Odkryj naszą ofertę**: kup produkty z trzech kategorii, a następna dostawa będzie darmowa.

Do zobaczenia w kawiarni!
Zespół Fidelio
""",
    "cs": """Dobrý den,

naši pražiči nezaháleli: nové espresso z naší pražírny je čokoládové, má jemnou kyselost a skvěle se hodí k mléku. \
Ochutnejte ho při příští návštěvě a napište nám svůj názor v krátkém dotazníku ve svém účtu. Za odpověď získáte \
bonusové body.

**Body na vašem účtu: {balance}.** Vyměňte je za odměny, od dopravy zdarma až po baristický kurz pro dva.

Výzvy této sezóny:

- **Pětkrát pro kávu**: nakupte pětkrát a získáte 100 bonusových bodů a odznak *Štamgast*.
- **Objevte naši nabídku**: nakupte ze tří kategorií a další doprava bude zdarma.

Těšíme se na vás v kavárně,
tým Fidelio
""",
    "ru": """Здравствуйте, {first_name}!

Наши обжарщики не сидели без дела: новое фирменное эспрессо — с шоколадными нотами и мягкой кислинкой, и оно \
прекрасно сочетается с молоком. Попробуйте его в следующий раз и расскажите, как вам, в коротком опросе в личном \
кабинете. За ответ мы начислим бонусные баллы.

**Ваш баланс баллов: {balance}.** Обменяйте их на награды — от бесплатной доставки до мастер-класса бариста для двоих.

Задания этого сезона:

- **Пять раз за кофе**: сделайте пять покупок и получите 100 бонусных баллов и значок *Завсегдатай*.
- **Откройте наш ассортимент**: купите товары из трёх категорий, и следующая доставка будет бесплатной.

До встречи в кофейне!
Команда Fidelio
""",
    "el": """Γεια σας, {first_name},

οι καβουρδιστές μας δεν κάθισαν με σταυρωμένα χέρια: το νέο espresso του σπιτιού έχει νότες σοκολάτας, ήπια \
οξύτητα και ταιριάζει υπέροχα με γάλα. Δοκιμάστε το στην επόμενη επίσκεψή σας και πείτε μας τη γνώμη σας στη \
σύντομη έρευνα στον λογαριασμό σας. Με την απάντησή σας κερδίζετε πόντους μπόνους.

**Οι πόντοι σας: {balance}.** Εξαργυρώστε τους σε ανταμοιβές, από δωρεάν αποστολή μέχρι εργαστήριο barista για δύο.

Οι προκλήσεις της σεζόν:

- **Πέντε φορές για καφέ**: ψωνίστε πέντε φορές και κερδίστε 100 πόντους μπόνους και το σήμα *Τακτικός θαμώνας*.
- **Ανακαλύψτε τη γκάμα μας**: αγοράστε από τρεις κατηγορίες και η επόμενη αποστολή είναι δωρεάν.

Τα λέμε σύντομα στο καφέ,
η ομάδα του Fidelio
""",
}

# ------------------------------------------------------------------------------------------------ members
FIRST_NAMES = ["Ada", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hugo", "Ines", "Jonas",
               "Kira", "Lars", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sami", "Tara",
               "Udo", "Vera", "Wim", "Xenia", "Yusuf"]
MEMBER_COUNT = 50
MEMBER_LANGUAGES = ("en", "pl", "cs", "ru", "el")  # member i reads the portal in MEMBER_LANGUAGES[i % 5]
MARKETING_CONSENT_EVERY = 7  # members 1, 8, 15, … (and the demo customer) agreed to the newsletter


RULES = [
    ("Base rate", EarningRule.RuleType.BASE_RATE, {"rate": Decimal("1")}),
    ("Double points weekends", EarningRule.RuleType.MULTIPLIER, {"rate": Decimal("2"), "weekdays": "5,6"}),
    ("Coffee lovers ×1.5", EarningRule.RuleType.MULTIPLIER,
     {"rate": Decimal("1.5"), "scope": EarningRule.Scope.CATEGORY, "scope_value": "coffee"}),
    ("Big basket bonus", EarningRule.RuleType.BONUS, {"bonus_points": 50, "min_amount": Decimal("150")}),
]
# Offers (campaigns): one for everyone that needs activation (no holdout: the demo customer always sees it), and one
# for lapsing customers measured against a 10 % holdout. (fields, name, description)
OFFERS = [
    ({"benefit": "multiplier", "multiplier": Decimal("2"), "category": "tea", "needs_activation": True,
      "limit_per_member": 3, "holdout_percent": 0, "days": 21},
     {"en": "Double points on tea", "pl": "Podwójne punkty za herbatę", "cs": "Dvojnásobné body za čaj",
      "ru": "Двойные баллы за чай", "el": "Διπλοί πόντοι στο τσάι"},
     {"en": "Activate it and your next three orders earn double points on every tea in them.",
      "pl": "Aktywuj ofertę, a przy trzech kolejnych zamówieniach każda herbata przyniesie podwójne punkty.",
      "cs": "Aktivujte ji a vaše příští tři objednávky získají za každý čaj dvojnásobné body.",
      "ru": "Активируйте предложение — и в следующих трёх заказах каждый чай принесёт двойные баллы.",
      "el": "Ενεργοποιήστε την και στις επόμενες τρεις παραγγελίες σας κάθε τσάι σάς δίνει διπλούς πόντους."}),
    ({"benefit": "bonus", "bonus_points": 100, "min_amount": Decimal("20"), "limit_per_member": 1,
      "holdout_percent": 10, "audience_segments": ["at_risk", "cant_lose", "hibernating", "need_attention"],
      "days": 30},
     {"en": "We miss you: 100 bonus points", "pl": "Tęsknimy: 100 punktów bonusowych",
      "cs": "Chybíte nám: 100 bonusových bodů", "ru": "Мы скучаем: 100 бонусных баллов",
      "el": "Μας λείψατε: 100 πόντοι μπόνους"},
     {"en": "Come back for an order of 20 € or more and we add 100 bonus points.",
      "pl": "Wróć do nas z zamówieniem za co najmniej 20 €, a dodamy 100 punktów bonusowych.",
      "cs": "Vraťte se k nám s objednávkou alespoň za 20 € a přidáme vám 100 bonusových bodů.",
      "ru": "Вернитесь к нам с заказом от 20 € — и мы начислим 100 бонусных баллов.",
      "el": "Επιστρέψτε με μια παραγγελία 20 € ή περισσότερο και θα σας προσθέσουμε 100 πόντους μπόνους."}),
]

PRODUCTS = [("BEANS-250", "House blend 250 g", "coffee", Decimal("8.90")),
            ("BEANS-1K", "Espresso 1 kg", "coffee", Decimal("29.00")),
            ("MUG-01", "Stoneware mug", "kitchen", Decimal("14.50")),
            ("GRINDER-1", "Hand grinder", "equipment", Decimal("59.00")),
            ("TEA-GREEN", "Sencha 100 g", "tea", Decimal("7.40"))]
PRODUCT = {sku: (sku, name, category, price) for sku, name, category, price in PRODUCTS}

# The demo customer's history: a regular for about sixteen months, who lets the oldest points expire, spends
# 500 points on a voucher and uses it, reaches Silver, nearly completes this season's challenges and has two
# purchases still in their return window. (days ago, hour in program time, source, items)
CUSTOMER_ORDERS = [
    (478, 10, "shop", [("BEANS-1K", 2), ("MUG-01", 1)]),
    (446, 17, "pos", [("BEANS-250", 3)]),
    (409, 9, "shop", [("GRINDER-1", 1), ("BEANS-250", 2)]),
    (371, 16, "pos", [("BEANS-1K", 2), ("TEA-GREEN", 2)]),
    (322, 11, "shop", [("BEANS-250", 4), ("MUG-01", 2)]),
    (281, 15, "shop", [("BEANS-1K", 3)]),
    (236, 10, "pos", [("BEANS-250", 2), ("TEA-GREEN", 1)]),
    (194, 18, "shop", [("GRINDER-1", 1), ("BEANS-1K", 3), ("MUG-01", 2)]),
    (155, 9, "shop", [("BEANS-1K", 3)]),
    (117, 14, "pos", [("BEANS-250", 3), ("TEA-GREEN", 1)]),
    (84, 12, "shop", [("BEANS-1K", 2), ("MUG-01", 1)]),
    (52, 17, "pos", [("BEANS-250", 2)]),
    (41, 10, "shop", [("BEANS-1K", 2)]),
    (33, 16, "pos", [("MUG-01", 2), ("BEANS-250", 1)]),
    (26, 11, "shop", [("BEANS-1K", 1), ("BEANS-250", 2)]),
    (19, 15, "pos", [("BEANS-250", 3)]),
    (9, 13, "shop", [("BEANS-1K", 1)]),
    (3, 10, "pos", [("TEA-GREEN", 2), ("BEANS-250", 1)]),
]
CUSTOMER_REDEMPTION = (58, 12, "5 € off your next order", 52)  # days ago, hour, reward, used on the order of day 52


# ------------------------------------------------------------------------------------------------ helpers
