"""A year's report as an Excel workbook (openpyxl): one sheet per section — Cobertura,
Solicitudes, Asistencia —, bold header rows, real numbers (percentages as fractions with a
percent format, dates as Lima-time dates) and native Excel bar charts (coverage by network,
requests by component, attendance by session). Every word comes from ``content/labels.yaml``;
names of levels, networks and components from the catalogue (through :class:`YearReport`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports import Count, CoverageRow, YearReport
from bot.texts import Texts

Cell = str | int | float | datetime | None
PERCENT = "0.0%"
DATE = "yyyy-mm-dd hh:mm"
BOLD = Font(bold=True)


def report_filename(year: int) -> str:
    return f"reporte-{year}.xlsx"


def report_xlsx(report: YearReport, texts: Texts, tz: ZoneInfo) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    book.properties.title = texts.label("report_title", year=report.year)
    _coverage(book.create_sheet(texts.label("report_sheet_coverage")[:31]), report, texts)
    _requests(book.create_sheet(texts.label("report_sheet_requests")[:31]), report, texts)
    _attendance(book.create_sheet(texts.label("report_sheet_attendance")[:31]), report, texts, tz)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- sheets


def _coverage(sheet: Worksheet, report: YearReport, texts: Texts) -> None:
    coverage = report.coverage
    counts = ("entities", "covered", "coverage_pct", "approved", "pending")
    head = [texts.label("report_col_level"), *(texts.label(f"report_col_{c}") for c in counts)]
    rows = [[row.level_name or row.level, *_coverage_cells(row)] for row in coverage.levels]
    rows.append([texts.label("report_total"), *_coverage_cells(coverage.total)])
    _, last = _table(sheet, 1, head, rows, percent_columns=(4,), bold_last=True)

    head = [
        texts.label("report_col_level"),
        texts.label("report_col_network"),
        *(texts.label(f"report_col_{c}") for c in counts),
    ]
    rows = [
        [
            row.level_name or row.level,
            row.name or row.code or texts.label("report_no_network"),
            *_coverage_cells(row),
        ]
        for row in coverage.networks
    ]
    top, bottom = _table(sheet, last + 2, head, rows, percent_columns=(5,))
    _widths(sheet, [28, 46, 14, 16, 12, 14, 14])
    if bottom >= top:
        chart = BarChart()
        chart.type = "bar"  # horizontal: one bar per network, names readable
        chart.style = 10
        chart.title = texts.label("report_chart_coverage")
        chart.y_axis.number_format = PERCENT
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        chart.legend = None
        chart.add_data(Reference(sheet, min_col=5, min_row=top - 1, max_row=bottom),
                       titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=2, min_row=top, max_row=bottom))
        chart.height = max(8.0, 0.45 * (bottom - top + 1))
        chart.width = 18
        sheet.add_chart(chart, "J1")


def _coverage_cells(row: CoverageRow) -> list[Cell]:
    return [row.entities, row.covered, _ratio(row.covered, row.entities), row.approved,
            row.pending]


def _requests(sheet: Worksheet, report: YearReport, texts: Texts) -> None:
    r = report.requests
    head = [texts.label("report_col_indicator"), texts.label("report_col_value")]
    rows: list[list[Cell]] = [
        [texts.label("report_requests_total"), r.total],
        [texts.label("report_requests_open"), r.open],
        [texts.label("report_requests_closed"), r.closed],
        [texts.label("report_requests_overdue"), r.overdue],
        [texts.label("report_requests_responded"), r.responded],
        [texts.label("report_requests_median"), r.median_first_response_hours],
    ]
    _, last = _table(sheet, 1, head, rows)

    head = [texts.label("report_col_status"), texts.label("report_col_requests")]
    rows = [[texts.label(f"request_status_{c.key}"), c.count] for c in r.by_status]
    _, last = _table(sheet, last + 2, head, rows)

    head = [texts.label("report_col_component"), texts.label("report_col_requests")]
    rows = [[_component(c, texts), c.count] for c in r.by_component]
    top, bottom = _table(sheet, last + 2, head, rows)
    chart = BarChart()
    chart.type = "col"
    chart.style = 10
    chart.title = texts.label("report_chart_components")
    chart.legend = None
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    chart.y_axis.scaling.min = 0
    chart.add_data(Reference(sheet, min_col=2, min_row=top - 1, max_row=bottom),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=top, max_row=bottom))
    chart.height, chart.width = 9, 20
    sheet.add_chart(chart, "F1")

    head = [
        texts.label("report_col_level"),
        texts.label("report_col_network"),
        texts.label("report_col_requests"),
    ]
    rows = [
        [c.level_name, c.name or c.key or texts.label("report_no_network"), c.count]
        for c in r.by_network
    ]
    _table(sheet, bottom + 2, head, rows)
    _widths(sheet, [44, 46, 14])


def _component(count: Count, texts: Texts) -> str:
    if count.key is None:
        return texts.label("request_other_topic")
    return texts.label("request_component", n=count.key, name=count.name)


def _attendance(sheet: Worksheet, report: YearReport, texts: Texts, tz: ZoneInfo) -> None:
    a = report.attendance
    columns = (
        "date", "session", "kind", "mandatory", "invited", "accepted", "declined", "attended",
        "attended_pct", "entities_convened", "entities_present", "present_pct",
    )
    head = [texts.label(f"report_col_{c}") for c in columns]
    yes, no = texts.label("report_yes"), texts.label("report_no")
    rows: list[list[Cell]] = []
    for x in a.sessions:
        rows.append(
            [
                x.start_at.astimezone(tz).replace(tzinfo=None, microsecond=0),
                x.title,
                texts.label(f"kind_{x.kind}"),
                yes if x.mandatory else no,
                x.invited,
                x.accepted,
                x.declined,
                x.attended,
                _ratio(x.attended, x.invited),
                x.entities_convened,
                x.entities_present,
                _ratio(x.entities_present, x.entities_convened),
            ]
        )
    rows.append(
        [
            texts.label("report_total"),
            None,
            None,
            None,
            a.invited,
            a.accepted,
            a.declined,
            a.attended,
            _ratio(a.attended, a.invited),
            a.entities_convened,
            a.entities_present,
            _ratio(a.entities_present, a.entities_convened),
        ]
    )
    top, bottom = _table(sheet, 1, head, rows, percent_columns=(9, 12), bold_last=True)
    for cell in sheet["A"][top - 1 : bottom - 1]:
        cell.number_format = DATE
    _widths(sheet, [17, 50, 22, 12, 12, 12, 12, 12, 12, 14, 14, 14])
    if a.sessions:
        chart = BarChart()
        chart.type = "col"
        chart.style = 10
        chart.title = texts.label("report_chart_attendance")
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        chart.y_axis.scaling.min = 0
        chart.add_data(Reference(sheet, min_col=5, min_row=top - 1, max_row=bottom - 1),
                       titles_from_data=True)
        chart.add_data(Reference(sheet, min_col=8, min_row=top - 1, max_row=bottom - 1),
                       titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=top, max_row=bottom - 1))
        chart.height, chart.width = 9, 24
        sheet.add_chart(chart, f"A{bottom + 3}")


# ---------------------------------------------------------------- helpers


def _table(
    sheet: Worksheet,
    start: int,
    head: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    percent_columns: Sequence[int] = (),
    bold_last: bool = False,
) -> tuple[int, int]:
    """Write a bold header at row ``start`` and the rows under it; return the first and last
    data rows (last < first when there are none)."""
    for col, value in enumerate(head, start=1):
        sheet.cell(row=start, column=col, value=value).font = BOLD
    for offset, row in enumerate(rows, start=1):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(row=start + offset, column=col, value=value)
            if col in percent_columns:
                cell.number_format = PERCENT
            if bold_last and offset == len(rows):
                cell.font = BOLD
    if start == 1:
        sheet.freeze_panes = "A2"
    return start + 1, start + len(rows)


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _ratio(part: int | None, whole: int | None) -> float | None:
    """A share as a fraction (Excel shows it with the percent format); blank without a whole."""
    return part / whole if part is not None and whole else None
