"""Hygiene of the FAQ development set (``tests/faq_dev/development.yaml``).

Three sets of text are kept apart:

- the entries' ``question`` and ``alternatives`` (``content/faq``): what the index holds;
- the development set: what the ranker's constants and the search vocabulary are tuned on
  (``python -m tests.benchmarks.faq --dev`` prints its figures and misses);
- the evaluation set (``tests/faq_eval``): what measures the result, never looked at to tune.

A development question that nearly repeats an evaluation question would let tuning leak into the
measurement, and one that nearly repeats an entry's phrasing measures nothing: both are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rapidfuzz import fuzz

from tests.faq_eval.test_eval_set_hygiene import (
    IN_DOMAIN,
    NEAR_VERBATIM,
    OUT_OF_DOMAIN,
    _generated_entries,
    _raw_entries,
    fold,
)

DEV_SET = Path(__file__).resolve().parent / "development.yaml"
NEAR_EVALUATION = 85  # stricter than NEAR_VERBATIM: the evaluation set must stay unseen
MIN_QUESTIONS = 300
MIN_OUT_OF_DOMAIN = 40


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    data = yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"questions", "out_of_domain"}
    return data


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    curated = _raw_entries()
    known = {e["id"] for e in curated}
    return curated + [e for e in _generated_entries() if e["id"] not in known]


def _dev_texts(dev: dict[str, Any]) -> list[str]:
    return [item["q"] for item in dev["questions"]] + list(dev["out_of_domain"])


def test_well_formed_and_big_enough(dev: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    assert len(dev["questions"]) >= MIN_QUESTIONS
    assert len(dev["out_of_domain"]) >= MIN_OUT_OF_DOMAIN
    ids = {e["id"] for e in entries}
    for item in dev["questions"]:
        assert set(item) == {"q", "expected"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        assert item["expected"] and set(item["expected"]) <= ids, item
    assert all(isinstance(q, str) and q.strip() for q in dev["out_of_domain"])
    folded = [fold(text) for text in _dev_texts(dev)]
    assert len(set(folded)) == len(folded), "a development question is repeated"


def test_apart_from_the_evaluation_set(dev: dict[str, Any]) -> None:
    evaluation = [
        fold(item["q"])
        for path in (IN_DOMAIN, OUT_OF_DOMAIN)
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ]
    close = [
        text
        for text in _dev_texts(dev)
        if any(fuzz.ratio(fold(text), other) >= NEAR_EVALUATION for other in evaluation)
    ]
    # The evaluation questions are not printed: only the development side of each collision.
    assert close == [], close


def test_apart_from_the_entries_phrasings(
    dev: dict[str, Any], entries: list[dict[str, Any]]
) -> None:
    phrasings = [
        (entry["id"], fold(text))
        for entry in entries
        for text in [entry.get("question") or "", *(entry.get("alternatives") or [])]
        if text
    ]
    close = [
        f"{text!r} ~ {entry_id}: {phrasing!r}"
        for text in _dev_texts(dev)
        for entry_id, phrasing in phrasings
        if fuzz.ratio(fold(text), phrasing) >= NEAR_VERBATIM
    ]
    assert close == [], "\n".join(close)
