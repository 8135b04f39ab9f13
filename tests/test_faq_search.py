"""FAQ search on a small fixture: normalisation, typos, shorthand, acronyms, bands, junk input.

The fixture entries are written here, independently of ``content/faq`` and of the evaluation set
in ``tests/faq_eval/`` (``tests/test_faq_quality.py`` measures the real entries).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.catalog import DEFAULT_CONTENT_DIR
from bot.faq_content import FaqEntry, FaqSource
from bot.faq_search import (
    ANSWER_MARGIN,
    ANSWER_SCORE,
    SHORT_ANSWER_SCORE,
    SHORTHAND_FILE,
    FaqIndex,
    FaqResult,
    Shorthand,
    default_shorthand,
    load_shorthand,
)

SOURCE = FaqSource(document="Plan de Trabajo de Asistencias Técnicas 2025", confirmed=True)


def entry(entry_id: str, question: str, alternatives: list[str], answer: str) -> FaqEntry:
    return FaqEntry(
        id=entry_id,
        question=question,
        alternatives=tuple(alternatives),
        answer=answer,
        source=SOURCE,
    )


ENTRIES = [
    entry(
        "que-es-icp",
        "¿Qué es el ICP?",
        ["¿Para qué sirve el ICP?"],
        "Es el índice con el que la SIP mide cada año cuánto ha implementado una entidad el "
        "Modelo de Integridad, etapa por etapa.",
    ),
    entry(
        "escala-icp",
        "¿Cuál es la escala de calificación del ICP?",
        ["¿Qué significa apto, aceptable, en proceso, inicial e incipiente?"],
        "La escala tiene cinco calificaciones: Apto, Aceptable, En proceso, Inicial e "
        "Incipiente. Apto permite pasar a la siguiente etapa.",
    ),
    entry(
        "que-es-oii",
        # Only the spelled-out name: "oii" must still find it.
        "¿Qué es la Oficina de Integridad Institucional?",
        ["¿Qué unidad ejerce la función de integridad en la entidad?"],
        "Es la unidad que ejerce la función de integridad en la entidad, o la que haga sus veces.",
    ),
    entry(
        "modelo-integridad",
        "¿Qué es el Modelo de Integridad?",
        ["¿Qué norma aprueba el Modelo de Integridad?"],
        "Es el marco de nueve componentes aprobado por el Decreto Supremo N.º 148-2024-PCM.",
    ),
    entry(
        "asistencia-individual",
        "¿Cómo solicito una asistencia técnica individual?",
        ["¿Cómo pido una reunión con la SIP para absolver las consultas de mi entidad?"],
        "Use el botón «Solicitar asistencia» y describa su consulta; la SIP coordinará una "
        "reunión, videollamada, correo o llamada.",
    ),
    entry(
        "sectorial-obligatoria",
        "¿Es obligatoria la asistencia técnica sectorial?",
        ["¿Debo asistir a la sesión sectorial de mi red de integridad?"],
        "Sí. La participación de las entidades convocadas a una asistencia sectorial es "
        "obligatoria.",
    ),
    entry(
        "capacitacion-sistema-icp",
        "¿Cuándo es la capacitación sobre el uso del Sistema ICP?",
        ["¿En qué mes enseñan el llenado de formatos del Sistema ICP?"],
        "La primera sesión sobre el uso del Sistema ICP está prevista en mayo y la segunda en "
        "setiembre.",
    ),
    entry(
        "canal-denuncias",
        "¿Dónde se presenta una denuncia de corrupción?",
        ["¿Se puede denunciar de forma anónima?"],
        "En la Plataforma Digital Única de Denuncias del Ciudadano. Se admiten denuncias anónimas.",
    ),
    entry(
        "resultados-cuando",
        "¿Cuándo se publican los resultados del ICP?",
        [],
        "En el ciclo 2024 los resultados se publicaron en diciembre.",
    ),
    entry(
        "resultados-donde",
        "¿Dónde se publican los resultados del ICP?",
        [],
        "En el Reporte Nacional de Implementación del Modelo de Integridad.",
    ),
    entry(
        "guia-evaluacion-1",
        "¿Qué evalúa la Guía de Evaluación 1?",
        ["¿Qué contiene la guía de la etapa 1?"],
        "La Guía de Evaluación 1 describe los medios de verificación de la Etapa 1.",
    ),
    entry(
        "guia-evaluacion-2",
        "¿Qué evalúa la Guía de Evaluación 2?",
        ["¿Qué contiene la guía de la etapa 2?"],
        "La Guía de Evaluación 2 describe los medios de verificación de la Etapa 2.",
    ),
    entry(
        "cuantas-etapas",
        "¿Cuántas etapas tiene la evaluación del ICP?",
        ["numero de etapas del icp"],
        "El ICP se evalúa en cinco etapas.",
    ),
    entry(
        "veedor-seleccion",
        "¿Qué hace la OII como veedora en los procesos de selección de personal?",
        ["¿Qué dice la Directiva N.º 004-2024-PCM/SIP?"],
        "La Directiva N.º 004-2024-PCM/SIP regula la participación de la OII como veedora.",
    ),
]


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(ENTRIES)


def top_id(result: FaqResult) -> str | None:
    return result.hits[0].entry.id if result.hits else None


# --- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("¿QUÉ ES EL ÍNDICE DE CAPACIDAD PREVENTIVA FRENTE A LA CORRUPCIÓN?", "que-es-icp"),
        ("que es el indice de capacidad preventiva frente a la corrupcion", "que-es-icp"),
        ("¿Dónde se presenta una denuncia?", "canal-denuncias"),
        ("donde se presenta una denuncia", "canal-denuncias"),
        ("¿¿¿Es obligatoria la sectorial???", "sectorial-obligatoria"),
    ],
)
def test_accents_case_and_punctuation_do_not_matter(
    index: FaqIndex, query: str, expected: str
) -> None:
    result = index.ask(query)
    assert top_id(result) == expected
    assert result.band == "answer"


def test_accented_and_plain_queries_score_the_same(index: FaqIndex) -> None:
    accented = index.ask("¿Cuándo es la capacitación del Sistema ICP?")
    plain = index.ask("cuando es la capacitacion del sistema icp")
    assert [(h.entry.id, h.score) for h in accented.hits] == [
        (h.entry.id, h.score) for h in plain.hits
    ]


@pytest.mark.parametrize(
    ("query", "expected", "band"),
    [
        ("denunsia anonima", "canal-denuncias", "answer"),  # s for c
        ("capasitacion del sistema icp", "capacitacion-sistema-icp", "answer"),
        ("que es el modleo de integridad", "modelo-integridad", "answer"),  # transposition
        ("escala de calificasion", "escala-icp", None),
        ("asistensia tecnica individaul", "asistencia-individual", None),
    ],
)
def test_typos_are_corrected(index: FaqIndex, query: str, expected: str, band: str | None) -> None:
    result = index.ask(query)
    assert top_id(result) == expected
    if band is not None:
        assert result.band == band


def test_typo_correction_is_needed_for_those_queries() -> None:
    """Without the vocabulary word the misspelling is close to, the entry is not found."""
    without = FaqIndex([e for e in ENTRIES if e.id != "canal-denuncias"])
    assert top_id(without.ask("denunsia anonima")) != "canal-denuncias"
    assert without.ask("denunsia anonima").band == "fallback"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q es el icp", "que-es-icp"),
        ("k es el icp", "que-es-icp"),
        ("cdo es la capa del sistema icp", "capacitacion-sistema-icp"),
        ("xq es obligatoria la sectorial", "sectorial-obligatoria"),
        ("dnd presento una denuncia pf", "canal-denuncias"),
        ("hola buenos dias, q es el icp?? gracias", "que-es-icp"),
        ("q es el ipc", "que-es-icp"),  # a slip on the acronym, too short to be corrected
    ],
)
def test_chat_shorthand(index: FaqIndex, query: str, expected: str) -> None:
    result = index.ask(query)
    assert top_id(result) == expected
    assert result.band == "answer"


def test_shorthand_and_spelled_out_forms_score_the_same(index: FaqIndex) -> None:
    short = index.ask("xq es obligatoria la sectorial")
    full = index.ask("¿Por qué es obligatoria la sectorial?")
    assert short.hits and short.hits[0].score == full.hits[0].score


def test_acronym_finds_an_entry_that_spells_it_out(index: FaqIndex) -> None:
    result = index.ask("que es la oii")
    assert top_id(result) == "que-es-oii"
    assert result.band == "answer"


def test_spelled_out_name_finds_an_entry_that_uses_the_acronym(index: FaqIndex) -> None:
    result = index.ask("¿Qué es el índice de capacidad preventiva?")
    assert top_id(result) == "que-es-icp"


def test_acronym_keeps_its_own_token(index: FaqIndex) -> None:
    """ "pcm sip" appears only as acronyms in the directive number: still found."""
    assert top_id(index.ask("directiva 004 2024 pcm sip")) == "veedor-seleccion"


def test_dotted_acronyms_are_joined(index: FaqIndex) -> None:
    assert top_id(index.ask("¿qué es el I.C.P.?")) == "que-es-icp"


def test_question_words_tell_entries_apart(index: FaqIndex) -> None:
    when = index.ask("cuando publican los resultados del icp")
    where = index.ask("donde publican los resultados del icp")
    assert top_id(when) == "resultados-cuando"
    assert top_id(where) == "resultados-donde"
    assert when.band == where.band == "answer"


def test_typo_in_a_shorthand_question_word_is_corrected(index: FaqIndex) -> None:
    """ "cunatas" -> "cuantas" (a shorthand key) -> "cuanto": not an unknown word."""
    result = index.ask("cunatas etapas tiene el icp")
    assert top_id(result) == "cuantas-etapas"
    assert result.band == "answer"


def test_synonyms_are_read_as_the_same_word(index: FaqIndex) -> None:
    """ "asesoria" is a synonym of "asistencia" in the shipped vocabulary."""
    result = index.ask("como solicito una asesoria tecnica individual")
    assert top_id(result) == "asistencia-individual"
    assert result.band == "answer"


def test_numbers_tell_entries_apart(index: FaqIndex) -> None:
    assert top_id(index.ask("guia de evaluacion 1")) == "guia-evaluacion-1"
    assert top_id(index.ask("guia de evaluacion2")) == "guia-evaluacion-2"  # letters+digits
    assert top_id(index.ask("guía de evaluación n.º 2")) == "guia-evaluacion-2"
    assert top_id(index.ask("guia de evaluacion 002")) == "guia-evaluacion-2"


def test_a_number_is_read_with_the_word_before_it() -> None:
    """ "componente 1" is the component, not "componentes ... etapa 1"."""
    index = FaqIndex(
        [
            entry(
                "etapa-1",
                "¿Qué componentes tienen más brechas en la Etapa 1?",
                [],
                "Respuesta uno.",
            ),
            entry("componente-1", "¿Qué es el componente 1, Alta Dirección?", [], "Respuesta dos."),
            entry(
                "componente-2",
                "¿Qué es el componente 2, Gestión de riesgos?",
                [],
                "Respuesta tres.",
            ),
        ]
    )
    assert top_id(index.ask("componente 1")) == "componente-1"
    assert top_id(index.ask("componentes de la etapa 1")) == "etapa-1"


# --- bands --------------------------------------------------------------------------------------


def test_a_question_that_is_a_phrasing_is_answered() -> None:
    """Asked exactly as one of its phrasings (typed plainly), an entry is a direct answer even
    when a neighbour is nearly the same question."""
    index = FaqIndex(
        [
            entry("general", "¿Qué es la asistencia técnica?", [], "Texto general."),
            entry("sectorial", "¿Qué es la asistencia técnica sectorial?", [], "Texto sectorial."),
        ]
    )
    general = index.ask("que es la asistencia tecnica")
    assert (general.band, top_id(general)) == ("answer", "general")
    assert general.hits[0].score == 1.0
    sectorial = index.ask("Qué es la asistencia técnica sectorial")
    assert (sectorial.band, top_id(sectorial)) == ("answer", "sectorial")


def test_answer_band_needs_a_clear_leader(index: FaqIndex) -> None:
    result = index.ask("¿Qué es el Modelo de Integridad?")
    assert result.band == "answer"
    assert top_id(result) == "modelo-integridad"
    assert result.hits[0].score >= ANSWER_SCORE
    second = result.hits[1].score if len(result.hits) > 1 else 0.0
    assert result.hits[0].score - second >= ANSWER_MARGIN


def test_ambiguous_question_is_a_suggestion(index: FaqIndex) -> None:
    """Both guides match "guía de evaluación" equally: ask which one."""
    result = index.ask("guia de evaluacion")
    assert result.band == "suggest"
    assert {h.entry.id for h in result.hits[:2]} == {"guia-evaluacion-1", "guia-evaluacion-2"}


def test_a_word_holding_an_entry_word_finds_it(index: FaqIndex) -> None:
    """ "autoevaluación" shares no stem with "evaluación", but most of its letters: the
    character n-grams bring both guides ahead of the entry that only shares "etapa"."""
    result = index.ask("autoevaluacion de la etapa")
    assert {h.entry.id for h in result.hits[:2]} == {"guia-evaluacion-1", "guia-evaluacion-2"}


def test_one_word_needs_more_to_be_answered(index: FaqIndex) -> None:
    """A question of one word (besides question words) is answered only at
    ``SHORT_ANSWER_SCORE``: the same lead that answers a longer question only suggests."""
    long = index.ask("cuantas etapas tiene la evaluacion")
    assert (long.band, top_id(long)) == ("answer", "cuantas-etapas")
    one_word = (("obligatoria", "sectorial-obligatoria"), ("anonima", "canal-denuncias"))
    for word, expected in one_word:
        short = index.ask(word)
        assert top_id(short) == expected
        assert ANSWER_SCORE <= short.hits[0].score < SHORT_ANSWER_SCORE, short.hits[0].score
        lead = short.hits[0].score - (short.hits[1].score if len(short.hits) > 1 else 0.0)
        assert lead >= ANSWER_MARGIN
        assert short.band == "suggest"


def test_partial_question_is_a_suggestion(index: FaqIndex) -> None:
    result = index.ask("resultados")
    assert result.band == "suggest"
    assert {h.entry.id for h in result.hits[:2]} == {"resultados-cuando", "resultados-donde"}


@pytest.mark.parametrize(
    "query",
    [
        "¿Cuál es el clima en Lima mañana?",
        "receta de ceviche",
        "¿Cómo renuevo mi DNI?",
        "¿Quién ganó el partido de ayer?",
        "¿Cuánto cuesta el pasaje a Cusco?",
        "mi computadora no enciende",
    ],
)
def test_off_topic_questions_fall_back(index: FaqIndex, query: str) -> None:
    assert index.ask(query).band == "fallback"


def test_hits_are_sorted_scored_and_limited(index: FaqIndex) -> None:
    result = index.ask("icp", limit=3)
    assert 0 < len(result.hits) <= 3
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert index.ask("icp", limit=1).hits == result.hits[:1]
    assert index.ask("icp", limit=0) == FaqResult("fallback", [])


def test_empty_index_falls_back() -> None:
    assert FaqIndex([]).ask("¿Qué es el ICP?") == FaqResult("fallback", [])


# --- junk input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a",
        "?",
        "¿?¡!...",
        "😀",
        "🙏🙏🙏👍",
        "<b>",
        "</b><i></i>",
        "<script>alert(1)</script>",
        "'; DROP TABLE faq_questions; --",
        "1 OR 1=1",
        "\x00\x01\x02",
        "\u200b\u200b",
        "x" * 4000,
        "🙂" * 4000,
    ],
)
def test_junk_falls_back_quickly(index: FaqIndex, query: str) -> None:
    started = time.perf_counter()
    result = index.ask(query)
    elapsed = time.perf_counter() - started
    assert result.band == "fallback"
    assert elapsed < 0.05
    if not any(ch.isalnum() for ch in query) or query.startswith("x"):
        assert result.hits == []  # no word at all (or a single letter): nothing to rank


def test_html_around_a_real_question_is_ignored(index: FaqIndex) -> None:
    result = index.ask("<b>¿Qué es el ICP?</b>")
    assert top_id(result) == "que-es-icp"
    assert result.band == "answer"


def test_very_long_question_is_cut_and_answered_quickly(index: FaqIndex) -> None:
    long_text = "¿Qué es el ICP? " + "bla " * 2000
    started = time.perf_counter()
    result = index.ask(long_text)
    assert time.perf_counter() - started < 0.05
    assert top_id(result) == "que-es-icp"


def test_long_rambling_question_is_not_a_direct_answer(index: FaqIndex) -> None:
    """Words unknown to every entry dilute the match: at most a suggestion."""
    text = (
        "buenas tardes mi jefe me pidio preparar el presupuesto del proximo trimestre y "
        "ademas revisar los contratos del almacen, que es el icp"
    )
    result = index.ask(text)
    assert result.band != "answer"


def test_non_string_input_falls_back(index: FaqIndex) -> None:
    assert index.ask(None).band == "fallback"  # type: ignore[arg-type]


# --- the vocabulary file ------------------------------------------------------------------------


def test_shipped_shorthand_has_no_problems() -> None:
    shorthand, problems = load_shorthand(DEFAULT_CONTENT_DIR)
    assert problems == []
    for acronym in ("icp", "oii", "sip", "pcm", "ssmip", "maa", "ds", "rsip"):
        assert acronym in shorthand.acronyms
    assert shorthand.shorthand["q"] == ("que",)
    assert shorthand.shorthand["xq"] == shorthand.shorthand["pq"] == ("porque",)
    assert shorthand.shorthand["gore"] == ("gobierno", "regional")
    assert shorthand.acronyms["icp"][:3] == ("indice", "de", "capacidad")
    assert {"que", "cuando", "quien", "como", "donde", "cual"} <= shorthand.question_words
    assert not shorthand.question_words & shorthand.stop_words
    assert default_shorthand() == shorthand


def write_shorthand(tmp_path: Path, text: str) -> Path:
    path = tmp_path / SHORTHAND_FILE
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return tmp_path


def test_missing_shorthand_file_is_reported(tmp_path: Path) -> None:
    shorthand, problems = load_shorthand(tmp_path)
    assert shorthand == Shorthand()
    assert [p.message for p in problems] == ["file not found"]


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    _, problems = load_shorthand(write_shorthand(tmp_path, "acronyms: [unclosed\n"))
    assert len(problems) == 1 and "invalid YAML" in problems[0].message


def test_shorthand_problems_are_reported(tmp_path: Path) -> None:
    content_dir = write_shorthand(
        tmp_path,
        "acronyms:\n  ICP: índice de capacidad preventiva\n  i.c.p: otra cosa\n"
        "shorthand:\n  q: que\n  dos palabras: algo\n  vacio: ''\n  de: del\n"
        "phrases:\n  solo: una\n"
        "question_words: [que, cuando]\n"
        "stop_words: [de, cuando]\n"
        "extra: 1\n",
    )
    shorthand, problems = load_shorthand(content_dir)
    found = {(p.entry, p.message) for p in problems}
    assert ("extra", "unknown top-level key") in found
    assert ("acronyms.i.c.p", "defined twice (keys are folded)") in found
    assert ("shorthand.dos palabras", "key must be a single word") in found
    assert ("shorthand.vacio", "value must be a non-empty text") in found
    assert ("phrases.solo", "a phrase has at least two words") in found
    assert ("de", "word is both a stop word and a shorthand") in found
    assert ("cuando", "word is both a stop word and a question word") in found
    assert len(problems) == 7
    assert shorthand.acronyms["icp"] == ("indice", "de", "capacidad", "preventiva")


def test_yaml_booleans_are_not_words(tmp_path: Path) -> None:
    """Unquoted "no" is read by YAML as false: reported, not taken as the word "false"."""
    _, problems = load_shorthand(write_shorthand(tmp_path, "stop_words: [de, no]\n"))
    assert [p.entry for p in problems] == ["stop_words"]
    assert "quote it" in problems[0].message


def test_synonym_problems_are_reported(tmp_path: Path) -> None:
    content_dir = write_shorthand(
        tmp_path,
        "shorthand:\n  q: que\n"
        "synonyms:\n  asistencia: [asesoria, q, asistencia]\n  dos palabras: [algo]\n"
        "  registro: otra\n",
    )
    shorthand, problems = load_shorthand(content_dir)
    found = {(p.entry, p.message) for p in problems}
    assert ("synonyms.asistencia", "'q' is already a shorthand or an acronym") in found
    assert ("synonyms.asistencia", "not a variant: 'asistencia'") in found
    assert ("synonyms.dos palabras", "key must be a single word") in found
    assert (
        "synonyms.registro",
        "must be a non-empty list of words or phrases",
    ) in found
    assert len(problems) == 4
    assert shorthand.shorthand["asesoria"] == ("asistencia",)


def test_custom_shorthand_is_used() -> None:
    shorthand = Shorthand(
        acronyms={"mi": ("modelo", "de", "integridad")},
        shorthand={"qe": ("que",)},
        question_words=frozenset({"que"}),
        stop_words=frozenset({"el", "de", "es"}),
    )
    index = FaqIndex(ENTRIES, shorthand)
    assert top_id(index.ask("qe es el mi")) == "modelo-integridad"
    assert top_id(FaqIndex(ENTRIES).ask("qe es el mi")) != "modelo-integridad"


def test_entries_with_few_phrasings_can_be_answered() -> None:
    """The document weights are shared among the documents an entry has: an entry with one
    phrasing is not capped below the answer band by weights meant for its missing phrasings."""
    entry = next(e for e in ENTRIES if e.id == "que-es-icp")  # "¿Qué es el ICP?"
    single = FaqIndex([entry.model_copy(update={"alternatives": ()})])
    result = single.ask("q es el indice de capacidad preventiva")  # not the phrasing itself
    assert top_id(result) == entry.id
    assert result.band == "answer"
