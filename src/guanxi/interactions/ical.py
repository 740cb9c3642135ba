"""iCalendar (RFC 5545) output for the per-user calendar feed: interactions as events, tasks
as events at their due time (an event, not a VTODO, because calendar programs that subscribe
to a feed show events everywhere and to-dos rarely)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from guanxi.interactions.queries import CalendarItem

PRODID = "-//Guanxi CRM//Interactions//EN"


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 section 3.3.11)."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character (section 3.1)."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def render(items: Iterable[CalendarItem], *, name: str, host: str, base_url: str,
           now: dt.datetime) -> str:
    """The whole VCALENDAR as text with CRLF line ends."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}"]
    for item in items:
        end = item.end or item.start + dt.timedelta(minutes=30)
        summary = item.title
        if item.kind == "task":
            summary = ("✓ " if item.done else "☐ ") + summary
        if item.customer:
            summary = f"{summary} · {item.customer}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item.uid}@{host}",
            f"DTSTAMP:{stamp(item.updated or now)}",
            f"DTSTART:{stamp(item.start)}",
            f"DTEND:{stamp(end)}",
            f"SUMMARY:{escape(summary)}",
            f"URL:{base_url}{item.url}",
            f"CATEGORIES:{escape(item.kind)}",
        ]
        if item.description:
            lines.append(f"DESCRIPTION:{escape(item.description[:2000])}")
        if item.kind == "task":
            lines.append("TRANSP:TRANSPARENT")  # a due time does not make one busy
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
