"""Words for reports and exports a person reads: Dutch by default, English when asked.

Codes (``no_bed``, ``delivery_room``) are what the JSON answers hold; CSV, XLSX and the HTML
report show these labels instead. The language is ``lang=nl|en`` in the query, else the first
language of ``Accept-Language`` that is Dutch or English, else Dutch.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["nl", "en"]

# kind of value -> code -> (Dutch, English)
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "reason": {
        "no_bed": ("Geen bed", "No bed"),
        "no_nurse": ("Geen verpleging", "No nurse"),
        "no_obstetrician": ("Geen gynaecoloog", "No obstetrician"),
        "neonatal_full": ("Neonatologie/NICU vol", "Neonatal/NICU full"),
        "stop": ("Stop actief", "Stop in force"),
        "other": ("Anders", "Other"),
        "no_answer": ("Geen antwoord op tijd", "No answer in time"),
    },
    "category": {
        "delivery_room": ("Verloskamer", "Delivery room"),
        "maternity_bed": ("Kraambed", "Maternity bed"),
        "obstetric_high_care": ("MCU / obstetrische high care", "Obstetric high care"),
        "neonatal_high_care": ("Neonatologie (HC/MC)", "Neonatal high/medium care"),
        "nicu": ("NICU", "NICU"),
    },
    "request_type": {
        "non_medical": ("Poliklinisch", "Non-medical"),
        "medical": ("Medisch", "Medical"),
        "acute": ("Acuut", "Acute"),
        "antenatal_transfer": ("Antenatale overplaatsing", "Antenatal transfer"),
        "neonatal_transfer": ("Neonatale overplaatsing", "Neonatal transfer"),
        "unknown": ("Niet opgegeven", "Not given"),
    },
    "gestational_age_band": {
        "<24": ("< 24 weken", "< 24 weeks"),
        "24-27": ("24-27 weken", "24-27 weeks"),
        "28-31": ("28-31 weken", "28-31 weeks"),
        "32-33": ("32-33 weken", "32-33 weeks"),
        "34-36": ("34-36 weken", "34-36 weeks"),
        ">=37": ("37 weken of meer", "37 weeks or more"),
    },
    "outcome": {
        "placed": ("Geplaatst", "Placed"),
        "placed_outside_region": ("Buiten de regio geplaatst", "Placed outside the region"),
        "home_birth": ("Thuis bevallen (ongewild)", "Born at home (unplanned)"),
        "birth_en_route": ("Onderweg bevallen", "Born en route"),
        "unknown": ("Onbekend", "Unknown"),
    },
    "decision": {"refused": ("Geweigerd", "Refused"), "accepted": ("Geaccepteerd", "Accepted")},
    "shown_status": {
        "green": ("Groen", "Green"),
        "orange": ("Oranje", "Orange"),
        "red": ("Rood (vol)", "Red (full)"),
        "stop": ("Stop", "Stop"),
        "unknown": ("Onbekend", "Unknown"),
    },
    "shown_stop_reason": {
        "beds": ("Bedden", "Beds"),
        "staff": ("Personeel", "Staff"),
        "other": ("Anders", "Other"),
    },
    "weekday": {
        "monday": ("maandag", "Monday"),
        "tuesday": ("dinsdag", "Tuesday"),
        "wednesday": ("woensdag", "Wednesday"),
        "thursday": ("donderdag", "Thursday"),
        "friday": ("vrijdag", "Friday"),
        "saturday": ("zaterdag", "Saturday"),
        "sunday": ("zondag", "Sunday"),
    },
    "bool": {"True": ("ja", "yes"), "False": ("nee", "no")},
}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Weigeringen", "Refusals"),
    "region": ("Regio", "Region"),
    "month": ("Maand", "Month"),
    "from": ("Van", "From"),
    "to": ("Tot en met", "To (inclusive)"),
    "generated_at": ("Gemaakt op (Nederlandse tijd)", "Generated at (Dutch time)"),
    "status": ("Status", "Status"),
    "final": ("Definitief: de maand is voorbij", "Final: the month has ended"),
    "in_progress": (
        "Voorlopig: de maand loopt nog, cijfers tot het moment van maken",
        "Provisional: the month is in progress, figures up to the time of generation",
    ),
    "legend": ("Legenda", "Legend"),
    "suppressed_legend": (
        "x = afgeschermd: minder dan 5, of afgeschermd omdat het anders uit de totalen terug "
        "te rekenen is",
        "x = suppressed: fewer than 5, or suppressed because it could otherwise be worked out "
        "from the totals",
    ),
    "na_legend": (
        "n.v.t. = niet van toepassing (bijv. een weigerpercentage zonder geaccepteerde "
        "overplaatsingen)",
        "n/a = not applicable (e.g. a refusal rate without accepted transfers)",
    ),
    "rate_legend": (
        "Weigerpercentage = geweigerd / (geweigerd + geaccepteerd)",
        "Refusal rate = refused / (refused + accepted)",
    ),
    "full_legend": (
        "Uren vol = uren dat de verloskamers rood (vol) stonden; uren stop = uren in een stop",
        "Hours full = hours the delivery rooms were red (full); hours in stop = hours in a stop",
    ),
    "measure": ("Maat", "Measure"),
    "value": ("Waarde", "Value"),
    "count": ("Weigeringen", "Refusals"),
    "total": ("Weigeringen", "Refusals"),
    "shown_available": ("Waarvan groen/oranje getoond", "Of which shown green/orange"),
    "searches": ("Zoekacties", "Searches"),
    "accepted": ("Geaccepteerd", "Accepted"),
    "refusal_rate": ("Weigerpercentage", "Refusal rate"),
    "recorded": ("Zoekacties met uitkomst", "Searches with an outcome"),
    "placed_outside_region_flag": ("Waarvan buiten de regio", "Of which outside the region"),
    "median_calls_until_placement": (
        "Mediaan aantal telefoontjes tot plaatsing",
        "Median calls until placement",
    ),
    "median_minutes_until_placement": (
        "Mediaan minuten tot plaatsing",
        "Median minutes until placement",
    ),
    "hours_stop": ("Uren stop", "Hours in stop"),
    "hours_full": ("Uren vol (verloskamer)", "Hours full (delivery room)"),
    "hours_red": ("Uren rood (vol)", "Hours red (full)"),
    "hours_stale": ("Uren verouderd", "Hours out of date"),
    "facility": ("Zorginstelling", "Facility"),
    "facility_id": ("Zorginstelling (id)", "Facility (id)"),
    "reason": ("Reden", "Reason"),
    "request_type": ("Soort verzoek", "Kind of request"),
    "category": ("Categorie", "Category"),
    "week": ("Week", "Week"),
    "weekday": ("Weekdag", "Weekday"),
    "hour": ("Uur", "Hour"),
    "outcome": ("Uitkomst", "Outcome"),
    "sum": ("Totaal", "Total"),
    "summary": ("Samenvatting", "Summary"),
    "outcomes": ("Uitkomsten (per zoekactie)", "Outcomes (per search)"),
    "facility_reason": ("Zorginstelling x reden", "Facility x reason"),
    "capacity": ("Capaciteit", "Capacity"),
    "by": ("Weigeringen per", "Refusals by"),
    "chart_facility": ("Weigeringen per zorginstelling", "Refusals by facility"),
    "chart_reason": ("Weigeringen per reden", "Refusals by reason"),
    "suppressed": ("x", "x"),
    "na": ("n.v.t.", "n/a"),
    "time_zone": ("tijden in Nederlandse tijd (Europe/Amsterdam)", "times in Dutch time"),
    # columns of the refusal export
    "id": ("Nummer", "Number"),
    "occurred_at": ("Tijdstip", "Time"),
    "decision": ("Besluit", "Decision"),
    "gestational_age_band": ("Zwangerschapsduur", "Gestational age"),
    "indication": ("Indicatie", "Indication"),
    "episode": ("Zoekactie", "Search"),
    "shown_status": ("Getoonde status", "Status shown"),
    "shown_stale": ("Getoond als verouderd", "Shown as out of date"),
    "shown_stop_reason": ("Getoonde stopreden", "Stop reason shown"),
    "shown_available_n": ("Getoond vrij", "Shown free"),
    "shown_staffed": ("Getoond bezet te houden", "Shown staffed"),
    "placed_facility_name": ("Geplaatst bij", "Placed at"),
    "placed_facility_id": ("Geplaatst bij (id)", "Placed at (id)"),
    "placed_outside_region": ("Buiten de regio geplaatst", "Placed outside the region"),
    "calls_until_placement": ("Telefoontjes tot plaatsing", "Calls until placement"),
    "minutes_until_placement": ("Minuten tot plaatsing", "Minutes until placement"),
    "recorded_at": ("Vastgelegd op", "Recorded at"),
    "outcome_at": ("Uitkomst vastgelegd op", "Outcome recorded at"),
    "period": ("Periode", "Period"),
}

# the refusal export's columns whose values are codes, and the kind of their labels
EXPORT_VALUE_KINDS = {
    "category": "category",
    "request_type": "request_type",
    "reason": "reason",
    "decision": "decision",
    "gestational_age_band": "gestational_age_band",
    "shown_status": "shown_status",
    "shown_stop_reason": "shown_stop_reason",
    "outcome": "outcome",
    "shown_stale": "bool",
    "placed_outside_region": "bool",
}
EXPORT_HEADERS = {"shown_available": "shown_available_n", "facility_name": "facility"}


def language(lang: str | None, accept_language: str | None) -> Lang:
    """``lang`` if given, else the first Dutch or English language asked for, else Dutch."""
    if lang in ("nl", "en"):
        return lang  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("nl"):
            return "nl"
        if tag.startswith("en"):
            return "en"
    return "nl"


def word(key: str, lang: Lang) -> str:
    nl, en = WORDS[key]
    return nl if lang == "nl" else en


def value(kind: str, code: object, lang: Lang) -> str:
    """The label of a code; an unknown code is shown as it is."""
    pair = VALUES.get(kind, {}).get(str(code))
    if pair is None:
        return str(code)
    return pair[0] if lang == "nl" else pair[1]


def header(column: str, lang: Lang) -> str:
    return word(EXPORT_HEADERS.get(column, column), lang)
