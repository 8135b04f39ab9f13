"""Quality of the FAQ search on the real entries (``content/faq``) and the evaluation set.

The evaluation set (``tests/faq_eval/in_domain.yaml``, ``out_of_domain.yaml``) is written apart
from the entries and measures the ranker; it is never used to tune it. The ranker's weights and
the search vocabulary are tuned on the development set (``tests/faq_dev/development.yaml``,
``python -m tests.benchmarks.faq --dev``), its bands on the entries themselves and on the
invented off-topic questions below (``python -m tests.benchmarks.faq --calibration``).

Questions are asked as officers get them answered (``ask``): through the FAQ service, so a
question with a stage and a score is answered by the ICP calculator.

Run with ``-s`` to see the figures: ``.venv/bin/pytest tests/test_faq_quality.py -s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.catalog import DEFAULT_CONTENT_DIR, load_catalog
from bot.faq import FaqService, load_knowledge
from bot.faq_content import FaqEntry, load_faq
from bot.faq_search import FaqIndex, load_shorthand
from bot.plan import load_plan

EVAL_DIR = Path(__file__).resolve().parent / "faq_eval"
IN_DOMAIN = EVAL_DIR / "in_domain.yaml"
OUT_OF_DOMAIN = EVAL_DIR / "out_of_domain.yaml"

# Issue 3's thresholds. Measured when this was last changed (2026-11-27), on 508 in-domain and
# 88 off-topic questions: top-1 0.933, top-3 0.980, direct precision 0.994, off-topic answered
# 0.000. The first 372 questions alone give top-3 0.976, the fresh round of 136 gives 0.993
# (see the comments in tests/faq_eval/in_domain.yaml): the margin is one question.
MIN_TOP1 = 0.90
MIN_TOP3 = 0.98
MIN_DIRECT_PRECISION = 0.95
MAX_OOD_FALSE_ACCEPT = 0.10

# Off-topic questions written for the calibration of the bands (not taken from the evaluation
# set). At most one in fifty may get a direct answer ("¿Qué hora es?" shares its only word with
# "¿En qué fecha y hora exactas es cada sesión?": a bag of words cannot tell them apart).
MAX_OWN_OFF_TOPIC_ANSWERED = 0.02
OWN_OFF_TOPIC: tuple[str, ...] = (
    "¿Cuál es el clima en Lima mañana?",
    "receta de ceviche",
    "¿Quién ganó el partido de ayer?",
    "¿Cómo renuevo mi DNI?",
    "¿Dónde pago mis impuestos?",
    "¿Cuál es el tipo de cambio del dólar hoy?",
    "¿Cómo saco mi pasaporte?",
    "necesito un taxi al aeropuerto",
    "¿Qué hora es?",
    "cuéntame un chiste",
    "¿Cómo instalo Zoom en mi celular?",
    "¿Cuándo es el feriado de julio?",
    "¿Cuánto cuesta el pasaje a Cusco?",
    "¿Cómo cambio la contraseña de mi correo institucional?",
    "mi computadora no enciende",
    "¿Dónde queda el Ministerio de Salud?",
    "¿Cuál es el sueldo mínimo en el Perú?",
    "¿Cómo me afilio a EsSalud?",
    "¿Cuándo cobro mi CTS?",
    "¿Cuántos días de vacaciones me corresponden?",
    "quiero comprar una laptop",
    "¿Qué película me recomiendas?",
    "¿Cómo llego a Miraflores?",
    "¿Cuándo son las elecciones municipales?",
    "¿Quién es el presidente del Perú?",
    "¿Cómo tramito una licencia de conducir?",
    "horario de atención del banco de la nación",
    "¿Dónde puedo vacunarme contra la influenza?",
    "¿Qué es el SIAF?",
    "¿Cómo registro una orden de compra en el SIGA?",
    "¿Cuál es el plazo para declarar a la SUNAT?",
    "¿Cómo hago una transferencia bancaria?",
    "traduce hello al español",
    "¿Cuántos habitantes tiene Arequipa?",
    "¿Qué significa la palabra resiliencia?",
    "¿Cómo se calcula el IGV?",
    "¿Cuándo inicia el año escolar?",
    "¿Cómo postulo a una beca?",
    "¿Cómo se elige al alcalde?",
    "mi jefe no me paga las horas extra",
    "¿cómo hago un pedido de delivery?",
    "¿Cuál es la capital de Australia?",
    "¿Cómo funciona la inteligencia artificial?",
    "escribe un poema sobre el mar",
    "¿Dónde venden entradas para el concierto?",
    "¿Qué debo llevar a una entrevista de trabajo?",
    "¿cómo reseteo mi router?",
    "¿Cuál es el número de la central de emergencias?",
    "¿Cuándo pagan la gratificación de diciembre?",
    "¿Qué documentos necesito para casarme?",
    "¿Cómo inscribo a mi hijo en el colegio?",
    "¿Cuánto cuesta un certificado de antecedentes penales?",
    "quiero reservar una mesa para dos",
    "¿Cómo bajo de peso rápido?",
    "¿Qué es el fenómeno El Niño?",
    "¿Cómo se juega ajedrez?",
    "el ascensor del edificio está malogrado",
    "¿Cuándo llega mi pedido de Amazon?",
    "¿Cómo hago un gráfico en Excel?",
    "¿Cuáles son los requisitos para jubilarme?",
    "¿Quién pintó la Mona Lisa?",
    "¿Cuál es la mejor universidad del Perú?",
    "¿Cuántas calorías tiene una manzana?",
    "¿cómo se dice gracias en quechua?",
    "necesito un certificado médico",
    "¿Dónde estaciono mi carro?",
    "¿Cuánto gana un oficial de integridad?",
    "¿Qué día es hoy?",
    "¿A qué hora abre la municipalidad?",
    "¿Cómo saco una cita en el hospital?",
)


@cache
def real_entries() -> tuple[FaqEntry, ...]:
    catalog, catalog_problems = load_catalog(DEFAULT_CONTENT_DIR)
    assert catalog is not None, catalog_problems
    plan, plan_problems = load_plan(DEFAULT_CONTENT_DIR)
    assert plan is not None, plan_problems
    entries, _ = load_faq(DEFAULT_CONTENT_DIR, catalog, plan)
    assert entries, "no FAQ entries in content/faq"
    return tuple(entries)


@cache
def real_index() -> FaqIndex:
    shorthand, problems = load_shorthand(DEFAULT_CONTENT_DIR)
    assert problems == []
    return FaqIndex(real_entries(), shorthand)


@cache
def real_service() -> FaqService:
    catalog, _ = load_catalog(DEFAULT_CONTENT_DIR)
    assert catalog is not None
    knowledge, problems = load_knowledge(DEFAULT_CONTENT_DIR, catalog)
    assert knowledge is not None, problems
    return FaqService(None, knowledge)


def _questions(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        pytest.skip(f"{path.relative_to(EVAL_DIR.parent.parent)} does not exist yet")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("questions"), list), path
    return data["questions"]


@dataclass(frozen=True)
class EvalFigures:
    top1: float
    top3: float
    mrr: float
    direct_precision: float
    ood_false_accept: float
    n_in: int
    n_ood: int
    bands_in: dict[str, int]
    n_answer: int

    def line(self) -> str:
        return (
            f"FAQ eval: top1={self.top1:.3f} top3={self.top3:.3f} mrr={self.mrr:.3f} "
            f"direct_precision={self.direct_precision:.3f} "
            f"ood_false_accept={self.ood_false_accept:.3f} "
            f"(n_in={self.n_in}, n_ood={self.n_ood}, in-domain bands={self.bands_in})"
        )


def ask(service: FaqService, question: str) -> tuple[str, list[str]]:
    """What an officer gets, as ``faq ask --json`` reports it: the band and the entry ids.

    A question with a stage and a score is answered by the ICP calculator; its entries are the
    rating's and the scale's. One of fewer than two letters or digits is not searched."""
    result = service.search(question, limit=5)
    band = {"calculator": "answer", "too_short": "fallback"}.get(result.band, result.band)
    if result.band == "calculator" and result.rating is None:  # the valid ranges, no rating
        band = "suggest"
    return band, [hit.entry.id for hit in result.hits]


def evaluate(
    service: FaqService,
    in_domain: Sequence[dict[str, Any]],
    out_of_domain: Sequence[dict[str, Any]],
) -> EvalFigures:
    top1 = top3 = 0
    reciprocal = 0.0
    answered = answered_right = 0
    bands = {"answer": 0, "suggest": 0, "fallback": 0}
    for item in in_domain:
        expected = set(item["expected"])
        band, ids = ask(service, str(item["q"]))
        bands[band] += 1
        top1 += bool(ids[:1]) and ids[0] in expected
        top3 += any(i in expected for i in ids[:3])
        rank = next((n for n, i in enumerate(ids, 1) if i in expected), None)
        reciprocal += 1 / rank if rank else 0.0
        if band == "answer":
            answered += 1
            answered_right += ids[:1] != [] and ids[0] in expected
    false_accepts = sum(ask(service, str(item["q"]))[0] == "answer" for item in out_of_domain)
    n_in = max(len(in_domain), 1)
    return EvalFigures(
        top1=top1 / n_in,
        top3=top3 / n_in,
        mrr=reciprocal / n_in,
        direct_precision=answered_right / answered if answered else 1.0,
        ood_false_accept=false_accepts / max(len(out_of_domain), 1),
        n_in=len(in_domain),
        n_ood=len(out_of_domain),
        bands_in=bands,
        n_answer=answered,
    )


def test_evaluation_set() -> None:
    in_domain = _questions(IN_DOMAIN)
    out_of_domain = _questions(OUT_OF_DOMAIN)
    figures = evaluate(real_service(), in_domain, out_of_domain)
    print()
    print(figures.line())
    assert figures.top1 >= MIN_TOP1, figures.line()
    assert figures.top3 >= MIN_TOP3, figures.line()
    assert figures.direct_precision >= MIN_DIRECT_PRECISION, figures.line()
    assert figures.ood_false_accept <= MAX_OOD_FALSE_ACCEPT, figures.line()


def test_evaluation_expects_known_entries() -> None:
    known = {entry.id for entry in real_entries()}
    unknown = sorted(
        {i for item in _questions(IN_DOMAIN) for i in item["expected"] if i not in known}
    )
    assert unknown == []


def test_every_phrasing_finds_its_own_entry() -> None:
    """Each entry's question and alternatives, asked as written, rank their entry first."""
    index = real_index()
    misses: list[str] = []
    total = 0
    for entry in real_entries():
        for text in (entry.question, *entry.alternatives):
            total += 1
            hits = index.ask(text).hits
            if not hits or hits[0].entry.id != entry.id:
                found = hits[0].entry.id if hits else None
                misses.append(f"{entry.id}: {text!r} -> {found}")
    print(f"\nown phrasings: {total - len(misses)}/{total} rank their entry first")
    assert len(misses) <= 0.01 * total, "\n".join(misses)


def test_own_off_topic_questions_are_not_answered() -> None:
    index = real_index()
    answered = [q for q in OWN_OFF_TOPIC if index.ask(q).band == "answer"]
    fallback = sum(index.ask(q).band == "fallback" for q in OWN_OFF_TOPIC)
    print(
        f"\nown off-topic: {len(answered)} answered, {fallback} fallback "
        f"of {len(OWN_OFF_TOPIC)}: {answered}"
    )
    assert len(answered) <= MAX_OWN_OFF_TOPIC_ANSWERED * len(OWN_OFF_TOPIC), answered


@pytest.mark.parametrize(
    ("question", "network"),
    [
        ("soy de la sunat, que brechas tiene nuestra red", "red-economia-finanzas"),
        ("trabajo en el inpe q componentes hay que reforzar", "red-justicia-derechos-humanos"),
        ("senamhi prioridades icp", "red-ambiente"),
        ("somos de essalud en que componentes estamos mal", "red-trabajo-promocion-empleo"),
        ("soy de pension 65 q componentes priorizan", "red-desarrollo-inclusion-social"),
        ("gobierno regional en huaraz q componentes tenemos que mejorar", "red-gr-ancash"),
    ],
)
def test_attached_bodies_find_their_network(question: str, network: str) -> None:
    """An officer who names an attached body, a programme or a regional seat gets that network."""
    ids = [hit.entry.id for hit in real_index().ask(question).hits]
    assert ids[:1] == [f"brechas-{network}"], ids


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("q asistencias hay en el quinto mes", "cronograma-mayo"),
        ("temas del mes 7", "cronograma-julio"),
        ("que sesiones hay para el dia de la madre", "cronograma-mayo"),
        ("capacitaciones de fiestas patrias", "cronograma-julio"),
        ("q hay en agos", "cronograma-agosto"),
        ("sesiones del ultimo mes de las asistencias", "cronograma-octubre"),
        ("en que esta debil el gobierno regional puneno", "brechas-red-gr-puno"),
        ("brechas del gore cuzqueño", "brechas-red-gr-cusco"),
        ("cuantas fases tiene la evaluacion del icp", "icp-cuantas-etapas"),
    ],
)
def test_months_regions_and_stages_in_officers_words(question: str, expected: str) -> None:
    """A month by its number or its date, a region by its people's name, a stage as "fase"."""
    ids = [hit.entry.id for hit in real_index().ask(question).hits]
    assert ids[:1] == [expected], ids
