"""Assistance requests as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads the accents) or
XLSX (openpyxl). Column headers and the names of statuses and channels come from
``content/labels.yaml``; components, networks and levels from the catalogue."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from bot.assistance import ExportRecord
from bot.catalog import Catalog
from bot.texts import Texts

FORMATS = ("csv", "xlsx")
COLUMNS = (
    "code",
    "created",
    "first_response",
    "closed",
    "entity",
    "network",
    "level",
    "component",
    "channel",
    "source",
    "status",
    "assignee",
    "first_response_hours",
    "resolution_hours",
)
DATE_COLUMNS = ("created", "first_response", "closed")
DATE_FORMAT = "%Y-%m-%d %H:%M"
Cell = str | int | float | datetime | None


def headers(texts: Texts) -> list[str]:
    return [texts.label(f"export_col_{c}") for c in COLUMNS]


def table(
    records: Sequence[ExportRecord], catalog: Catalog, texts: Texts, tz: ZoneInfo
) -> list[list[Cell]]:
    """One row per request, dates as naive datetimes in ``tz`` (the header says which)."""

    def local(value: datetime | None) -> datetime | None:
        return value.astimezone(tz).replace(tzinfo=None, microsecond=0) if value else None

    rows: list[list[Cell]] = []
    for r in records:
        network = catalog.maybe_network(r.network)
        level = catalog.maybe_level(r.level)
        rows.append(
            [
                r.code,
                local(r.created_at),
                local(r.first_response_at),
                local(r.closed_at),
                r.entity_name,
                network.name if network else (r.network or ""),
                level.name if level else r.level,
                catalog.component(r.component).name
                if r.component
                else texts.label("request_other_topic"),
                texts.label(f"request_channel_{r.channel}"),
                texts.label(f"request_source_{r.source}"),
                texts.label(f"request_status_{r.status}"),
                r.assignee or "",
                r.first_response_hours,
                r.resolution_hours,
            ]
        )
    return rows


def to_csv(head: list[str], rows: list[list[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    for row in rows:
        writer.writerow(
            [
                v.strftime(DATE_FORMAT)
                if isinstance(v, datetime)
                else ("" if v is None else v)
                for v in row
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(head: list[str], rows: list[list[Cell]], sheet_title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title[:31]
    sheet.append(head)
    for row in rows:
        sheet.append(row)
    for index, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        if name in DATE_COLUMNS:
            for cell in sheet[letter][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm"
        width = max(len(str(head[index - 1])), 12 if name in DATE_COLUMNS else 8)
        sheet.column_dimensions[letter].width = min(width + 2, 50)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_bytes(
    fmt: str,
    records: Sequence[ExportRecord],
    catalog: Catalog,
    texts: Texts,
    tz: ZoneInfo,
) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    head = headers(texts)
    rows = table(records, catalog, texts, tz)
    if fmt == "csv":
        return to_csv(head, rows)
    return to_xlsx(head, rows, texts.label("export_sheet"))


def filename(fmt: str, year: int | None) -> str:
    return f"solicitudes-{year if year is not None else 'todas'}.{fmt}"
