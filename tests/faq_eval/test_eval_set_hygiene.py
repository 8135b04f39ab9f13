"""Hygiene of the FAQ evaluation set in ``tests/faq_eval/``.

The evaluation questions measure the ranker; the entries' ``question`` and ``alternatives`` tune
it. The two must stay apart, or the measurement flatters the ranker. These tests check that:

- the files are well formed and big enough (>= 220 in-domain, >= 45 out-of-domain questions);
- no evaluation question equals, or is nearly verbatim (rapidfuzz ratio >= 92 after folding case,
  accents and punctuation), any entry's question or alternative;
- every ``expected`` id exists among the loaded entries (curated and generated);
- every curated entry is the expected answer of at least one in-domain question.

If a new entry's alternative collides with an evaluation question, rephrase the *evaluation
question* only if the alternative was written independently; never copy questions from here into
``content/faq``.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parents[2]
CONTENT_DIR = ROOT / "content"
EVAL_DIR = Path(__file__).resolve().parent
IN_DOMAIN = EVAL_DIR / "in_domain.yaml"
OUT_OF_DOMAIN = EVAL_DIR / "out_of_domain.yaml"

NEAR_VERBATIM = 92  # rapidfuzz ratio on folded text
MIN_IN_DOMAIN = 220
MIN_OUT_OF_DOMAIN = 45


def fold(text: str) -> str:
    """Lowercase, drop accents and punctuation, collapse spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", no_marks.lower()).split())


def _load_questions(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("questions"), list), path
    return data["questions"]


def _raw_entries() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in sorted((CONTENT_DIR / "faq").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        entries.extend(data.get("entries") or [])
    return entries


def _generated_entries() -> list[dict[str, Any]]:
    """Entries built from data (networks, months), when the project's loader can build them."""
    try:
        from bot import faq_content
        from bot.catalog import load_catalog
    except ImportError:
        return []
    load_faq = getattr(faq_content, "load_faq", None)
    if load_faq is None:
        return []
    catalog, _ = load_catalog(CONTENT_DIR)
    plan = _load_plan()
    params = inspect.signature(load_faq).parameters
    args: list[Any] = [CONTENT_DIR]
    if "catalog" in params:
        args.append(catalog)
    if "plan" in params:
        args.append(plan)
    result = load_faq(*args)
    if isinstance(result, tuple):  # (entries, problems)
        result = result[0]
    entries = getattr(result, "entries", result) or []
    out = []
    for entry in entries:
        if getattr(entry, "generated", False):
            out.append(
                {
                    "id": entry.id,
                    "question": entry.question,
                    "alternatives": list(entry.alternatives),
                    "generated": True,
                }
            )
    return out


def _load_plan() -> Any:
    """The yearly plan data, if the project has a loader for it; ``None`` otherwise."""
    for module_name, func_name in (
        ("bot.plan", "load_plan"),
        ("scheduling.plan", "load_plan"),
        ("bot.plan_content", "load_plan"),
    ):
        try:
            module = __import__(module_name, fromlist=[func_name])
        except ImportError:
            continue
        func = getattr(module, func_name, None)
        if func is None:
            continue
        result = func(CONTENT_DIR)
        return result[0] if isinstance(result, tuple) else result
    return None


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    curated = _raw_entries()
    if not curated:
        pytest.skip("content/faq has no entries yet")
    known = {e["id"] for e in curated}
    generated = [e for e in _generated_entries() if e["id"] not in known]
    return curated + generated


@pytest.fixture(scope="module")
def in_domain() -> list[dict[str, Any]]:
    return _load_questions(IN_DOMAIN)


@pytest.fixture(scope="module")
def out_of_domain() -> list[dict[str, Any]]:
    return _load_questions(OUT_OF_DOMAIN)


def test_files_are_well_formed(in_domain, out_of_domain) -> None:
    assert len(in_domain) >= MIN_IN_DOMAIN
    assert len(out_of_domain) >= MIN_OUT_OF_DOMAIN
    for item in in_domain:
        assert set(item) == {"q", "expected"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item
        expected = item["expected"]
        assert isinstance(expected, list) and 1 <= len(expected) <= 3, item
        assert all(isinstance(i, str) and i for i in expected), item
        assert len(set(expected)) == len(expected), item
    for item in out_of_domain:
        assert set(item) == {"q"}, item
        assert isinstance(item["q"], str) and item["q"].strip(), item


def test_questions_are_unique(in_domain, out_of_domain) -> None:
    folded = [fold(item["q"]) for item in in_domain + out_of_domain]
    repeated = sorted({q for q in folded if folded.count(q) > 1})
    assert not repeated, repeated


def test_expected_ids_exist(entries, in_domain) -> None:
    ids = {e["id"] for e in entries}
    unknown = sorted({i for item in in_domain for i in item["expected"] if i not in ids})
    assert not unknown, f"expected ids not among the entries: {unknown}"


def test_every_curated_entry_is_covered(entries, in_domain) -> None:
    expected = {i for item in in_domain for i in item["expected"]}
    uncovered = sorted(
        e["id"] for e in entries if not e.get("generated") and e["id"] not in expected
    )
    assert not uncovered, f"curated entries with no evaluation question: {uncovered}"


def test_no_question_leaks_from_the_entries(entries, in_domain, out_of_domain) -> None:
    tuning: list[tuple[str, str]] = []
    for entry in entries:
        for text in [entry.get("question") or "", *(entry.get("alternatives") or [])]:
            if text:
                tuning.append((entry["id"], fold(text)))
    collisions = []
    for item in in_domain + out_of_domain:
        q = fold(item["q"])
        for entry_id, text in tuning:
            score = fuzz.ratio(q, text)
            if q == text or score >= NEAR_VERBATIM:
                collisions.append(f"{item['q']!r} ~ {entry_id}: {text!r} ({score:.0f})")
    assert not collisions, "\n".join(collisions)
