"""iCalendar output: escaping, folding at 75 octets without splitting a character."""

from __future__ import annotations

import datetime as dt

from guanxi.interactions import ical
from guanxi.interactions.queries import CalendarItem


def test_escape_and_fold():
    assert ical.escape("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    line = "SUMMARY:" + "拜访客户" * 30
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line


def test_render_events():
    start = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
    items = [
        CalendarItem(uid="interaction-1", kind="interaction", start=start,
                     end=start + dt.timedelta(hours=1), title="face to face: 拜访", who="李",
                     customer="华信", url="/interactions/1/", icon="users",
                     description="第一行\n第二行"),
        CalendarItem(uid="task-2", kind="task", start=start, end=None, title="寄合同", who="李",
                     customer="", url="/interactions/tasks/2/", icon="checkbox", done=True),
    ]
    text = ical.render(items, name="Guanxi", host="crm.example", base_url="https://crm.example",
                       now=start)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert "UID:interaction-1@crm.example\r\n" in text
    assert "DTSTART:20260501T020000Z\r\nDTEND:20260501T030000Z\r\n" in text
    assert "DESCRIPTION:第一行\\n第二行\r\n" in text
    assert "SUMMARY:✓ 寄合同\r\n" in text and "TRANSP:TRANSPARENT" in text
    assert "URL:https://crm.example/interactions/tasks/2/" in text
    assert text.count("BEGIN:VEVENT") == text.count("END:VEVENT") == 2
