"""The quote PDF: it parses, embeds a CJK font (so Chinese shows in any viewer), carries the
Chinese text as text, follows the reader's language, and stays behind the access policy."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from guanxi.customers.tests.factories import customer
from guanxi.sales.services import quotes as services
from guanxi.sales.tests.test_quotes_services import make_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def quote(actors):
    cat = make_catalog(actors["admin"])
    acme = customer(actors["sales1"], "华信科技有限公司", kind="organisation")
    return services.quote_create(
        actor=actors["sales1"], customer_id=acme.pk, price_list_id=cat.price_list.pk,
        notes="交货期：合同签订后十五个工作日内。", lines=[
            {"product": cat.licence.pk, "quantity": Decimal("2"), "discount": Decimal("0.1")},
            {"description": "上门安装与培训（北京、上海、广州、深圳四地各一次，每次两天）",
             "unit_price": Decimal("3000"), "tax_rate": Decimal("0.06")}])


def text_of(reader: PdfReader) -> str:
    """The text layer (pypdf reads fpdf2's two-byte CID codes with a NUL before each
    character; the ToUnicode map itself is right, so the NULs are dropped)."""
    return "".join(page.extract_text() for page in reader.pages).replace("\x00", "")


def embedded_fonts(reader: PdfReader) -> list[tuple[str, str]]:
    """(font name, font file key) of every font on page 1 with its program embedded."""
    out = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        for part in [font, *(d.get_object() for d in font.get("/DescendantFonts", []))]:
            descriptor = part.get("/FontDescriptor")
            if descriptor is None:
                continue
            descriptor = descriptor.get_object()
            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                if key in descriptor:
                    out.append((str(part["/BaseFont"]), key))
    return out


def test_pdf_embeds_a_cjk_font_and_shows_chinese(client, users, quote, settings):
    settings.GUANXI_COMPANY_NAME = "关系演示贸易有限公司"
    client.force_login(users["sales1"])
    r = client.get(f"/sales/quotes/{quote.pk}/pdf/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'inline; filename="{quote.number}.pdf"'
    reader = PdfReader(io.BytesIO(r.content))
    fonts = embedded_fonts(reader)
    assert fonts and all(key in ("/FontFile2", "/FontFile3") for _, key in fonts)
    assert any("CJK" in name or "Hei" in name or "Ming" in name for name, _ in fonts)
    text = text_of(reader)
    for expected in ("关系演示贸易有限公司", "华信科技有限公司", quote.number, "企业版软件许可",
                     "交货期", "3,000.00", "5,010.60"):
        assert expected in text, expected
    # a quote not yet approved says so
    assert "not a binding offer" in text


def test_pdf_in_chinese_and_behind_the_policy(client, users, quote):
    client.force_login(users["sales1b"])
    r = client.get(f"/sales/quotes/{quote.pk}/pdf/?lang=zh-hans")
    assert r.status_code == 200
    text = text_of(PdfReader(io.BytesIO(r.content)))
    assert "Guanxi 演示公司" in text and "华信科技有限公司" in text
    client.force_login(users["sales2"])
    assert client.get(f"/sales/quotes/{quote.pk}/pdf/").status_code == 404


def test_missing_font_is_reported_not_a_crash(client, users, quote, settings):
    settings.GUANXI_PDF_FONT = "/nonexistent/font.ttc"
    client.force_login(users["sales1"])
    r = client.get(f"/sales/quotes/{quote.pk}/pdf/", follow=True)
    assert r.redirect_chain[-1][0] == f"/sales/quotes/{quote.pk}/"
    assert "GUANXI_PDF_FONT" in r.content.decode()
