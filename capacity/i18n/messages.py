"""Every message the service answers with, in English and Dutch (the web app asks for Dutch).

How to add one: a ``Text(en, nl)`` here, both with the same ``{fields}``, and at the raise site
``raise NotFound(messages.UNKNOWN_FACILITY(facility=facility_id))``. A plain string in an
``InputError``/``NotFound``/... (or a validator's ``ValueError``) fails
``tests/i18n/test_catalogue.py``: it would reach a Dutch screen in English. The English text is
what API clients and logs see (``str`` of the message); keep it as it was when moving one here.
"""

from capacity.i18n.text import Text

# ---- shared: unknown things, access -----------------------------------------------------------
UNKNOWN_FACILITY = Text("unknown facility {facility!r}", "onbekende instelling {facility!r}")
UNKNOWN_REGION = Text("unknown region {region!r}", "onbekende regio {region!r}")
UNKNOWN_USER = Text("unknown user {username!r}", "onbekende gebruiker {username!r}")
UNKNOWN_API_KEY = Text("unknown API key {key}", "onbekende API-sleutel {key}")
UNKNOWN_REFUSAL = Text("unknown refusal {refusal}", "onbekende weigering {refusal}")
UNKNOWN_REPORT = Text("unknown report {report}", "onbekend rapport {report}")
NO_DOCS_ASSET = Text("no docs asset {name!r}", "geen documentatiebestand {name!r}")
NEEDS_ROLE = Text("this needs the role {roles}", "hiervoor is de rol {roles} nodig")
NO_REGION_ACCESS = Text("no access to region {region!r}", "geen toegang tot regio {region!r}")
NOT_YOUR_FIGURES = Text(
    "you may not change the figures of {facility!r}",
    "u mag de cijfers van {facility!r} niet wijzigen",
)
API_KEY_ONLY_CAPACITY = Text(
    "an API key may only change its facility's capacity and stops",
    "een API-sleutel mag alleen de capaciteit en stops van de eigen instelling wijzigen",
)

# ---- signing in, tokens, API keys, accounts ---------------------------------------------------
CREDENTIALS_REQUIRED = Text(
    "credentials required: a bearer token or an X-API-Key",
    "inloggegevens nodig: een bearer-token of een X-API-Key",
)
WRONG_LOGIN = Text("wrong username or password", "onjuiste gebruikersnaam of wachtwoord")
NUL_IN_USERNAME = Text(
    "a NUL byte is in no account's name", "geen gebruikersnaam bevat een NUL-teken"
)
TOKEN_EXPIRED = Text("token expired; sign in again", "token verlopen; log opnieuw in")
TOKEN_INVALID = Text("invalid token", "ongeldig token")
TOKEN_REVOKED = Text("token revoked; sign in again", "token ingetrokken; log opnieuw in")
ACCOUNT_DEACTIVATED = Text("account deactivated", "account gedeactiveerd")
ACCOUNT_GONE = Text(
    "the account no longer exists or is deactivated",
    "het account bestaat niet meer of is gedeactiveerd",
)
API_KEY_INVALID = Text("invalid API key", "ongeldige API-sleutel")
API_KEY_REVOKED = Text("API key revoked", "API-sleutel ingetrokken")
API_KEY_REVOKED_CREATE_NEW = Text(
    "API key {key} is revoked; create a new key instead",
    "API-sleutel {key} is ingetrokken; maak een nieuwe sleutel aan",
)
KEYS_AMBIGUOUS = Text(
    "{facility} has {count} live keys: {keys}", "{facility} heeft {count} geldige sleutels: {keys}"
)
NO_LIVE_KEY = Text("no live key {key} of {facility}", "geen geldige sleutel {key} van {facility}")
PASSWORD_LENGTH = Text(
    "a password has {min} to {max} characters", "een wachtwoord heeft {min} tot {max} tekens"
)
NOT_CURRENT_PASSWORD = Text("not the current password", "dit is niet het huidige wachtwoord")
STAFF_NEEDS_FACILITY = Text(
    "facility_staff accounts need a facility_id",
    "een account met de rol facility_staff heeft een facility_id nodig",
)
ONLY_STAFF_HAVE_FACILITY = Text(
    "only facility_staff accounts are bound to a facility",
    "alleen accounts met de rol facility_staff horen bij een instelling",
)
ONLY_ANALYSTS_HAVE_REGION = Text(
    "only analyst accounts are bound to a region",
    "alleen accounts met de rol analyst horen bij een regio",
)
USERNAME_TAKEN = Text(
    "username {username!r} is taken", "gebruikersnaam {username!r} is al in gebruik"
)
NOT_AN_ADDRESS = Text("not an IP address: {address!r}", "geen IP-adres: {address!r}")
TOO_MANY_LOGINS = Text(
    "too many failed logins for {scope}: at most {max} per {minutes} minutes; "
    "try again in {seconds} seconds",
    "te veel mislukte inlogpogingen voor {scope}: hoogstens {max} per {minutes} minuten; "
    "probeer het over {seconds} seconden opnieuw",
)
SCOPE_ACCOUNT_ADDRESS = Text("this account from your address", "dit account vanaf uw adres")
SCOPE_ADDRESS = Text("your address", "uw adres")
SCOPE_ACCOUNT = Text("this account (from many addresses)", "dit account (vanaf veel adressen)")

# ---- facilities and capacity ------------------------------------------------------------------
FACILITY_EXISTS = Text("facility {facility!r} exists", "instelling {facility!r} bestaat al")
NOT_NULL = Text(
    "{field} may not be null; leave it out to keep it",
    "{field} mag niet null zijn; laat het weg om de waarde te houden",
)
CATEGORIES_REPEAT = Text(
    "categories may not repeat", "categorieën mogen niet meer dan eens voorkomen"
)
CATEGORY_NOT_OFFERED = Text(
    "{facility} does not offer {category} (it offers {offered})",
    "{facility} biedt geen {category} (wel: {offered})",
)
AVAILABLE_ABOVE_STAFFED = Text(
    "available ({available}) may not exceed staffed ({staffed})",
    "vrij ({available}) mag niet hoger zijn dan bemand ({staffed})",
)
UNTIL_PAST = Text(
    "until lies in the past; give a future time or null",
    "het verwachte einde ligt in het verleden; kies een tijd in de toekomst of laat het leeg",
)
UNTIL_TOO_FAR = Text(
    "until may lie at most {days} days ahead",
    "het verwachte einde mag hoogstens {days} dagen vooruit liggen",
)
VERSION_CHANGED = Text(
    "the facility changed since version {expected} (now {now}); nothing was saved",
    "de instelling is gewijzigd sinds versie {expected} (nu {now}); er is niets opgeslagen",
)
IF_MATCH_MALFORMED = Text(
    'must be a facility version as an ETag ("12"), or *',
    'moet een versie van de instelling zijn als ETag ("12"), of *',
)

# ---- refusals ---------------------------------------------------------------------------------
EPISODE_NOT_YOURS = Text(
    "not an episode token issued to you: ask POST /api/v1/episodes",
    "geen episode-token dat aan u is uitgegeven: vraag er een aan met POST /api/v1/episodes",
)
EPISODE_EXPIRED = Text(
    "episode token expired: ask POST /api/v1/episodes",
    "episode-token verlopen: vraag een nieuw aan met POST /api/v1/episodes",
)
OCCURRED_IN_FUTURE = Text(
    "occurred_at lies in the future", "het tijdstip (occurred_at) ligt in de toekomst"
)
OCCURRED_TOO_LONG_AGO = Text(
    "occurred_at lies more than 7 days back",
    "het tijdstip (occurred_at) ligt meer dan 7 dagen terug",
)
DOES_NOT_OFFER = Text("{facility} does not offer {category}", "{facility} biedt geen {category}")
AMEND_OWN_ONLY = Text(
    "only the midwife who recorded this refusal may amend it",
    "alleen de verloskundige die deze weigering meldde mag haar wijzigen",
)
AMEND_WITHIN_DAY = Text(
    "a refusal may be amended within 24 hours of recording only",
    "een weigering kan alleen binnen 24 uur na het melden worden gewijzigd",
)
PLACED_OUTSIDE = Text(
    "{facility} lies outside region {region}: use placed_outside_region",
    "{facility} ligt buiten regio {region}: kies placed_outside_region",
)
PLACED_INSIDE = Text("{facility} lies inside {region}", "{facility} ligt binnen {region}")
PLACED_NOT_ALLOWED = Text(
    "not allowed with outcome {outcome}", "niet toegestaan bij uitkomst {outcome}"
)
REASON_REQUIRED = Text("reason is required for a refusal", "een weigering heeft een reden nodig")
ACCEPTED_HAS_NO_REASON = Text(
    "an accepted transfer has no refusal reason; send reason null",
    "een geaccepteerde overdracht heeft geen weigeringsreden; stuur reason null",
)

# ---- reporting, exports -----------------------------------------------------------------------
FROM_TOO_EARLY = Text(
    "from may not lie before {first}", "de begindatum mag niet vóór {first} liggen"
)
TO_TOO_LATE = Text("to may not lie after {last}", "de einddatum mag niet na {last} liggen")
FROM_AFTER_TO = Text("from lies after to", "de begindatum ligt na de einddatum")
RANGE_TOO_LONG = Text("the range may span at most 5 years", "de periode beslaat hoogstens 5 jaar")
DAY_PERIOD_TOO_LONG = Text(
    "period=day spans at most {days} days", "period=day beslaat hoogstens {days} dagen"
)
EXPORT_TO_BEFORE_FROM = Text("'to' lies before 'from'", "de einddatum ligt vóór de begindatum")
EXPORT_TOO_LONG = Text("at most {days} days per export", "hoogstens {days} dagen per export")
MONTH_FORMAT = Text("give the month as YYYY-MM", "geef de maand als JJJJ-MM")
MONTH_RANGE = Text(
    "the month must lie between 2000-01 and 2100-12",
    "de maand moet tussen 2000-01 en 2100-12 liggen",
)
MONTH_NOT_BEGUN = Text(
    "{month} has not begun; there is nothing to report yet",
    "{month} is nog niet begonnen; er is nog niets te rapporteren",
)

# ---- bad requests the framework meets, and parts that are down --------------------------------
NOT_JSON = Text("not valid JSON (UTF-8)", "geen geldige JSON (UTF-8)")
NOT_A_FORM = Text("not a readable form ({reason})", "geen leesbaar formulier ({reason})")
NUMBER_TOO_LARGE = Text("number too large (max 2^63-1)", "getal te groot (hoogstens 2^63-1)")
UNSTORABLE_VALUE = Text(
    "a value the database cannot store (e.g. a NUL byte, a number beyond 64 bits)",
    "een waarde die de database niet kan opslaan (bijv. een NUL-teken, een getal boven 64 bits)",
)
BODY_TOO_LARGE = Text("request body larger than {kb} KB", "verzoek groter dan {kb} KB")
TOO_LARGE = Text("too large", "te groot")
NO_SUCH_ENDPOINT = Text("no such endpoint: {path}", "dit endpoint bestaat niet: {path}")
METHOD_NOT_ALLOWED = Text(
    "method {method} not allowed on {path}; allowed: {methods}",
    "methode {method} niet toegestaan op {path}; toegestaan: {methods}",
)
STORED_DATA_CONFLICT = Text(
    "the change conflicts with stored data", "de wijziging botst met opgeslagen gegevens"
)
DATABASE_DOWN = Text(
    "the database is unavailable; nothing was changed, try again",
    "de database is niet beschikbaar; er is niets gewijzigd, probeer het opnieuw",
)
DATABASE_REFUSED = Text(
    "the database did not accept the change", "de database heeft de wijziging niet aangenomen"
)
REDIS_DOWN = Text(
    "the live picture (Redis) is unavailable; nothing was changed, try again",
    "het live beeld (Redis) is niet beschikbaar; er is niets gewijzigd, probeer het opnieuw",
)
REDIS_UNREACHABLE = Text(
    "the live picture (Redis) is unreachable", "het live beeld (Redis) is onbereikbaar"
)
REDIS_UNREACHABLE_UNCHANGED = Text(
    "the live picture (Redis) is unreachable; nothing was changed",
    "het live beeld (Redis) is onbereikbaar; er is niets gewijzigd",
)

# ---- phone numbers (contacts) -----------------------------------------------------------------
NOT_YOUR_NUMBERS = Text(
    "you may not change the numbers of {facility!r}",
    "u mag de telefoonnummers van {facility!r} niet wijzigen",
)
CONTACT_TYPE_TWICE = Text("each type at most once", "elk type hoogstens één keer")
CSV_NOT_UTF8 = Text("not UTF-8 text", "geen UTF-8-tekst")
CSV_HEADER_FIRST = Text(
    "the first line must be the header {header}", "de eerste regel moet de kop {header} zijn"
)
CSV_HEADER_WRONG = Text(
    "expected {header} (or with ','), got {got}", "verwacht {header} (of met ','), niet {got}"
)
CSV_COLUMNS = Text(
    "{expected} columns expected, found {found}", "{expected} kolommen verwacht, {found} gevonden"
)
CSV_NOT_FACILITY_ID = Text("not a facility id: {value!r}", "geen instellings-id: {value!r}")
CSV_CONTACT_TYPE = Text("one of {types}, not {value!r}", "een van {types}, niet {value!r}")
CSV_TYPE_REPEATED = Text(
    "{kind} of {facility!r} is already on line {first}",
    "{kind} van {facility!r} staat al op regel {first}",
)
CSV_EMPTY = Text("the file holds no numbers", "het bestand bevat geen nummers")

# ---- undo and resend-safe recording -----------------------------------------------------------
CLIENT_KEY_OTHER_FACTS = Text(
    "client_key already names your record {refusal} with other facts: "
    "make a new key for each record",
    "client_key hoort al bij uw melding {refusal} met andere gegevens: "
    "maak voor elke melding een nieuwe sleutel",
)
UNKNOWN_OR_UNDONE_REFUSAL = Text(
    "unknown refusal {refusal} (never recorded, or undone)",
    "onbekende melding {refusal} (nooit vastgelegd, of ongedaan gemaakt)",
)
UNDO_OWN_ONLY = Text(
    "only the account that recorded this refusal may undo it",
    "alleen het account dat deze melding vastlegde mag haar ongedaan maken",
)
UNDO_TOO_LATE = Text(
    "too late to undo: a record can be undone within 15 minutes of recording only "
    "(recorded at {recorded}); you may still set its outcome",
    "te laat om ongedaan te maken: dat kan alleen binnen 15 minuten na het vastleggen "
    "(vastgelegd om {recorded}); de afloop kunt u nog wel invullen",
)

# ---- facilities deactivated or moved (admin) --------------------------------------------------
AUDIT_TO_BEFORE_FROM = Text(
    "to ({end}) lies before from ({start})", "tot ({end}) ligt vóór van ({start})"
)
INACTIVE_ADMIN_ONLY = Text(
    "only admins see deactivated facilities", "alleen beheerders zien gedeactiveerde instellingen"
)
FACILITY_MOVED_MEANWHILE = Text(
    "facility {facility!r} moved to region {region!r} while this change was made; "
    "nothing was saved, send it again",
    "instelling {facility!r} is naar regio {region!r} verplaatst terwijl deze wijziging werd "
    "gedaan; er is niets opgeslagen, stuur haar opnieuw",
)
FACILITY_DEACTIVATED = Text(
    "facility {facility!r} is deactivated: it takes no figures or stops "
    "until an admin reactivates it",
    "instelling {facility!r} is gedeactiveerd: zij neemt geen cijfers of stops aan "
    "tot een beheerder haar weer activeert",
)
FACILITY_KEEPS_MOVING = Text(
    "facility {facility!r} keeps moving; send it again",
    "instelling {facility!r} wordt steeds verplaatst; stuur het opnieuw",
)

# ---- transfer requests (capacity.transfers) ---------------------------------------------------
ACUTE_STANDING_RULE = Text(
    "acute: go to the nearest hospital, call",
    "acuut: naar het dichtstbijzijnde ziekenhuis, bel",
)
ORIGIN_REQUIRED = Text(
    "give lat and lon together, or a city", "geef lat en lon samen, of een plaats"
)
UNKNOWN_CITY = Text(
    "no facility lies in {city!r}; give lat and lon",
    "in {city!r} ligt geen instelling; geef lat en lon",
)
NO_WARD_WITH_ROOM = Text(
    "no ward has room in {category} now; name the wards to ask",
    "geen afdeling heeft nu plek voor {category}; kies zelf de afdelingen",
)
WARDS_COUNT = Text("name 1 to {max} wards", "kies 1 tot {max} afdelingen")
WARD_TWICE = Text("{facility!r} is named twice", "{facility!r} staat er twee keer in")
WARD_ASKED_ALREADY = Text("{facility!r} was asked already", "{facility!r} is al gevraagd")
UNKNOWN_TRANSFER = Text(
    "unknown transfer request {transfer}", "onbekend overplaatsingsverzoek {transfer}"
)
UNKNOWN_OFFER = Text("unknown offer {offer}", "onbekende aanvraag {offer}")
NOT_YOUR_TRANSFER = Text(
    "only the account that made the request (or an admin) may see or change it",
    "alleen het account dat het verzoek deed (of een beheerder) mag het zien of wijzigen",
)
NOT_YOUR_OFFER = Text(
    "only the ward asked may see or answer this offer",
    "alleen de gevraagde afdeling mag deze aanvraag zien of beantwoorden",
)
NOT_YOUR_WARD = Text(
    "you may only see the offers of your own ward",
    "u mag alleen de aanvragen van uw eigen afdeling zien",
)
ALREADY_PLACED = Text("already placed at another ward", "al geplaatst bij een andere afdeling")
TRANSFER_NOT_OPEN = Text(
    "the request is {status}; it takes no more answers or wards",
    "het verzoek is {status}; er kunnen geen antwoorden of afdelingen meer bij",
)
OFFER_NOT_PENDING = Text("this offer is {status} already", "deze aanvraag is al {status}")
NO_ANSWER_IS_THE_SERVICES = Text(
    "no_answer is recorded by the service when the deadline passes; choose another reason",
    "geen antwoord op tijd legt de dienst zelf vast na de termijn; kies een andere reden",
)

# ---- alerts: subscriptions, deliveries, overdue reporters ------------------------------------
UNKNOWN_SUBSCRIPTION = Text(
    "unknown subscription {subscription}", "onbekend abonnement {subscription}"
)
UNKNOWN_ALERT = Text("unknown alert {alert}", "onbekende melding {alert}")
ALERT_NEEDS_FACILITY = Text(
    "the rule {rule} watches a facility: give facility_id",
    "de regel {rule} volgt een instelling: geef facility_id op",
)
ALERT_NEEDS_REGION_CATEGORY = Text(
    "the rule {rule} watches a region's category: give region and category",
    "de regel {rule} volgt een categorie van een regio: geef region en category op",
)
ALERT_TARGET_FORBIDDEN = Text(
    "the app channel takes no target", "het kanaal app heeft geen bestemming"
)
ALERT_EMAIL_INVALID = Text(
    "an e-mail address like name@example.org is needed",
    "een e-mailadres zoals naam@voorbeeld.nl is nodig",
)
ALERT_EMAIL_OFF = Text(
    "e-mail alerts are off: no SMTP server is set (CAPACITY_SMTP_HOST)",
    "meldingen per e-mail staan uit: er is geen SMTP-server ingesteld (CAPACITY_SMTP_HOST)",
)
ALERT_WEBHOOK_URL = Text(
    "a webhook needs an https:// URL", "een webhook heeft een https://-adres nodig"
)
ALERT_NOT_DEAD = Text(
    "alert {alert} is not on the dead-letter list", "melding {alert} staat niet bij de onbestelbare"
)
ALERT_TOO_MANY = Text(
    "at most {max} subscriptions per account", "hoogstens {max} abonnementen per account"
)
# What an alert says (e-mail subject and text, app and webhook ``text``): no patient data.
ALERT_STOP = Text("{facility} is on stop", "{facility} heeft een stop")
ALERT_FREE_BELOW = Text(
    "region {region}: {free} free {category} (below {threshold})",
    "regio {region}: {free} vrij {category} (onder {threshold})",
)
ALERT_STALE = Text(
    "the figures of {facility} are out of date", "de cijfers van {facility} zijn verouderd"
)
ALERT_TARGET_FORMAT = Text(
    "an e-mail address, or a web address (https://...), without spaces or quotes",
    "een e-mailadres, of een webadres (https://...), zonder spaties of aanhalingstekens",
)
ALERT_TRANSFER = Text(
    "transfer request for {facility}: {category}, {urgency}; answer within {minutes} min",
    "overplaatsingsverzoek voor {facility}: {category}, {urgency}; antwoord binnen {minutes} min",
)
ALERT_TRANSFER_NOT_YOURS = Text(
    "only the staff of {facility} (or an administrator) are told of its transfer requests",
    "alleen medewerkers van {facility} (of een beheerder) horen van haar overplaatsingsverzoeken",
)
ALERT_OVERDUE = Text(
    "{facility} has reported no current figures since {since}: please report them",
    "{facility} heeft sinds {since} geen actuele cijfers gemeld: meld ze alstublieft",
)

# ---- machines' pushes: Idempotency-Key, measured_at, group keys --------------------------------
IDEMPOTENCY_KEY_MALFORMED = Text(
    "must be 1 to 255 visible ASCII characters (no spaces)",
    "moet 1 tot 255 zichtbare ASCII-tekens zijn (geen spaties)",
)
IDEMPOTENCY_KEY_REUSED = Text(
    "this Idempotency-Key was used for another request (method, path or body differ); "
    "use a new key for a new request",
    "deze Idempotency-Key is gebruikt voor een ander verzoek (methode, pad of inhoud verschillen); "
    "gebruik een nieuwe sleutel voor een nieuw verzoek",
)
IDEMPOTENCY_IN_PROGRESS = Text(
    "a request with this Idempotency-Key is still being handled; retry in a moment",
    "een verzoek met deze Idempotency-Key wordt nog verwerkt; probeer het zo opnieuw",
)
MEASURED_IN_FUTURE = Text(
    "lies in the future (more than {seconds} s ahead of the server's clock)",
    "ligt in de toekomst (meer dan {seconds} s voor op de klok van de server)",
)
MEASURED_TOO_OLD = Text(
    "is older than the region's freshness limit ({minutes} min): such figures would be stale",
    "is ouder dan de versheidsgrens van de regio ({minutes} min): zulke cijfers zijn verouderd",
)
NOT_YOUR_ENTRY = Text(
    "you may not read the entry of {facility!r}",
    "u mag de gegevens van {facility!r} niet inzien",
)
KEY_FACILITIES_NEEDED = Text(
    "name 1 to {most} facilities, each once",
    "noem 1 tot {most} instellingen, elk één keer",
)

# ---- FHIR (capacity/fhir, /fhir) ----------------------------------------------------------------
FHIR_UNKNOWN_PARAMETER = Text(
    "unknown search parameter {name!r}; known: {known}",
    "onbekende zoekparameter {name!r}; bekend: {known}",
)
FHIR_UNKNOWN_MEASURE = Text("measure must be {expected}", "measure moet {expected} zijn")
FHIR_UNKNOWN_CATEGORY = Text(
    "no single known category in the group's code: use {system} or an HSLOC code ({hsloc})",
    "geen eenduidige bekende categorie in de code van de groep: gebruik {system} of een "
    "HSLOC-code ({hsloc})",
)
FHIR_CATEGORY_REPEATS = Text(
    "category {category!r} is in more than one group",
    "categorie {category!r} staat in meer dan een groep",
)
FHIR_UNKNOWN_POPULATION = Text(
    "unknown population code: use {system} with total, occupied or available",
    "onbekende populatiecode: gebruik {system} met total, occupied of available",
)
FHIR_POPULATION_REPEATS = Text(
    "population {population!r} is in the group twice",
    "populatie {population!r} staat twee keer in de groep",
)
FHIR_POPULATION_MISSING = Text(
    "a group needs the population total, and available or occupied",
    "een groep heeft de populatie total nodig, en available of occupied",
)
FHIR_POPULATIONS_DISAGREE = Text(
    "occupied ({occupied}) and available ({available}) do not add up to total ({total})",
    "bezet ({occupied}) en vrij ({available}) zijn samen niet het totaal ({total})",
)
FHIR_OCCUPIED_ABOVE_TOTAL = Text(
    "occupied ({occupied}) may not exceed total ({total})",
    "bezet ({occupied}) mag niet hoger zijn dan het totaal ({total})",
)
FHIR_DATE_MALFORMED = Text(
    "date is a moment with an optional prefix ge, gt, le or lt (ge2026-01-31T14:00:00Z)",
    "date is een moment met eventueel het voorvoegsel ge, gt, le of lt (ge2026-01-31T14:00:00Z)",
)
# ---- bed lists and ward mappings (capacity.beds) ----------------------------------------------
NOT_YOUR_WARDS = Text(
    "you may not see or change the wards of {facility!r}",
    "u mag de afdelingen van {facility!r} niet zien of wijzigen",
)
WARD_CODE = Text(
    "not a ward code: {value!r} (1-32 letters, digits, '.', '_' or '-', first a letter or digit)",
    "geen afdelingscode: {value!r} (1-32 letters, cijfers, '.', '_' of '-', eerst een letter of "
    "cijfer)",
)
BED_PLACE = Text(
    "not a {what}: {value!r} (1-16 letters, digits, '.', '_', '/' or '-', first a letter or digit)",
    "geen {what}: {value!r} (1-16 letters, cijfers, '.', '_', '/' of '-', eerst een letter of "
    "cijfer)",
)
WARD_CATEGORY = Text("one of {categories}, not {value!r}", "een van {categories}, niet {value!r}")
BED_STATUS = Text("one of {statuses}, not {value!r}", "een van {statuses}, niet {value!r}")
BED_MEASURED_FORMAT = Text(
    "not a time with offset (ISO 8601, e.g. 2026-12-05T04:00:00+01:00): {value!r}",
    "geen tijd met tijdzone (ISO 8601, bijv. 2026-12-05T04:00:00+01:00): {value!r}",
)
BED_MEASURED_FUTURE = Text("lies in the future", "ligt in de toekomst")
BED_MEASURED_OLD = Text(
    "older than the freshness limit of {minutes} minutes",
    "ouder dan de versheidsgrens van {minutes} minuten",
)
BED_REPEATED = Text(
    "bed {ward}/{room}/{bed} is already on line {first}",
    "bed {ward}/{room}/{bed} staat al op regel {first}",
)
BEDS_EMPTY = Text("the file holds no beds", "het bestand bevat geen bedden")
BEDS_TOO_MANY = Text(
    "at most {max} beds per file (and {kb} KB)", "hoogstens {max} bedden per bestand (en {kb} KB)"
)
BEDS_NONE_MAPPED = Text(
    "no ward of the file is mapped to a category (unmapped: {wards}); map them first with "
    "PUT /api/v1/facilities/{facility}/wards",
    "geen afdeling uit het bestand is aan een categorie gekoppeld (niet gekoppeld: {wards}); "
    "koppel ze eerst met PUT /api/v1/facilities/{facility}/wards",
)
BEDS_CATEGORY_TOO_MANY = Text(
    "{category}: {count} staffed beds, at most {max}",
    "{category}: {count} bezette of vrije bedden, hoogstens {max}",
)
BEDS_MEDIA_TYPE = Text(
    "send the bed list as text/csv or application/json",
    "stuur de beddenlijst als text/csv of application/json",
)
WARD_REPEATED = Text(
    "ward {ward} is already mapped (entry {first})",
    "afdeling {ward} is al gekoppeld (regel {first})",
)
