"""``integridad-bot faq ask`` as scripts use it (a real process)."""

from __future__ import annotations

import json
import subprocess
import sys

BIN = [sys.executable, "-m", "bot.cli", "faq", "ask"]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BIN, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def _check_shape(obj: dict[str, object], *, calculated: bool = False) -> None:
    """The issue's shape. A calculated rating's answer is the calculator's text, and its
    results the entries on that rating and on the scale."""
    assert list(obj) == ["band", "answer", "results"]
    assert obj["band"] in ("answer", "suggest", "fallback")
    results = obj["results"]
    assert isinstance(results, list) and len(results) <= 5
    for item in results:
        assert list(item) == ["id", "question", "answer", "score"]
    scores = [item["score"] for item in results]
    assert scores == sorted(scores, reverse=True)
    if obj["band"] == "answer" and results and not calculated:
        assert obj["answer"] == results[0]["answer"]
    if obj["band"] != "answer":
        assert obj["answer"] is None


def test_one_question_json() -> None:
    result = _run("que guia uso para la etapa 1", "--json")
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    _check_shape(obj)
    assert obj["results"]


def test_calculator_and_off_topic() -> None:
    calc = json.loads(_run("saque 1.75 en la etapa 2 que calificacion es", "--json").stdout)
    _check_shape(calc, calculated=True)
    assert calc["band"] == "answer" and "Aceptable" in calc["answer"]
    # the results are the entries on that rating and on the scale, then the ranker's
    ids = [r["id"] for r in calc["results"]]
    assert ids[:2] == ["icp-aceptable", "icp-escala"] and len(ids) == len(set(ids)) <= 5
    rounded = json.loads(_run("etapa 2: 1.895, es apto?", "--json").stdout)
    assert "Apto" in rounded["answer"] and "1.90" in rounded["answer"]
    ids = [r["id"] for r in rounded["results"]]
    assert ids[:3] == ["icp-apto", "icp-escala", "icp-redondeo"]
    # the rest of the question ("¿qué nos falta para pasar?") is still searched
    passing = "nos salio 1.85 en la etapa 2, que nos falta para pasar a la etapa 3"
    further = json.loads(_run(passing, "--json").stdout)
    assert "Aceptable" in further["answer"]
    assert "icp-pasar-etapa" in [r["id"] for r in further["results"]][2:]
    off = json.loads(_run("quien gano el partido de futbol", "--json").stdout)
    _check_shape(off)
    assert off["band"] == "fallback"


def test_stdin_one_object_per_line() -> None:
    lines = [
        "que es el icp",
        "",
        "?",
        "cuando es la capacitacion del sistema icp",
        "receta de ceviche",
    ]
    result = _run("--json", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 4  # blank lines are skipped
    for obj in objects:
        _check_shape(obj)
    assert objects[1]["band"] == "fallback"  # "?" alone


def test_human_readable_output() -> None:
    result = _run("que es el icp")
    assert result.returncode == 0 and result.stdout.startswith("[")
