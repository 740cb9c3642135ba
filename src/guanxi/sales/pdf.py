"""A quote as a printable PDF, in the reader's language, with a real CJK font embedded.

The font is a subset of a CJK OpenType or TrueType font (``.otf``, ``.ttf`` or a ``.ttc``
collection, CFF or TrueType outlines), so Chinese shows in every PDF viewer without fonts
of its own. It comes from the setting ``GUANXI_PDF_FONT`` (a path), else from the first of
the usual system locations that exists (Debian's ``fonts-noto-cjk`` first). In a collection
the Simplified Chinese face is chosen. One face only: subsetting a CJK font is the costly
part of rendering, so emphasis is by size and colour rather than a second, bold face.

Rendering reads no database: the view passes a quote read through the access policy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.sales.services.quotes import line_amounts

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch: noto-fonts-cjk
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian: fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian: fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # Debian: fonts-arphic-uming
)
DEFAULT_COMPANY = "Guanxi 演示公司"
CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "JP¥"}
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (192, 57, 43)
RULE = (206, 212, 218)
HEAD_FILL = (241, 243, 245)


class PdfFontMissing(ImproperlyConfigured):
    """No CJK font could be found to embed."""


def font_file() -> tuple[str, int]:
    """(path, collection index) of the CJK face to embed."""
    configured = getattr(settings, "GUANXI_PDF_FONT", "") or ""
    candidates = (configured,) if configured else FONT_CANDIDATES
    path = next((p for p in candidates if p and Path(p).is_file()), None)
    if path is None:
        where = configured or ", ".join(FONT_CANDIDATES)
        raise PdfFontMissing(
            f"No CJK font found for PDFs (looked at {where}). Install Debian's fonts-noto-cjk "
            f"or set GUANXI_PDF_FONT to a CJK .ttf, .otf or .ttc file.")
    return path, _simplified_face(path)


@functools.cache
def _simplified_face(path: str) -> int:
    """The index of the Simplified Chinese face in a font collection (0 otherwise)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            family = font["name"].getDebugName(1) or ""
            if family.split()[-1:] == ["SC"] or "Simplified" in family:
                return index
    return 0


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _pct(value: Decimal) -> str:
    return f"{_qty(Decimal(value) * 100)}%"


@functools.cache
def _document_class():
    """The PDF class with the quote's footer (fpdf2 is imported on first use: it is slow to
    import and only this page needs it)."""
    from fpdf import FPDF

    class QuotePDF(FPDF):
        footer_text = ""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("cjk", "", 8)
            self.set_text_color(*MUTED)
            self.cell(0, 6, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")

    return QuotePDF


def render_quote(quote, lines: Sequence, *, company: str | None = None) -> bytes:
    """The quote as PDF bytes: company, customer, lines, totals, validity and notes, with
    labels in the active language."""
    from fpdf import FontFace, XPos, YPos
    from fpdf.enums import TableBordersLayout, WrapMode

    font_path, font_index = font_file()
    company = company or getattr(settings, "GUANXI_COMPANY_NAME", "") or DEFAULT_COMPANY
    pdf = _document_class()(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font("cjk", "", font_path, collection_font_number=font_index)
    title = _("Quote")
    pdf.set_title(f"{title} {quote.number}")
    pdf.set_author(company)
    pdf.set_creator("Guanxi CRM")
    pdf.set_lang(translation.get_language() or settings.LANGUAGE_CODE)
    pdf.footer_text = f"{company} · {title} {quote.number}"
    pdf.add_page()
    sign = CURRENCY_SIGNS.get(quote.currency, "")

    # Heading: company on the left, the document's title and number on the right.
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", "", 18)
    top = pdf.get_y()
    pdf.cell(110, 9, company)
    pdf.set_text_color(*ACCENT)
    pdf.cell(0, 9, title, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", "", 10)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(pdf.l_margin + 110, top + 10)
    pdf.cell(0, 6, quote.number, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if quote.status in ("draft", "pending", "rejected"):
        pdf.set_text_color(*ACCENT)
        pdf.cell(0, 6, _("Draft: not yet approved, not a binding offer."), align="R",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_draw_color(*RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)

    # Who and when.
    owner = quote.owner
    facts = [
        (_("Customer"), quote.customer.name),
        (_("Quote number"), quote.number),
        (_("Issued"), quote.issued_on.isoformat()),
        (_("Valid until"), quote.valid_until.isoformat() if quote.valid_until else "—"),
        (_("Currency"), quote.currency),
        (_("Prepared by"), " ".join(filter(None, [owner.get_full_name() or owner.username,
                                                  owner.email]))),
    ]
    pdf.set_text_color(*INK)
    for label, value in facts:
        pdf.set_font("cjk", "", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(32, 6, label)
        pdf.set_font("cjk", "", 11 if label == facts[0][0] else 10)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                       wrapmode=WrapMode.CHAR)
    pdf.ln(4)

    # The lines.
    pdf.set_font("cjk", "", 9)
    headings = ("#", _("Description"), _("Quantity"), _("Unit price"), _("Discount"),
                _("VAT"), _("Amount"))
    with pdf.table(
        col_widths=(7, 57, 20, 24, 20, 14, 38),
        text_align=("CENTER", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="", fill_color=HEAD_FILL, color=MUTED),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        line_height=6, padding=(1, 1.5), wrapmode=WrapMode.CHAR,
    ) as table:
        pdf.set_draw_color(*RULE)
        row = table.row()
        for heading in headings:
            row.cell(heading)
        for number, line in enumerate(lines, start=1):
            a = line_amounts(line.quantity, line.unit_price, line.discount, line.tax_rate)
            unit = getattr(getattr(line, "product", None), "unit", "") or ""
            row = table.row()
            row.cell(str(number))
            row.cell(line.description)
            row.cell(f"{_qty(line.quantity)} {unit}".strip())
            row.cell(_amount(line.unit_price))
            row.cell(_pct(line.discount) if line.discount else "—")
            row.cell(_pct(line.tax_rate))
            row.cell(_amount(a.net))
    pdf.ln(3)

    # Totals, on the right, kept together on one page.
    if pdf.get_y() > pdf.h - pdf.b_margin - 45:
        pdf.add_page()
    minus = "−" if quote.discount_total else ""
    rows = [(_("Subtotal"), f"{sign}{_amount(quote.subtotal)}"),
            (_("Discount"), f"{minus}{sign}{_amount(quote.discount_total)}"),
            (_("Net amount"), f"{sign}{_amount(quote.subtotal - quote.discount_total)}"),
            (_("VAT"), f"{sign}{_amount(quote.tax_total)}")]
    pdf.set_font("cjk", "", 10)
    with pdf.table(width=90, align="RIGHT", col_widths=(50, 40), text_align=("LEFT", "RIGHT"),
                   first_row_as_headings=False, borders_layout=TableBordersLayout.NONE,
                   line_height=6) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.set_font("cjk", "", 12)
    with pdf.table(width=90, align="RIGHT", col_widths=(50, 40), text_align=("LEFT", "RIGHT"),
                   first_row_as_headings=False,
                   borders_layout=TableBordersLayout.SINGLE_TOP_LINE, line_height=8) as table:
        row = table.row()
        row.cell(_("Total (%(currency)s)") % {"currency": quote.currency})
        row.cell(f"{sign}{_amount(quote.total)}")
    pdf.ln(6)

    # Validity and notes.
    pdf.set_font("cjk", "", 9)
    pdf.set_text_color(*INK)
    if quote.valid_until:
        pdf.multi_cell(0, 5, _("This quote is valid until %(date)s. Line amounts exclude VAT; "
                               "the total includes it.") % {"date": quote.valid_until.isoformat()},
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if quote.notes:
        pdf.ln(2)
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 6, _("Notes"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "", 9)
        pdf.multi_cell(0, 5, quote.notes, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                       wrapmode=WrapMode.CHAR)
    return bytes(pdf.output())
