"""Benchmark of the FAQ search on the real entries, and the figures its calibration rests on.

    .venv/bin/python -m tests.benchmarks.faq                # build time, answer latency
    .venv/bin/python -m tests.benchmarks.faq --calibration  # + leave-one-out, own off-topic

Latency is measured over the evaluation set's questions (``tests/faq_eval/``; the entries' own
phrasings when it does not exist yet): a cold pass (empty caches), then warm passes.

``--calibration`` prints what the constants of ``bot/faq_search.py`` were tuned on, never the
evaluation set: each phrasing of an entry (question or alternative) is left out of the index and
asked; it must find its own entry. Then the invented off-topic questions of
``tests/test_faq_quality.py`` must not be answered.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import yaml

from bot.catalog import DEFAULT_CONTENT_DIR, load_catalog
from bot.faq_content import FaqEntry, load_faq
from bot.faq_search import FaqIndex, Shorthand, load_shorthand
from bot.plan import load_plan

EVAL_DIR = Path(__file__).resolve().parents[1] / "faq_eval"
BUILD_ROUNDS = 5
WARM_ROUNDS = 3


def load_entries() -> list[FaqEntry]:
    catalog, problems = load_catalog(DEFAULT_CONTENT_DIR)
    if catalog is None:
        raise SystemExit(f"catalogue problems: {problems}")
    plan, _ = load_plan(DEFAULT_CONTENT_DIR)
    entries, _ = load_faq(DEFAULT_CONTENT_DIR, catalog, plan)
    return entries


def eval_questions(entries: Sequence[FaqEntry]) -> tuple[list[str], str]:
    questions: list[str] = []
    for name in ("in_domain.yaml", "out_of_domain.yaml"):
        path = EVAL_DIR / name
        if path.exists():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            questions += [str(item["q"]) for item in data.get("questions") or []]
    if questions:
        return questions, "evaluation set"
    return [p for e in entries for p in (e.question, *e.alternatives)], "entries' own phrasings"


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def benchmark(entries: Sequence[FaqEntry], shorthand: Shorthand) -> None:
    builds: list[float] = []
    index = FaqIndex(entries, shorthand)
    for _ in range(BUILD_ROUNDS):
        started = time.perf_counter()
        index = FaqIndex(entries, shorthand)
        builds.append(time.perf_counter() - started)
    documents = sum(1 + len(e.alternatives) for e in entries)
    print(
        f"index build: {len(entries)} entries, {documents} phrasings: "
        f"median {statistics.median(builds) * 1000:.1f} ms, max {max(builds) * 1000:.1f} ms "
        f"({BUILD_ROUNDS} builds)"
    )

    questions, origin = eval_questions(entries)
    index = FaqIndex(entries, shorthand)
    for label, rounds in (("cold", 1), ("warm", WARM_ROUNDS)):
        timings: list[tuple[float, str]] = []
        for _ in range(rounds):
            for question in questions:
                started = time.perf_counter()
                index.ask(question)
                timings.append((time.perf_counter() - started, question))
        values = [t for t, _ in timings]
        slowest, slowest_question = max(timings)
        print(
            f"ask ({label}, {len(questions)} questions of the {origin} x {rounds}): "
            f"p50 {percentile(values, 0.5) * 1000:.2f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:.2f} ms, "
            f"max {slowest * 1000:.2f} ms ({slowest_question[:60]!r})"
        )


def calibration(entries: Sequence[FaqEntry], shorthand: Shorthand) -> None:
    from tests.test_faq_quality import OWN_OFF_TOPIC

    cases = 0
    top1 = top3 = answered = answered_right = 0
    bands: Counter[str] = Counter()
    for position, entry in enumerate(entries):
        phrasings = [entry.question, *entry.alternatives]
        if len(phrasings) < 2:
            continue
        for left_out, text in enumerate(phrasings):
            rest = [p for n, p in enumerate(phrasings) if n != left_out]
            reduced = entry.model_copy(update={"question": rest[0], "alternatives": rest[1:]})
            others = [*entries[:position], reduced, *entries[position + 1 :]]
            result = FaqIndex(others, shorthand).ask(text)
            ids = [hit.entry.id for hit in result.hits]
            cases += 1
            bands[result.band] += 1
            top1 += ids[:1] == [entry.id]
            top3 += entry.id in ids[:3]
            if result.band == "answer":
                answered += 1
                answered_right += ids[:1] == [entry.id]
    print(
        f"leave-one-out ({cases} phrasings): top1={top1 / cases:.3f} top3={top3 / cases:.3f} "
        f"direct_precision={answered_right / max(answered, 1):.3f} bands={dict(bands)}"
    )
    index = FaqIndex(entries, shorthand)
    results = [index.ask(q) for q in OWN_OFF_TOPIC]
    off_bands = Counter(r.band for r in results)
    best = max((r.hits[0].score for r in results if r.hits), default=0.0)
    print(
        f"own off-topic ({len(results)} questions): bands={dict(off_bands)} best score {best:.3f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calibration", action="store_true", help="leave-one-out figures too")
    args = parser.parse_args(argv)
    entries = load_entries()
    shorthand, problems = load_shorthand(DEFAULT_CONTENT_DIR)
    if problems:
        raise SystemExit("\n".join(str(p) for p in problems))
    benchmark(entries, shorthand)
    if args.calibration:
        calibration(entries, shorthand)


if __name__ == "__main__":
    main()
