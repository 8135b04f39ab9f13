"""The ICP rating calculator: a stage and a score → the plan's rating (section 2.1).

Stage *n* is scored from *n − 1* to *n*. The plan prints its bands with two decimals (0.70–0.89,
0.90–1.00), which leaves gaps such as 0.895: scores are therefore rounded to two decimals, half
up, before they are rated, and every rounded score falls in exactly one band.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.content_problems import ContentProblem

SCALE_FILE = "icp/scale.yaml"
TWO_PLACES = Decimal("0.01")


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    lower: Decimal
    upper: Decimal
    meaning: str
    entry: str | None = None  # the FAQ entry about this rating (icp-aceptable)


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    stages: int
    entry: str | None = None  # the FAQ entry about the whole scale (icp-escala)
    rounding_entry: str | None = None  # the FAQ entry on rounding, for scores it rounds
    bands: tuple[Band, ...]  # best first


@dataclass(frozen=True, slots=True)
class Rating:
    stage: int
    score: Decimal  # as rounded
    band: Band
    lower: Decimal  # absolute bounds of the band in this stage
    upper: Decimal
    better: Band | None  # the next band up, if any
    better_from: Decimal | None  # the score it starts at in this stage
    next_stage: bool  # Apto below the last stage
    was_rounded: bool = False  # the score had more than two decimals (1.895 -> 1.90)


class IcpError(ValueError):
    """Invalid stage or score; ``kind`` is ``stage`` or ``score``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def load_scale(content_dir: Path) -> tuple[Scale | None, list[ContentProblem]]:
    path = content_dir / SCALE_FILE
    try:
        scale = Scale.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None, [ContentProblem(SCALE_FILE, "", "file missing")]
    except (yaml.YAMLError, ValidationError) as exc:
        return None, [ContentProblem(SCALE_FILE, "", f"invalid: {exc}")]
    problems: list[ContentProblem] = []
    expected_upper = Decimal("1.00")
    for band in scale.bands:  # contiguous, best first, covering 0.00–1.00 in 0.01 steps
        if band.upper != expected_upper or band.lower > band.upper:
            problems.append(ContentProblem(SCALE_FILE, band.name, "bands must be contiguous"))
        expected_upper = band.lower - TWO_PLACES
    if expected_upper != Decimal("-0.01"):
        problems.append(ContentProblem(SCALE_FILE, "bands", "bands must reach down to 0.00"))
    return (scale if not problems else None), problems


def parse_number(text: str) -> Decimal:
    """``1.75``, ``1,75`` → Decimal; raises IcpError('score')."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise IcpError("score") from None
    if not value.is_finite():
        raise IcpError("score")
    return value


def rate(scale: Scale, stage: int, score: Decimal) -> Rating:
    if not 1 <= stage <= scale.stages:
        raise IcpError("stage")
    base = Decimal(stage - 1)
    if not base <= score <= base + 1:  # the range is checked before rounding
        raise IcpError("score")
    rounded = score.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    relative = rounded - base
    for index, band in enumerate(scale.bands):
        if band.lower <= relative <= band.upper:
            better = scale.bands[index - 1] if index > 0 else None
            return Rating(
                stage=stage,
                score=rounded,
                band=band,
                lower=(base + band.lower).quantize(TWO_PLACES),
                upper=(base + band.upper).quantize(TWO_PLACES),
                better=better,
                better_from=(base + better.lower).quantize(TWO_PLACES) if better else None,
                next_stage=index == 0 and stage < scale.stages,
                was_rounded=rounded != score,
            )
    raise IcpError("score")  # unreachable with a validated scale


# "etapa" as officers type it (etpa, eatpa, etap, fase), and a stage written as a number, a
# word or a Roman numeral, after the word ("etapa 2", "etapa dos", "etapa II") or as an ordinal
# before it ("2da etapa", "segunda etapa").
_STAGE_WORD = r"(?:etapa|etpa|eatpa|etaoa|etap|fase)"
_STAGE_WORDS = {
    "uno": 1, "una": 1, "i": 1, "dos": 2, "ii": 2, "tres": 3, "iii": 3, "cuatro": 4, "iv": 4,
    "cinco": 5, "v": 5, "primera": 1, "primer": 1, "1era": 1, "segunda": 2, "tercera": 3,
    "tercer": 3, "cuarta": 4, "quinta": 5,
}  # fmt: skip
_AFTER = r"\d{1,2}|uno|una|dos|tres|cuatro|cinco|iii|ii|iv|v|i"
_BEFORE = r"primera|primer|segunda|tercera|tercer|cuarta|quinta"
_STAGE = re.compile(
    rf"\b{_STAGE_WORD}\s*(?:n[°º.]?\s*)?({_AFTER})\b"
    rf"|(?<![\d.,])\b(\d{{1,2}})\s*(?:ra|da|ta|era|to|do|°|º)?\s*{_STAGE_WORD}\b"
    rf"|\b({_BEFORE})\s+{_STAGE_WORD}\b",
    re.I,
)
_SCORE = re.compile(r"(?<![\d.,])(\d(?:[.,]\d{1,4})?)(?![\d.,]*\d)")


def _stage_number(text: str) -> int:
    return int(text) if text.isdigit() else _STAGE_WORDS[text.lower()]


def find_stage_and_score(text: str) -> tuple[int, Decimal] | None:
    """A question that carries a stage and a score ("saqué 1.75 en la etapa 2")."""
    stage_match = _STAGE.search(text)
    if not stage_match:
        return None
    stage = _stage_number(next(g for g in stage_match.groups() if g))
    rest = text[: stage_match.start()] + " " + text[stage_match.end() :]
    numbers = [m.group(1) for m in _SCORE.finditer(rest) if any(c in m.group(1) for c in ".,")]
    if len(numbers) != 1:
        return None
    return stage, parse_number(numbers[0])
