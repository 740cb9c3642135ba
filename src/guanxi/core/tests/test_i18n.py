"""The zh-Hans catalogue is complete, compiled, and served.

(a) django.po has no untranslated or fuzzy entry and keeps every placeholder;
(b) the committed django.mo says what django.po says (no stale build);
(c) pages come out in Simplified Chinese when asked for, by header or by cookie, and in
    English otherwise.
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from guanxi.core import testing

LC_MESSAGES = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"


# --- a minimal .po reader --------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(text: str) -> str:
    # A .po string is a C string literal; Python's literal syntax reads the same escapes.
    return ast.literal_eval(text)


def parse_po(path: Path) -> list[Entry]:
    """msgctxt / msgid / msgid_plural / msgstr[n] blocks with continuation lines and
    ``#,`` flags; obsolete (``#~``) entries are skipped."""
    entries: list[Entry] = []
    cur: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()

    def finish() -> None:
        nonlocal cur
        if cur is not None:
            entries.append(cur)
        cur = None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#"):
            if cur is not None and target is not None and target[0] == "msgstr":
                finish()  # a comment after msgstr starts the next entry
                target = None
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        m = _KEYWORD.match(line)
        if m:
            keyword, index, value = m.group(1), m.group(2), _unquote(m.group(3))
            if keyword in ("msgctxt", "msgid") and (
                    cur is None or (target is not None and target[0] == "msgstr")):
                finish()
                cur = Entry(flags=pending_flags, line=lineno)
                pending_flags = set()
            assert cur is not None, f"{path}:{lineno}: {keyword} outside an entry"
            if keyword == "msgctxt":
                cur.msgctxt, target = value, ("msgctxt", 0)
            elif keyword == "msgid":
                cur.msgid, target = value, ("msgid", 0)
            elif keyword == "msgid_plural":
                cur.msgid_plural, target = value, ("msgid_plural", 0)
            else:
                n = int(index) if index is not None else 0
                cur.msgstr[n], target = value, ("msgstr", n)
            continue
        if line.startswith('"') and cur is not None and target is not None:
            value = _unquote(line)
            kind, n = target
            if kind == "msgstr":
                cur.msgstr[n] += value
            elif kind == "msgid_plural":
                cur.msgid_plural = (cur.msgid_plural or "") + value
            elif kind == "msgctxt":
                cur.msgctxt = (cur.msgctxt or "") + value
            else:
                cur.msgid += value
            continue
        raise AssertionError(f"{path}:{lineno}: cannot read {raw!r}")
    finish()
    return entries


def _messages() -> list[Entry]:
    return [e for e in parse_po(PO) if e.msgid != ""]


def _header() -> dict[str, str]:
    head = next(e for e in parse_po(PO) if e.msgid == "" and e.msgctxt is None)
    out = {}
    for row in head.msgstr[0].splitlines():
        name, _, value = row.partition(":")
        out[name.strip()] = value.strip()
    return out


# --- (a) complete --------------------------------------------------------------------------


def test_po_parses_and_has_messages():
    assert PO.exists(), "run makemessages -l zh_Hans"
    assert len(_messages()) > 300


def test_po_header():
    head = _header()
    assert head["Language"] == "zh_Hans"
    assert head["Content-Type"] == "text/plain; charset=UTF-8"
    assert head["Plural-Forms"].startswith("nplurals=1;")
    header_entry = next(e for e in parse_po(PO) if e.msgid == "")
    assert "fuzzy" not in header_entry.flags


def test_every_message_is_translated_and_not_fuzzy():
    untranslated = [f"{e.line}: {e.msgid!r}" for e in _messages()
                    if not e.msgstr or any(not s for s in e.msgstr.values())]
    fuzzy = [f"{e.line}: {e.msgid!r}" for e in _messages() if "fuzzy" in e.flags]
    assert not untranslated, "untranslated in django.po:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy in django.po:\n" + "\n".join(fuzzy)


def test_plural_entries_fill_the_one_chinese_form():
    for e in _messages():
        if e.msgid_plural is not None:
            assert set(e.msgstr) == {0}, f"line {e.line}: zh-Hans has one plural form"


_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{\w*\}")


def test_placeholders_are_kept():
    bad = []
    for e in _messages():
        want = sorted(_PLACEHOLDER.findall(e.msgid))
        for s in e.msgstr.values():
            if sorted(_PLACEHOLDER.findall(s)) != want:
                bad.append(f"{e.line}: {e.msgid!r} -> {s!r}")
    assert not bad, "\n".join(bad)


def test_chinese_text_is_chinese():
    """A msgstr left in English by mistake (copied msgid) is caught; the few that are
    legitimately the same in both languages are listed."""
    same_ok = {"QQ", "SKU"}
    copied = [e.msgid for e in _messages() if e.msgstr.get(0) == e.msgid
              and e.msgid not in same_ok]
    assert not copied


def test_domain_terms():
    """The lifecycle stages and customer kinds use the terms of shared/DOMAIN.md."""
    by_id = {e.msgid: e.msgstr[0] for e in _messages()}
    expected = {
        "suspect": "潜在客户", "prospect": "意向客户", "first-time customer": "首次购买客户",
        "repeat customer": "重复购买客户", "loyal client": "忠诚客户",
        "lost customer": "流失客户", "consumer customer": "消费客户",
        "intermediary customer": "中间商客户", "internal customer": "内部客户",
        "public customer": "公众客户", "buyer-seller": "买卖关系",
        "preferred supply": "优先供应关系", "partnership": "合作伙伴关系",
        "strategic alliance": "战略联盟关系", "purchase motive": "购买动机",
        "personality": "个性", "interest communities": "兴趣社群", "owner": "负责人",
        "lifecycle stage": "客户生命周期阶段", "Audit trail": "审计日志",
    }
    for msgid, zh in expected.items():
        if msgid in by_id:
            assert by_id[msgid] == zh, msgid


# --- (b) compiled --------------------------------------------------------------------------


def compile_mo(entries: list[Entry], header: str, out: Path) -> None:
    """A GNU .mo file (little-endian, no hash table), as msgfmt would write it."""
    pairs: dict[bytes, bytes] = {b"": header.encode()}
    for e in entries:
        if "fuzzy" in e.flags or not all(e.msgstr.values()):
            continue
        key = e.key if e.msgid_plural is None else f"{e.key}\x00{e.msgid_plural}"
        value = "\x00".join(e.msgstr[i] for i in sorted(e.msgstr))
        pairs[key.encode()] = value.encode()
    keys = sorted(pairs)
    n = len(keys)
    ids_at = 28
    strs_at = ids_at + 8 * n
    data_at = strs_at + 8 * n
    id_table, str_table, blob = [], [], b""
    for k in keys:
        id_table.append((len(k), data_at + len(blob)))
        blob += k + b"\x00"
    for k in keys:
        v = pairs[k]
        str_table.append((len(v), data_at + len(blob)))
        blob += v + b"\x00"
    head = struct.pack("<7I", 0x950412DE, 0, n, ids_at, strs_at, 0, data_at)
    table = b"".join(struct.pack("<2I", *t) for t in id_table + str_table)
    out.write_bytes(head + table + blob)


def _load(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as f:
        return gettext.GNUTranslations(f)


def _fresh_mo(tmp_path: Path) -> Path:
    out = tmp_path / "fresh.mo"
    msgfmt = shutil.which("msgfmt")
    if msgfmt:
        subprocess.run([msgfmt, "--check", "-o", str(out), str(PO)], check=True,
                       capture_output=True, text=True)
    else:
        head = next(e for e in parse_po(PO) if e.msgid == "")
        compile_mo(_messages(), head.msgstr[0], out)
    return out


def _catalog(t: gettext.GNUTranslations) -> dict:
    return {k: v for k, v in t._catalog.items() if k != ""}


def test_committed_mo_matches_po(tmp_path):
    assert MO.exists(), "run compilemessages"
    committed = _load(MO)
    stale = []
    for e in _messages():
        if e.msgid_plural is not None:
            got = [committed.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1)
                   if e.msgctxt is not None else committed.ngettext(e.msgid, e.msgid_plural, 1)]
            want = [e.msgstr[0]]
        else:
            got = [committed.pgettext(e.msgctxt, e.msgid) if e.msgctxt is not None
                   else committed.gettext(e.msgid)]
            want = [e.msgstr[0]]
        if got != want:
            stale.append(f"{e.msgid!r}: .mo has {got[0]!r}, .po has {want[0]!r}")
    assert not stale, "django.mo is older than django.po; run compilemessages:\n" + \
        "\n".join(stale[:20])
    # Nothing in the .mo that the .po no longer has.
    assert _catalog(committed) == _catalog(_load(_fresh_mo(tmp_path)))


def test_pure_python_compiler_agrees_with_msgfmt(tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is missing: make test installs it (package gettext)"
    ours = tmp_path / "ours.mo"
    head = next(e for e in parse_po(PO) if e.msgid == "")
    compile_mo(_messages(), head.msgstr[0], ours)
    theirs = tmp_path / "theirs.mo"
    subprocess.run([msgfmt, "-o", str(theirs), str(PO)], check=True)
    assert _catalog(_load(ours)) == _catalog(_load(theirs))


def test_parser_reads_multiline_plural_context_and_fuzzy(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\n#| msgid "old"\nmsgid "a %(n)s"\nmsgstr "甲 %(n)s"\n\n'
        'msgctxt "verb"\nmsgid ""\n"long "\n"line"\nmsgstr ""\n"长"\n"行"\n'
        '#: b.py:2\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] "个"\n\n'
        '#~ msgid "gone"\n#~ msgstr "无"\n',
        encoding="utf-8")
    e = parse_po(po)
    assert [x.msgid for x in e] == ["", "a %(n)s", "long line", "one"]
    assert "fuzzy" in e[1].flags and "python-format" in e[1].flags
    assert e[2].msgctxt == "verb" and e[2].msgstr == {0: "长行"} and not e[2].flags
    assert e[3].msgid_plural == "many" and e[3].msgstr == {0: "个"}
    mo = tmp_path / "x.mo"
    compile_mo(e[1:], "Language: zh_Hans\nContent-Type: text/plain; charset=UTF-8\n"
               "Plural-Forms: nplurals=1; plural=0;\n", mo)
    t = _load(mo)
    # Looked up through variables: literal arguments would be extracted by makemessages.
    fuzzy_id, ctxt, long_id, one, many = "a %(n)s", "verb", "long line", "one", "many"
    assert t.gettext(fuzzy_id) == fuzzy_id  # fuzzy is left out, as msgfmt does
    assert t.pgettext(ctxt, long_id) == "长行"
    assert t.ngettext(one, many, 5) == "个"


# --- (c) served ----------------------------------------------------------------------------

ZH_WORDS = ["客户", "导出 CSV", "新建客户", "退出登录", "全部阶段", "潜在客户", "个人"]
EN_WORDS = ["Customers", "Export CSV", "New customer", "Sign out", "Any stage", "suspect",
            "person"]


@pytest.fixture
def customer_list(client, users):
    from guanxi.customers import services

    services.customer_create(actor=testing.actor(users["sales1"]),
                             data={"name": "Acme Trading"})
    client.force_login(users["sales1"])
    return client


def _assert_chinese(html: str) -> None:
    assert '<html lang="zh-hans">' in html
    for word in ZH_WORDS:
        assert word in html, word
    for word in EN_WORDS:
        assert f">{word}<" not in html and f"{word}</" not in html, word
    assert "New customer" not in html and "Export CSV" not in html


def _assert_english(html: str) -> None:
    assert '<html lang="en">' in html
    for word in EN_WORDS:
        assert word in html, word
    for word in ZH_WORDS:
        assert word not in html, word


@pytest.mark.django_db
def test_customer_list_in_chinese_by_accept_language(customer_list):
    r = customer_list.get("/customers/", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert r.status_code == 200
    _assert_chinese(r.content.decode())


@pytest.mark.django_db
def test_customer_list_in_chinese_by_cookie(customer_list, settings):
    customer_list.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    r = customer_list.get("/customers/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    _assert_chinese(r.content.decode())


@pytest.mark.django_db
def test_customer_list_in_english(customer_list):
    r = customer_list.get("/customers/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    _assert_english(r.content.decode())
    r = customer_list.get("/customers/")
    _assert_english(r.content.decode())


@pytest.mark.django_db
def test_language_switch_sets_the_cookie_and_remembers_it(customer_list, settings, users):
    from django.test import Client
    from django.urls import reverse

    r = customer_list.post(reverse("set_language"),
                           {"language": "zh-hans", "next": "/customers/"})
    assert r.status_code == 302
    assert r.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    _assert_chinese(customer_list.get("/customers/").content.decode())
    # On another browser (no cookie) the user's saved language applies.
    other = Client()
    other.force_login(users["sales1"])
    _assert_chinese(other.get("/customers/", HTTP_ACCEPT_LANGUAGE="en").content.decode())


@pytest.mark.django_db
def test_customer_page_and_form_in_chinese(customer_list):
    from guanxi.customers.models import Customer

    pk = Customer.objects.get(name="Acme Trading").pk
    html = customer_list.get(f"/customers/{pk}/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    for word in ["基本资料", "负责人", "客户生命周期阶段", "潜在客户", "联系方式", "时间线",
                 "授权同意", "个人 · 消费客户"]:
        assert word in html, word
    history = customer_list.get(f"/customers/{pk}/timeline/",
                                HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "创建" in history
    for word in ["Profile", "Lifecycle stage", "Timeline", "Consent", "consumer customer"]:
        assert f">{word}<" not in html, word
    html = customer_list.get("/customers/new/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    for word in ["新建客户", "客户类别", "消费客户类型", "来源渠道", "购买动机", "个性",
                 "兴趣社群", "手机号码", "保存", "取消"]:
        assert word in html, word
    for word in ["New customer", "Purchase motive", "purchase motive", "Mobile phone"]:
        assert word not in html, word


@pytest.mark.xfail(strict=True, reason=(
    "Django 6.1's blank choice label '- Select an option -' (BLANK_CHOICE_LABEL) is not in "
    "Django's own zh_Hans catalogue, and makemessages does not extract it from Django; the "
    "project has to mark it (e.g. gettext_noop in its own code) and translate it."))
@pytest.mark.django_db
def test_blank_choice_label_in_chinese(customer_list):
    html = customer_list.get("/customers/new/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "Select an option" not in html


def test_zh_hans_groups_amounts_by_thousands():
    """Amounts read ¥3,078,000 in both languages (Django's zh_Hans formats leave them
    ungrouped)."""
    from django.template import Context, Template
    from django.utils import translation

    t = Template("{% load humanize %}{{ v|floatformat:0|intcomma }} {{ d|floatformat:2 }}")
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            assert t.render(Context({"v": 3078000.4, "d": 1234.5})) == "3,078,000 1234.50"
