"""Validation of what officers type in their profile. Errors are keys rendered by templates."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

NAME_MAX = 120
POSITION_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 40

_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")
_PHONE_EXTENSION = re.compile(r"\s*(?:anexo|anx\.?|ext\.?|extensi[oó]n)\s*(\d{1,6})\s*$", re.I)
_PHONE_JUNK = re.compile(r"[\s\-().]")


@dataclass(frozen=True, slots=True)
class Checked:
    value: str | None
    error: str | None = None  # key of the reason, rendered by a template

    @property
    def ok(self) -> bool:
        return self.error is None


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", " ", text).strip()


def check_name(text: str) -> Checked:
    value = _clean(text)
    if len(value) > NAME_MAX:
        return Checked(None, "too_long")
    if len(value) < 3 or not _NAME_CHARS.match(value):
        return Checked(None, "bad_name")
    if len(value.split(" ")) < 2:
        return Checked(None, "need_surname")
    return Checked(value)


def check_position(text: str) -> Checked:
    value = _clean(text)
    if len(value) > POSITION_MAX:
        return Checked(None, "too_long")
    letters = sum(ch.isalpha() for ch in value)
    if len(value) < 3 or letters < 3 or any(unicodedata.category(c) == "So" for c in value):
        return Checked(None, "bad_position")
    return Checked(value)


def check_email(text: str) -> Checked:
    value = _clean(text)
    if len(value) > EMAIL_MAX:
        return Checked(None, "too_long")
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return Checked(None, "bad_email")
    return Checked(result.normalized)


def check_phone(text: str) -> Checked:
    """Peruvian phones: a 9-digit mobile (9XXXXXXXX) or a landline with its area code
    (Lima 01 + 7 digits, provinces 0XX + 6 digits; the leading 0 may be left out), optionally
    with +51 and an extension."""
    value = _clean(text)
    if len(value) > PHONE_MAX:
        return Checked(None, "too_long")
    extension = ""
    match = _PHONE_EXTENSION.search(value)
    if match:
        extension = match.group(1)
        value = value[: match.start()]
    digits = _PHONE_JUNK.sub("", value)
    if digits.startswith("+51"):
        digits = digits[3:]
    elif digits.startswith("0051"):
        digits = digits[4:]
    if not digits.isdigit():
        return Checked(None, "bad_phone")
    if len(digits) == 9 and digits.startswith("9"):
        number = f"+51 {digits[:3]} {digits[3:6]} {digits[6:]}"
    elif len(digits) == 9 and digits.startswith("01"):
        number = f"+51 1 {digits[2:]}"
    elif len(digits) == 9 and digits.startswith("0") and digits[1] in "45678":
        number = f"+51 {digits[1:3]} {digits[3:]}"
    elif len(digits) == 8 and digits.startswith("1"):
        number = f"+51 1 {digits[1:]}"
    elif len(digits) == 8 and digits[0] in "45678":
        number = f"+51 {digits[:2]} {digits[2:]}"
    elif len(digits) == 7 and digits[0] not in "09":
        number = f"+51 1 {digits}"  # a Lima landline typed without its area code
    else:
        return Checked(None, "bad_phone")
    if extension:
        number += f" anexo {extension}"
    return Checked(number)
