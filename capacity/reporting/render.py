"""The monthly report as a board reads it: HTML page, CSV and XLSX, in Dutch or English.

One set of tables (``tables``) feeds all three: facility names (ids in an extra column), labels
instead of codes, dates and times in Europe/Amsterdam, "x" for a suppressed cell and "n.v.t."
for one that does not apply, each with the legend. XLSX has one sheet per table with real date
cells, number formats, a frozen header row, fitted column widths and bar charts; CSV has a UTF-8
BOM and ``;`` with decimal commas for Dutch Excel (``sep=,`` gives commas and decimal points).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from capacity.refusals.service import LOCAL
from capacity.reporting.labels import Lang, value, word
from capacity.reporting.reports import GROUPINGS, upgrade
from capacity.reporting.suppression import is_suppressed

BAR = 300  # px, the longest bar
# The page's only styles, in its one <style> element: the page stays a single file (the analyst's
# screen saves it to disk, where a linked stylesheet would be missing), and the policy it is
# served with allows exactly this element by its hash, nothing else: no scripts, no inline style
# attributes, nothing from elsewhere.
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:auto;padding:0 8px}"
    "td,th{padding:2px 8px;text-align:left}td.n{text-align:right}"
    ".wide{overflow-x:auto}.x{font-weight:bold}.na{color:#555}p.status{font-weight:bold}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
FORMATS = {
    "int": "0",
    "pct": "0.0%",
    "hours": "0.0",
    "date": "DD-MM-YYYY",
    "time": "DD-MM-YYYY HH:MM",
}
MONTHS = {
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "en": "January February March April May June July August September October November December",
}


class Pct(float):
    """A share (0.25 = 25 %), shown as a percentage."""


class Hours(float):
    """Hours, one decimal."""


@dataclass
class Table:
    key: str  # the sheet's name
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: tuple[int, int, int] | None = None  # label column, value column, rows charted
    notes: list[str] = field(default_factory=list)


def _month(month: str, lang: Lang) -> str:
    year, number = month.split("-")
    return f"{MONTHS[lang].split()[int(number) - 1]} {year}"


def _label(group_by: str, key: str, names: dict[str, str], lang: Lang) -> str:
    if group_by == "facility":
        return names.get(key, key)
    if group_by == "hour":
        return f"{key}:00-{int(key) + 1:02d}:00"
    if group_by == "week":
        year, week = key.split("-W")
        return f"{word('week', lang).lower()} {int(week)} ({year})"
    return value(group_by, key, lang)


def _pct(v: Any) -> Any:
    return Pct(v) if isinstance(v, float | int) and not isinstance(v, bool) else v


def _hours(v: Any) -> Any:
    return Hours(v) if isinstance(v, float | int) and not isinstance(v, bool) else v


def tables(content: dict[str, Any], lang: Lang) -> list[Table]:
    """The report's tables, labelled in ``lang``."""
    c = upgrade(content)
    w = lambda k: word(k, lang)  # noqa: E731
    names = c.get("facility_names", {})
    generated = c.get("generated_at")
    summary = Table(
        w("summary"),
        f"{w('title')}, {c.get('region_name', c['region'])}, {_month(c['month'], lang)}",
        [w("measure"), w("value")],
        [
            [w("region"), c.get("region_name", c["region"])],
            [w("month"), _month(c["month"], lang)],
            [w("from"), date.fromisoformat(c["from"])],
            [w("to"), date.fromisoformat(c["to"])],
        ],
    )
    if generated:
        local = datetime.fromisoformat(generated).astimezone(LOCAL).replace(tzinfo=None)
        summary.rows.append([w("generated_at"), local])
    summary.rows.append([w("status"), w("in_progress" if c.get("in_progress") else "final")])
    for k in ("total", "shown_available", "searches", "accepted"):
        summary.rows.append([w(k), c["summary"][k]])
    summary.rows.append([w("refusal_rate"), _pct(c["summary"]["refusal_rate"])])
    summary.notes = [w("suppressed_legend"), w("na_legend"), w("rate_legend"), w("time_zone")]
    out = [summary]

    facility = c["groups"]["facility"]
    fac = Table(
        w("facility"),
        w("chart_facility"),
        [
            w("facility"),
            w("count"),
            w("shown_available"),
            w("accepted"),
            w("refusal_rate"),
            w("hours_stop"),
            w("hours_full"),
            w("facility_id"),
        ],
        [
            [
                names.get(r["key"], r["key"]),
                r["count"],
                r["shown_available"],
                r["accepted"],
                _pct(r["refusal_rate"]),
                _hours(r.get("hours_stop")),
                _hours(r.get("hours_full")),
                r["key"],
            ]
            for r in facility
        ],
        chart=(0, 1, len(facility)),
        notes=[w("full_legend")],
    )
    s = c["summary"]
    fac.rows.append(
        [
            w("sum"),
            s["total"],
            s["shown_available"],
            s["accepted"],
            _pct(s["refusal_rate"]),
            "",
            "",
            "",
        ]
    )
    out.append(fac)

    reasons = c["groups"]["reason"]
    out.append(
        Table(
            w("reason"),
            w("chart_reason"),
            [w("reason"), w("count"), w("shown_available")],
            [[value("reason", r["key"], lang), r["count"], r["shown_available"]] for r in reasons]
            + [[w("sum"), s["total"], s["shown_available"]]],
            chart=(0, 1, len(reasons)),
        )
    )
    cross = c.get("facility_reason")
    if cross:
        counts = {r["key"]: r["count"] for r in facility}
        by_reason = {r["key"]: r["count"] for r in reasons}
        rows = [
            [
                names.get(r["key"], r["key"]),
                *[r["cells"][x] for x in cross["reasons"]],
                counts.get(r["key"], 0),
                r["key"],
            ]
            for r in cross["rows"]
        ]
        rows.append([w("sum"), *[by_reason.get(x, 0) for x in cross["reasons"]], s["total"], ""])
        out.append(
            Table(
                w("facility_reason")[:31],
                w("facility_reason"),
                [
                    w("facility"),
                    *[value("reason", x, lang) for x in cross["reasons"]],
                    w("sum"),
                    w("facility_id"),
                ],
                rows,
            )
        )
    for g in GROUPINGS:
        if g in ("facility", "reason"):
            continue
        rows = [
            [
                _label(g, r["key"], names, lang),
                r["count"],
                r["shown_available"],
                r["accepted"],
                _pct(r["refusal_rate"]),
            ]
            for r in c["groups"][g]
        ]
        rows.append(
            [w("sum"), s["total"], s["shown_available"], s["accepted"], _pct(s["refusal_rate"])]
        )
        out.append(
            Table(
                f"{w('by')} {w(g).lower()}"[:31],
                f"{w('by')} {w(g).lower()}",
                [w(g), w("count"), w("shown_available"), w("accepted"), w("refusal_rate")],
                rows,
            )
        )
    o = c["outcomes"]
    outcome_rows = [
        [value("outcome", k, lang), o[k]]
        for k in ("placed", "home_birth", "birth_en_route", "unknown")
        if k in o
    ]
    outcome_rows += [
        [w("recorded"), o["recorded"]],
        [w("placed_outside_region_flag"), o["placed_outside_region"]],
        [w("median_calls_until_placement"), o["median_calls_until_placement"]],
        [w("median_minutes_until_placement"), o["median_minutes_until_placement"]],
    ]
    out.append(Table(w("outcome"), w("outcomes"), [w("outcome"), w("value")], outcome_rows))
    out.append(
        Table(
            w("capacity"),
            w("capacity"),
            [
                w("facility"),
                w("category"),
                w("hours_red"),
                w("hours_stop"),
                w("hours_stale"),
                w("facility_id"),
            ],
            [
                [
                    r.get("facility_name", names.get(r["facility_id"], r["facility_id"])),
                    value("category", r["category"], lang),
                    Hours(r["hours_red"]),
                    Hours(r["hours_stop"]),
                    Hours(r["hours_stale"]),
                    r["facility_id"],
                ]
                for r in c["capacity"]
            ],
        )
    )
    return out


def text(v: Any, lang: Lang, decimal: str = ",") -> str:
    """A cell as text: markers for suppressed and not applicable, Dutch decimal commas."""
    if is_suppressed(v):
        return word("suppressed", lang)
    if v is None:
        return word("na", lang)
    if isinstance(v, Pct):
        return f"{v * 100:.1f}%".replace(".", decimal)
    if isinstance(v, float):
        return f"{v:.1f}".replace(".", decimal)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


# ---- HTML -----------------------------------------------------------------------------------


def _bars(table: Table, lang: Lang) -> str:
    # SVG bars: their width is an attribute, which a Content-Security-Policy does not govern (an
    # inline style attribute is refused under the service's policy, leaving bars 0 px wide).
    assert table.chart is not None
    label, column, n = table.chart
    rows = table.rows[:n]
    number = lambda v: v if isinstance(v, int) and not is_suppressed(v) else 0  # noqa: E731
    top = max([number(r[column]) for r in rows] + [1])
    lines = "".join(
        f"<tr><td>{html.escape(str(r[label]))}</td>"
        f"<td class=n>{html.escape(text(r[column], lang))}</td>"
        f"<td><svg width={BAR} height=12 aria-hidden=true><rect class=bar fill=#c0392b "
        f"width={number(r[column]) * BAR // top} height=12 /></svg></td></tr>"
        for r in rows
    )
    return f"<h2>{html.escape(table.title)}</h2><table>{lines}</table>"


def _html_table(table: Table, lang: Lang) -> str:
    def cell(v: Any) -> str:
        if is_suppressed(v):
            kind = " class='n x'"
        elif v is None:
            kind = " class='n na'"
        elif isinstance(v, int | float) and not isinstance(v, bool):
            kind = " class=n"
        else:
            kind = ""
        return f"<td{kind}>{html.escape(text(v, lang))}</td>"

    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in table.rows)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in table.notes)
    return (
        f"<h2>{html.escape(table.title)}</h2><div class=wide><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>{notes}"
    )


def to_html(content: dict[str, Any], lang: Lang) -> str:
    """A self-contained page with bar charts (no scripts, printable)."""
    parts = tables(content, lang)
    summary, rest = parts[0], parts[1:]
    status = word("in_progress" if content.get("in_progress") else "final", lang)
    charts = "".join(_bars(t, lang) for t in rest if t.chart)
    legend = "".join(f"<li>{html.escape(n)}</li>" for n in summary.notes)
    return (
        f"<!doctype html><html lang={lang}><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(summary.title)}</title><style>{STYLE}</style>"
        f"<h1>{html.escape(summary.title)}</h1><p class=status>{html.escape(status)}</p>"
        f"<h2>{html.escape(word('legend', lang))}</h2><ul>{legend}</ul>"
        f"{_html_table(summary, lang)}{charts}"
        + "".join(_html_table(t, lang) for t in rest)
        + "</html>"
    )


# ---- CSV ------------------------------------------------------------------------------------


def to_csv(content: dict[str, Any], lang: Lang, sep: str = ";") -> bytes:
    """Every table in turn (title, header, rows, a blank line), with a UTF-8 BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    decimal = "," if sep == ";" else "."
    for t in tables(content, lang):
        writer.writerow([t.title])
        writer.writerow(t.columns)
        writer.writerows([text(v, lang, decimal) for v in row] for row in t.rows)
        writer.writerows([n] for n in t.notes)
        writer.writerow([])
    return ("\ufeff" + buffer.getvalue()).encode()


# ---- XLSX -----------------------------------------------------------------------------------


def _xlsx_value(v: Any, lang: Lang) -> tuple[Any, str | None]:
    if is_suppressed(v) or v is None:
        return text(v, lang), None
    if isinstance(v, Pct):
        return float(v), FORMATS["pct"]
    if isinstance(v, float):
        return float(v), FORMATS["hours"]
    if isinstance(v, bool):
        return text(v, lang), None
    if isinstance(v, int):
        return v, FORMATS["int"]
    if isinstance(v, datetime):
        return v, FORMATS["time"]
    if isinstance(v, date):
        return v, FORMATS["date"]
    return v, None


def to_xlsx(content: dict[str, Any], lang: Lang) -> bytes:
    """One sheet per table: header row frozen, real dates and numbers, bar charts."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for t in tables(content, lang):
        sheet = workbook.create_sheet(t.key.replace("/", "-")[:31])
        sheet.append(t.columns)
        for c in sheet[1]:
            c.font = bold
        widths = [len(h) for h in t.columns]
        for row in t.rows:
            cells = [_xlsx_value(v, lang) for v in row]
            sheet.append([v for v, _ in cells])
            for i, (v, fmt) in enumerate(cells):
                if fmt:
                    sheet.cell(row=sheet.max_row, column=i + 1).number_format = fmt
                widths[i] = max(widths[i], 16 if isinstance(v, datetime) else len(text(v, lang)))
        for note in t.notes:
            sheet.append([])
            sheet.append([note])
        sheet.freeze_panes = "B2"
        for i, width in enumerate(widths):
            letter = sheet.cell(row=1, column=i + 1).column_letter
            sheet.column_dimensions[letter].width = min(max(width + 2, 8), 50)
        if t.chart and t.chart[2]:
            label, column, n = t.chart
            chart = BarChart()
            chart.type = "bar"
            chart.title = t.title
            chart.legend = None
            chart.add_data(
                Reference(sheet, min_col=column + 1, min_row=1, max_row=n + 1),
                titles_from_data=True,
            )
            chart.set_categories(Reference(sheet, min_col=label + 1, min_row=2, max_row=n + 1))
            chart.height, chart.width = max(7.5, 0.6 * n + 3), 16
            sheet.add_chart(chart, f"{sheet.cell(row=1, column=len(t.columns) + 2).column_letter}2")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
