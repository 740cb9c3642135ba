"""Text normalisation: pinyin search keys for names, phone numbers, e-mail addresses."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.conf import settings
from pypinyin import Style, lazy_pinyin

_LATIN = re.compile(r"[a-z0-9]+")


def _ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def pinyin_keys(name: str) -> tuple[str, str]:
    """Search keys for a name: full pinyin and initials, lower-case ASCII without spaces.

    ``张三`` → (``zhangsan``, ``zs``); ``John Smith`` → (``johnsmith``, ``js``). A Chinese
    character counts as one syllable, a Latin word as one word: ``阿里 Cloud`` → (``alicloud``,
    ``alc``).
    Heteronyms take pypinyin's most common reading (单 → dan).
    """
    full: list[str] = []
    initials: list[str] = []
    for piece in lazy_pinyin(name, style=Style.NORMAL, errors=lambda s: [s]):
        for word in _LATIN.findall(_ascii_fold(piece)):
            full.append(word)
            initials.append(word[0])
    return "".join(full)[:200], "".join(initials)[:60]


class PhoneError(ValueError):
    pass


def normalize_phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """Parse a phone number written in any common format.

    Returns (E.164 form ``+8613812345678``, search digits: the national number for the
    default region, else the E.164 digits). Raises :class:`PhoneError` with a readable reason.
    """
    region = region or settings.PHONE_DEFAULT_REGION
    text = (raw or "").strip()
    if not text:
        raise PhoneError("empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(str(exc.args[0]) if exc.args else "not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError("not a valid phone number")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    region_code = phonenumbers.region_code_for_number(number)
    digits = str(number.national_number) if region_code == region else e164.lstrip("+")
    return e164, digits


def format_phone(e164: str) -> str:
    """Display form: national format for the default region, international otherwise."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == settings.PHONE_DEFAULT_REGION:
        national = str(number.national_number)
        if len(national) == 11 and national.startswith("1"):
            return f"{national[:3]} {national[3:7]} {national[7:]}"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_search_digits(text: str) -> str | None:
    """If ``text`` looks like (part of) a phone number, the digits to search by prefix."""
    stripped = re.sub(r"[\s\-().+]", "", text)
    if len(stripped) >= 3 and stripped.isdigit():
        if stripped.startswith("0086"):
            stripped = stripped[4:]
        elif stripped.startswith("86") and len(stripped) == 13:
            stripped = stripped[2:]
        return stripped
    return None


def prefix_range(prefix: str) -> tuple[str, str]:
    """A [low, high) range matching every string starting with ASCII ``prefix`` on any
    database collation, so a plain btree index serves it."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
