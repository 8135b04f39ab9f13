"""What officers type for their profile: accepted, normalised, or refused with a reason."""

from __future__ import annotations

import pytest

from bot.validation import check_email, check_name, check_phone, check_position


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("María Quispe Huamán", "María Quispe Huamán"),
        ("  josé   de la cruz  ", "josé de la cruz"),
        ("Ana O'Neill-Ríos", "Ana O'Neill-Ríos"),
    ],
)
def test_names_accepted(typed: str, stored: str) -> None:
    assert check_name(typed).value == stored


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("Ana", "need_surname"),
        ("", "bad_name"),
        ("R2D2 Robot", "bad_name"),
        ("😀😀 😀", "bad_name"),
        ("<b>Ana</b> Pérez", "bad_name"),
        ("Ana " + "x" * 200, "too_long"),
    ],
)
def test_names_refused(typed: str, error: str) -> None:
    assert check_name(typed).error == error


def test_position() -> None:
    assert check_position("Jefa de la OII").value == "Jefa de la OII"
    assert check_position("🙂🙂🙂").error == "bad_position"
    assert check_position("x" * 121).error == "too_long"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ana.perez@minsa.gob.pe", "ana.perez@minsa.gob.pe"),
        ("  Ana.Perez@MINSA.GOB.PE ", "Ana.Perez@minsa.gob.pe"),
    ],
)
def test_emails_accepted(typed: str, stored: str) -> None:
    assert check_email(typed).value == stored


@pytest.mark.parametrize("typed", ["ana", "ana@", "@minsa.gob.pe", "ana perez@minsa.gob.pe",
                                   "'; DROP TABLE officers; --"])
def test_emails_refused(typed: str) -> None:
    assert check_email(typed).error == "bad_email"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("987654321", "+51 987 654 321"),
        ("+51 987 654 321", "+51 987 654 321"),
        ("987-654-321", "+51 987 654 321"),
        ("01 219 7000", "+51 1 2197000"),
        ("(01) 219-7000 anexo 1234", "+51 1 2197000 anexo 1234"),
        ("2197000", "+51 1 2197000"),
        ("084 231234", "+51 84 231234"),
    ],
)
def test_phones_accepted(typed: str, stored: str) -> None:
    assert check_phone(typed).value == stored


@pytest.mark.parametrize("typed", ["12345", "98765432", "9876543210", "hola", "+1 202 555 0101",
                                   "9" * 50])
def test_phones_refused(typed: str) -> None:
    assert not check_phone(typed).ok
