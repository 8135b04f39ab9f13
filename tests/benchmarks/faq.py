"""Benchmark of the FAQ search on the real entries, and the figures its calibration rests on.

    .venv/bin/python -m tests.benchmarks.faq                # build time, answer latency
    .venv/bin/python -m tests.benchmarks.faq --calibration  # + leave-one-out, own off-topic
    .venv/bin/python -m tests.benchmarks.faq --calibration --every 1  # every phrasing (slow)

Latency is measured over the evaluation set's questions (``tests/faq_eval/``; the entries' own
phrasings when it does not exist yet): a cold pass (empty caches), then warm passes.

``--dev`` prints the figures of the *development set* (``tests/faq_dev/development.yaml``) and
every question of it the ranker gets wrong. That set was written apart from both the entries and
the evaluation set, the way the evaluation set was; it is what the ranker and the vocabulary are
tuned on, so the evaluation set stays a measurement (``tests/faq_dev/test_dev_set_hygiene.py``
keeps the three apart).

``--calibration`` prints what the constants of ``bot/faq_search.py`` were tuned on, never the
evaluation set: each phrasing of an entry (question or alternative) is left out of the index and
asked; it must find its own entry. Then the invented off-topic questions of
``tests/test_faq_quality.py`` must not be answered.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
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
DEV_SET = Path(__file__).resolve().parents[1] / "faq_dev" / "development.yaml"
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
    questions_hidden = origin == "evaluation set"
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
        # The evaluation set's questions are not printed: they measure, they must not tune.
        shown = f"{len(slowest_question)} characters" if questions_hidden else slowest_question
        print(
            f"ask ({label}, {len(questions)} questions of the {origin} x {rounds}): "
            f"p50 {percentile(values, 0.5) * 1000:.2f} ms, "
            f"p95 {percentile(values, 0.95) * 1000:.2f} ms, "
            f"max {slowest * 1000:.2f} ms ({shown[:60]!r})"
        )


def _leave_one_out(case: tuple[int, int]) -> tuple[str, bool, bool]:
    """Ask phrasing ``case[1]`` of entry ``case[0]`` with it left out of the index."""
    position, left_out = case
    entries, shorthand = _CALIBRATION
    entry = entries[position]
    phrasings = [entry.question, *entry.alternatives]
    rest = [p for n, p in enumerate(phrasings) if n != left_out]
    reduced = entry.model_copy(update={"question": rest[0], "alternatives": tuple(rest[1:])})
    others = [*entries[:position], reduced, *entries[position + 1 :]]
    result = FaqIndex(others, shorthand).ask(phrasings[left_out])
    ids = [hit.entry.id for hit in result.hits]
    return result.band, ids[:1] == [entry.id], entry.id in ids[:3]


_CALIBRATION: tuple[Sequence[FaqEntry], Shorthand] = ((), Shorthand())


def calibration(entries: Sequence[FaqEntry], shorthand: Shorthand, every: int) -> None:
    from tests.test_faq_quality import OWN_OFF_TOPIC

    global _CALIBRATION
    _CALIBRATION = (entries, shorthand)
    cases = [
        (position, n)
        for position, entry in enumerate(entries)
        if entry.alternatives
        for n in range(1 + len(entry.alternatives))
    ][::every]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        results = pool.map(_leave_one_out, cases, chunksize=8)
    bands = Counter(band for band, _, _ in results)
    top1 = sum(right for _, right, _ in results)
    top3 = sum(in_three for _, _, in_three in results)
    answered_right = sum(right for band, right, _ in results if band == "answer")
    n = len(results)
    print(
        f"leave-one-out ({n} phrasings, one in {every}, {time.perf_counter() - started:.0f} s): "
        f"top1={top1 / n:.3f} top3={top3 / n:.3f} "
        f"direct_precision={answered_right / max(bands['answer'], 1):.3f} bands={dict(bands)}"
    )
    index = FaqIndex(entries, shorthand)
    off_topic = {q: index.ask(q) for q in OWN_OFF_TOPIC}
    off_bands = Counter(r.band for r in off_topic.values())
    answered = [q for q, r in off_topic.items() if r.band == "answer"]
    print(
        f"own off-topic ({len(off_topic)} questions): bands={dict(off_bands)} answered={answered}"
    )


def development() -> None:
    """The development set's figures and its misses (top-3 misses, wrong direct answers)."""
    from tests.test_faq_quality import ask, evaluate, real_service

    data = yaml.safe_load(DEV_SET.read_text(encoding="utf-8"))
    in_domain = data["questions"]
    out_of_domain = [{"q": q} for q in data["out_of_domain"]]
    service = real_service()
    print(evaluate(service, in_domain, out_of_domain).line().replace("FAQ eval", "FAQ dev"))
    for item in in_domain:
        band, ids = ask(service, str(item["q"]))
        expected = set(item["expected"])
        if not expected & set(ids[:3]) or (band == "answer" and ids[0] not in expected):
            print(f"  miss [{band}] {item['q']!r} want {item['expected']} got {ids[:3]}")
    for item in out_of_domain:
        band, ids = ask(service, str(item["q"]))
        if band == "answer":
            print(f"  off-topic answered: {item['q']!r} -> {ids[:1]}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calibration", action="store_true", help="leave-one-out figures too")
    parser.add_argument("--dev", action="store_true", help="development-set figures and misses")
    parser.add_argument(
        "--every", type=int, default=3, help="leave out one phrasing in N (default 3; 1 = all)"
    )
    args = parser.parse_args(argv)
    entries = load_entries()
    shorthand, problems = load_shorthand(DEFAULT_CONTENT_DIR)
    if problems:
        raise SystemExit("\n".join(str(p) for p in problems))
    if args.dev:  # the shipped content, through the FAQ service as the bot asks it
        development()
        return
    benchmark(entries, shorthand)
    if args.calibration:
        calibration(entries, shorthand, max(args.every, 1))


if __name__ == "__main__":
    main()
