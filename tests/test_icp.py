"""The ICP calculator against every band boundary of every stage of the plan's scale."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.icp import IcpError, Scale, find_stage_and_score, load_scale, parse_number, rate
from bot.settings import DEFAULT_CONTENT_DIR

# (relative lower, relative upper, name) exactly as the plan's table prints them
PLAN_BANDS = [
    ("0.90", "1.00", "Apto"),
    ("0.70", "0.89", "Aceptable"),
    ("0.40", "0.69", "En proceso"),
    ("0.11", "0.39", "Inicial"),
    ("0.00", "0.10", "Incipiente"),
]


@pytest.fixture(scope="module")
def scale() -> Scale:
    loaded, problems = load_scale(DEFAULT_CONTENT_DIR)
    assert problems == [] and loaded is not None
    return loaded


@pytest.mark.parametrize("stage", [1, 2, 3, 4, 5])
@pytest.mark.parametrize(("lower", "upper", "name"), PLAN_BANDS)
def test_every_boundary_of_every_stage(scale: Scale, stage: int, lower: str, upper: str,
                                       name: str) -> None:
    base = Decimal(stage - 1)
    for edge in (lower, upper):
        rating = rate(scale, stage, base + Decimal(edge))
        assert rating.band.name == name, (stage, edge)
    assert rate(scale, stage, base + Decimal(lower)).lower == base + Decimal(lower)


@pytest.mark.parametrize(
    ("stage", "score", "name"),
    [
        (1, "0.895", "Apto"),  # between the plan's bounds: rounded half up to 0.90
        (1, "0.8949", "Aceptable"),  # rounds to 0.89
        (1, "0.105", "Inicial"),  # rounds to 0.11
        (1, "0.1049", "Incipiente"),
        (2, "1.695", "Aceptable"),
        (2, "1.6949", "En proceso"),
        (3, "2.395", "En proceso"),
        (5, "4.999", "Apto"),  # rounds to 5.00
    ],
)
def test_values_between_two_decimal_bounds_are_rounded_half_up(
    scale: Scale, stage: int, score: str, name: str
) -> None:
    assert rate(scale, stage, Decimal(score)).band.name == name


def test_what_the_next_band_needs(scale: Scale) -> None:
    rating = rate(scale, 2, Decimal("1.75"))
    assert rating.band.name == "Aceptable"
    assert rating.better is not None and rating.better.name == "Apto"
    assert rating.better_from == Decimal("1.90")
    assert not rating.next_stage
    assert rate(scale, 2, Decimal("1.95")).next_stage
    assert not rate(scale, 5, Decimal("4.95")).next_stage  # there is no stage 6
    assert rate(scale, 3, Decimal("3.00")).better is None


@pytest.mark.parametrize(("stage", "score", "kind"),
                         [(0, "0.5", "stage"), (6, "5.5", "stage"), (2, "0.99", "score"),
                          (2, "2.01", "score"), (1, "-0.1", "score"), (2, "2.004", "score"),
                          (2, "0.996", "score")])
def test_invalid_stage_or_score(scale: Scale, stage: int, score: str, kind: str) -> None:
    with pytest.raises(IcpError) as raised:
        rate(scale, stage, Decimal(score))
    assert raised.value.kind == kind


@pytest.mark.parametrize("text", ["1,75", " 1.75 ", "1.750"])
def test_parse_number(text: str) -> None:
    assert parse_number(text) == Decimal("1.75")


@pytest.mark.parametrize("text", ["uno", "1.7.5", "nan", "inf", ""])
def test_parse_number_refuses(text: str) -> None:
    with pytest.raises(IcpError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("saque 1.75 en la etapa 2, que calificacion es", (2, Decimal("1.75"))),
        ("en la etapa 1 obtuvimos 0,85", (1, Decimal("0.85"))),
        ("2da etapa con 1.92 pasamos?", (2, Decimal("1.92"))),
        ("que es la etapa 2", None),
        ("guia de evaluacion 2 etapa 2", None),
        ("tengo 1.5 y 1.7 en la etapa 2", None),
        ("1.3 etapa 2 q nivel es", (2, Decimal("1.3"))),  # "3 etapa" is not the stage
        ("saque 1.8 en etpa 2 q nivel es", (2, Decimal("1.8"))),
        ("la entidad obtuvo 1.05 en la etapa dos, en q rango cae", (2, Decimal("1.05"))),
        ("segunda etapa: 1,4", (2, Decimal("1.4"))),
        ("etapa III con 2.95", (3, Decimal("2.95"))),
        ("fase 4 puntaje 3.5", (4, Decimal("3.5"))),
        ("3era etapa 2.7", (3, Decimal("2.7"))),
        ("cuantas etapas tiene el icp", None),
        ("la etapa i de la guia", None),
    ],
)
def test_questions_with_a_stage_and_a_score(text: str, found: object) -> None:
    assert find_stage_and_score(text) == found
