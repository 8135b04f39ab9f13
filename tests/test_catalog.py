"""The entity catalogue: the data in content/catalog/ and its validation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.catalog import (
    DEFAULT_CONTENT_DIR,
    ENTITIES_FILE,
    Catalog,
    EntityRow,
    load_catalog,
    load_entities,
    parse_entities_csv,
)
from bot.content_problems import ContentProblem

REGIONS = [
    "Amazonas", "Áncash", "Apurímac", "Arequipa", "Ayacucho", "Cajamarca", "Callao", "Cusco",
    "Huancavelica", "Huánuco", "Ica", "Junín", "La Libertad", "Lambayeque", "Lima", "Loreto",
    "Madre de Dios", "Moquegua", "Pasco", "Piura", "Puno", "San Martín", "Tacna", "Tumbes",
    "Ucayali",
]  # fmt: skip

AUTONOMOUS_BODIES = {
    "Tribunal Constitucional",
    "Junta Nacional de Justicia",
    "Ministerio Público",
    "Defensoría del Pueblo",
    "Contraloría General de la República",
    "Banco Central de Reserva del Perú",
    "Superintendencia de Banca, Seguros y AFP",
    "Jurado Nacional de Elecciones",
    "Oficina Nacional de Procesos Electorales",
    "Registro Nacional de Identificación y Estado Civil",
}

HEADER = "codigo,nombre,siglas,nivel,red,alias\n"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    loaded, problems = load_catalog(DEFAULT_CONTENT_DIR)
    assert problems == []
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def entities(catalog: Catalog) -> list[EntityRow]:
    rows, problems = load_entities(DEFAULT_CONTENT_DIR, catalog)
    assert problems == []
    return rows


def scores(items: Any) -> list[tuple[int, float]]:
    return [(item.component, item.score) for item in items]


# --------------------------------------------------------------------------------------------
# The shipped catalogue
# --------------------------------------------------------------------------------------------


def test_components(catalog: Catalog) -> None:
    assert [c.number for c in catalog.components] == list(range(1, 10))
    assert catalog.component(1).name == "Compromiso de la Alta Dirección"
    assert catalog.component(5).short_name == "Controles y Auditoría"
    assert catalog.component(7).name == "Canal de denuncias"
    assert catalog.component(8).label == "Supervisión y Monitoreo del Modelo de Integridad"
    assert catalog.component(9).name == "Encargado del Modelo de Integridad"
    with pytest.raises(KeyError):
        catalog.component(10)


def test_levels(catalog: Catalog) -> None:
    assert [lv.name for lv in catalog.ordered_levels()] == [
        "Poder Ejecutivo",
        "Poder Judicial",
        "Poder Legislativo",
        "Organismos Constitucionales Autónomos",
        "Gobiernos Regionales",
        "Gobiernos Locales",
        "Otras entidades",
    ]
    assert catalog.level("poder-ejecutivo").sectoral_components == [8, 2, 9]
    assert catalog.level("poder-ejecutivo").weakest_components == []
    regional = catalog.level("gobiernos-regionales")
    assert scores(regional.weakest_components) == [(8, 0.21), (2, 0.43), (4, 0.44)]
    assert regional.score_basis is not None
    assert regional.score_basis.stages == [1, 2, 3]
    assert regional.score_basis.label == "Incipiente (≤ 2.10)"
    assert regional.sectoral_components == [8, 4, 2]
    (attached,) = regional.additional_findings
    assert scores(attached.weakest_components) == [
        (4, 0.22), (8, 0.26), (6, 0.28), (9, 0.31), (2, 0.33), (7, 0.35)
    ]  # fmt: skip
    local = catalog.level("gobiernos-locales")
    assert local.score_basis is not None and local.score_basis.label == "Inicial (≤ 0.39)"
    assert local.sectoral_components == [8, 4, 2, 9]
    assert catalog.level("otras-entidades").sectoral_components == [8, 2]
    assert catalog.level("poder-legislativo").source == "Plan 2025, 2.1.3 y 5.2"


def test_network_counts_and_completeness(catalog: Catalog) -> None:
    executive = catalog.networks_of("poder-ejecutivo")
    regional = catalog.networks_of("gobiernos-regionales")
    assert len(executive) == 19
    assert len(regional) == 25
    for network in executive + regional:
        assert not network.group
        assert len(network.weakest_components) >= 1, network.code
        assert len(network.sectoral_components) >= 1, network.code
        assert network.source
    for level in catalog.ordered_levels():
        assert catalog.networks_of(level.code), level.code
    groups = [n for n in catalog.networks if n.group]
    assert sorted(n.code for n in groups) == [
        "gobiernos-locales",
        "organismos-constitucionales-autonomos",
        "otras-entidades",
        "poder-judicial",
        "poder-legislativo",
    ]
    assert len(catalog.networks) == 19 + 25 + 5
    assert catalog.networks_of("no-such-level") == []


def test_regional_network_names(catalog: Catalog) -> None:
    regional = catalog.networks_of("gobiernos-regionales")
    assert [n.short_name for n in regional] == [f"GR {r}" for r in REGIONS]
    cusco = catalog.network("red-gr-cusco")
    assert cusco.name == "Red de Integridad del Gobierno Regional de Cusco"
    assert catalog.network("red-salud").name == "Red de Integridad de Salud"
    assert catalog.network("red-salud").short_name == "Salud"


def test_spot_checks_against_the_plan(catalog: Catalog) -> None:
    energy = catalog.network("red-energia-minas")
    assert scores(energy.weakest_components) == [(8, 0.33), (3, 1.11), (5, 1.33)]
    assert energy.sectoral_components == [8, 3, 5]
    assert energy.score_basis.stages == [1, 2, 3]
    assert energy.score_basis.max_score == pytest.approx(2.10)

    health = catalog.network("red-salud")
    assert scores(health.weakest_components) == [
        (8, 0.42), (6, 0.51), (2, 0.56), (9, 0.64), (4, 0.67)
    ]  # fmt: skip
    assert health.sectoral_components == [8, 6, 2, 9, 4]
    assert health.score_basis.stages == [1, 2, 3]

    interior = catalog.network("red-interior")
    assert interior.score_basis.stages == [1, 2]
    assert interior.score_basis.label == "Incipiente (≤ 1.10)"
    assert scores(interior.weakest_components)[0] == (8, 0.50)

    agrarian = catalog.network("red-desarrollo-agrario-riego")
    assert [c for c, _ in scores(agrarian.weakest_components)] == [8, 2, 4, 1, 6, 9, 3, 5]

    justice = catalog.network("red-justicia-derechos-humanos")
    assert scores(justice.weakest_components)[4:6] == [(4, 0.87), (6, 0.85)]
    assert justice.note

    cusco = catalog.network("red-gr-cusco")
    assert scores(cusco.weakest_components) == [
        (8, 0.00), (6, 0.50), (1, 0.56), (2, 0.60), (4, 0.61)
    ]  # fmt: skip
    assert cusco.sectoral_components == [8, 6, 1, 2, 4]
    assert cusco.score_basis.stages == [1, 2]

    ucayali = catalog.network("red-gr-ucayali")
    assert scores(ucayali.weakest_components) == [(c, 0.0) for c in (1, 2, 4, 5, 6, 7, 8, 9)]
    assert ucayali.sectoral_components == [1, 2, 4, 5, 6, 7, 8, 9]

    moquegua = catalog.network("red-gr-moquegua")
    assert scores(moquegua.weakest_components)[-2:] == [(7, 0.40), (3, 0.13)]
    assert moquegua.note and "Canal de Denuncia (0.40)" in moquegua.note

    lima = catalog.network("red-gr-lima")
    assert lima.sectoral_components == [8, 4, 2, 7, 6, 9]

    legislative = catalog.network("poder-legislativo")
    assert scores(legislative.weakest_components) == [(4, 0.00), (8, 0.00), (3, 0.50)]
    assert legislative.sectoral_components == [8, 4, 3]
    assert legislative.score_basis.stages == [1, 2]

    judicial = catalog.network("poder-judicial")
    assert scores(judicial.weakest_components)[0] == (8, 0.09)
    supreme, attached = judicial.additional_findings
    assert supreme.label == "Corte Suprema"
    assert scores(supreme.weakest_components) == [(8, 0.00), (2, 0.00), (4, 0.33)]
    assert scores(attached.weakest_components)[0] == (8, 0.10)

    autonomous = catalog.network("organismos-constitucionales-autonomos")
    assert scores(autonomous.weakest_components) == [(4, 0.54), (2, 0.60), (8, 0.61)]
    assert autonomous.score_basis.stages == [1, 2, 3]

    assert catalog.network("gobiernos-locales").score_basis.stages == [1]


def test_every_score_is_typed_and_in_range(catalog: Catalog) -> None:
    for network in catalog.networks:
        for item in network.weakest_components:
            assert isinstance(item.score, float)
            assert 0 <= item.score <= len(network.score_basis.stages)
            assert 1 <= item.component <= 9


def test_lenient_lookups(catalog: Catalog) -> None:
    assert catalog.find_level("PODER EJECUTIVO") == catalog.level("poder-ejecutivo")
    assert catalog.find_level("organismos constitucionalmente autonomos") is not None
    assert catalog.find_level("Poder Ejectivo") is None
    assert catalog.find_network("gr huanuco") == catalog.network("red-gr-huanuco")
    assert catalog.find_network("Red de Integridad de Salud") == catalog.network("red-salud")
    with pytest.raises(KeyError):
        catalog.network("red-nada")


# --------------------------------------------------------------------------------------------
# The shipped entities
# --------------------------------------------------------------------------------------------


def test_shipped_entities(catalog: Catalog, entities: list[EntityRow]) -> None:
    by_code = {row.code: row for row in entities}
    assert len(by_code) == len(entities)

    regional = [row for row in entities if row.level == "gobiernos-regionales"]
    assert len(regional) == 25
    for row in regional:
        assert row.network is not None
        region = catalog.network(row.network).short_name.removeprefix("GR ")
        expected = (
            "Gobierno Regional del Callao"
            if region == "Callao"
            else (f"Gobierno Regional de {region}")
        )
        assert row.name == expected
        assert row.acronym == f"GORE {region}"
    assert by_code["gr-lima"].name == "Gobierno Regional de Lima"

    autonomous = [row for row in entities if row.level == "organismos-constitucionales-autonomos"]
    # domain.md lists ten constitutionally autonomous bodies.
    assert {row.name for row in autonomous} == AUTONOMOUS_BODIES
    assert all(row.network == "organismos-constitucionales-autonomos" for row in autonomous)

    executive = [row for row in entities if row.level == "poder-ejecutivo"]
    heads: dict[str | None, EntityRow] = {}
    for row in executive:  # each sector network's first row is its head, then its attached bodies
        heads.setdefault(row.network, row)
    assert set(heads) == {n.code for n in catalog.networks_of("poder-ejecutivo")}
    assert heads["red-pcm"].name == "Presidencia del Consejo de Ministros"
    ministries = [row for row in executive if row.name.startswith("Ministerio")]
    assert len(ministries) == 18  # the PCM heads the 19th network
    head_codes = {row.code for row in heads.values()}
    assert {row.code for row in ministries} < head_codes
    attached = [row for row in executive if row.code not in head_codes]
    assert len(attached) >= 60
    assert by_code["sunat"].network == "red-economia-finanzas"
    assert by_code["inpe"].network == "red-justicia-derechos-humanos"
    assert by_code["essalud"].network == "red-trabajo-promocion-empleo"
    assert heads["red-salud"].acronym == "MINSA"
    assert heads["red-cultura"].acronym == "MINCUL"

    assert by_code["pj"].name == "Poder Judicial"
    assert by_code["pj"].network == "poder-judicial"
    assert by_code["congreso"].name == "Congreso de la República"
    assert by_code["congreso"].level == "poder-legislativo"
    assert "Fiscalía" in by_code["mp"].aliases
    assert by_code["midagri"].aliases[0] == "MINAGRI"


# --------------------------------------------------------------------------------------------
# load_catalog on a broken copy
# --------------------------------------------------------------------------------------------


def _copy_content(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_CONTENT_DIR / "catalog", tmp_path / "catalog")
    return tmp_path


def _edit_yaml(path: Path, edit: Any) -> None:
    data = yaml.safe_load(path.read_text("utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def _network(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(n for n in data["networks"] if n["code"] == code)


def _has(problems: list[ContentProblem], file: str, entry: str, *fragments: str) -> bool:
    return any(
        p.file == file and p.entry == entry and all(f in p.message for f in fragments)
        for p in problems
    )


def test_load_catalog_reports_every_planted_problem(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    networks_file = "catalog/networks.yaml"
    components_file = "catalog/components.yaml"
    levels_file = "catalog/levels.yaml"

    def break_networks(data: dict[str, Any]) -> None:
        _network(data, "red-salud")["weakest_components"][0]["component"] = 12
        _network(data, "red-cultura")["weakest_components"][1]["score"] = 7.5
        _network(data, "red-defensa")["level"] = "poder-ejecutvo"
        _network(data, "red-ambiente")["code"] = "red-interior"
        del _network(data, "red-educacion")["name"]
        _network(data, "red-gr-cusco")["sectoral_components"].append(10)
        _network(data, "red-gr-puno")["sectoral_components"].append(8)
        _network(data, "red-trabajo-promocion-empleo")["weakest_components"][0]["score"] = 2.5
        _network(data, "poder-legislativo")["weakest_components"][2]["score"] = 0.05
        _network(data, "red-gr-piura")["score_basis"]["stages"] = [2, 3]
        data["networks"].append("not a mapping")

    def break_components(data: dict[str, Any]) -> None:
        data["components"].append({"number": 3, "name": "Políticas repetidas"})

    def break_levels(data: dict[str, Any]) -> None:
        data["levels"][1]["sectoral_components"] = [8, 0]
        data["levels"].append({"code": "nivel-sin-red", "name": "Nivel sin red", "order": 99})

    _edit_yaml(content / networks_file, break_networks)
    _edit_yaml(content / components_file, break_components)
    _edit_yaml(content / levels_file, break_levels)

    loaded, problems = load_catalog(content)
    assert loaded is None
    expected = [
        (networks_file, "red-salud", ("unknown component number 12",)),
        (networks_file, "red-cultura", ("weakest_components.1.score", "less than or equal to 5")),
        (networks_file, "red-defensa", ("unknown level 'poder-ejecutvo'",)),
        (networks_file, "red-interior", ("duplicate network code",)),
        (networks_file, "red-educacion", ("name", "Field required")),
        (networks_file, "red-gr-cusco", ("unknown component number 10",)),
        (networks_file, "red-gr-puno", ("component 8 repeated",)),
        (networks_file, "red-trabajo-promocion-empleo", ("scores 2.5", "stages [1, 2]")),
        (networks_file, "poder-legislativo", ("weakest_components differs", "levels.yaml")),
        (networks_file, "red-gr-piura", ("consecutive from 1",)),
        (networks_file, "#50", ("must be a mapping",)),
        (components_file, "3", ("duplicate component number",)),
        (levels_file, "poder-judicial", ("sectoral_components.1", "greater than or equal to 1")),
        (levels_file, "nivel-sin-red", ("no network",)),
    ]
    for file, entry, fragments in expected:
        assert _has(problems, file, entry, *fragments), (file, entry, fragments)
    assert len(problems) >= len(expected)


def test_load_catalog_reports_bad_yaml_and_missing_files(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    (content / "catalog/levels.yaml").write_text("levels:\n  - code: [unclosed\n", "utf-8")
    (content / "catalog/components.yaml").unlink()
    (content / "catalog/networks.yaml").write_text("redes: []\n", "utf-8")
    loaded, problems = load_catalog(content)
    assert loaded is None
    assert _has(problems, "catalog/levels.yaml", "line 3", "invalid YAML")
    assert _has(problems, "catalog/components.yaml", "", "file not found")
    assert _has(problems, "catalog/networks.yaml", "", "'networks' list")


def test_load_catalog_rejects_unknown_fields(tmp_path: Path) -> None:
    content = _copy_content(tmp_path)
    _edit_yaml(
        content / "catalog/networks.yaml",
        lambda data: _network(data, "red-salud").update({"weakest_component": []}),
    )
    loaded, problems = load_catalog(content)
    assert loaded is None
    assert _has(
        problems, "catalog/networks.yaml", "red-salud", "weakest_component", "not permitted"
    )


# --------------------------------------------------------------------------------------------
# parse_entities_csv
# --------------------------------------------------------------------------------------------


def _reasons(problems: list[ContentProblem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in problems:
        out.setdefault(problem.entry, []).append(problem.message)
    return out


def test_parse_entities_csv_rejects_each_bad_row_kind(catalog: Catalog) -> None:
    text = HEADER + (
        "minsa,Ministerio de Salud,MINSA,poder-ejecutivo,red-salud,Salud|min salud\n"  # 2 ok
        ",Sin código,,poder-ejecutivo,red-salud,\n"  # 3
        "sin-nombre,,,poder-ejecutivo,red-salud,\n"  # 4
        "x1,Entidad Uno,,Poder Ejectivo,red-salud,\n"  # 5
        "x2,Entidad Dos,,poder-ejecutivo,red-salus,\n"  # 6
        "x3,Entidad Tres,,gobiernos-regionales,red-salud,\n"  # 7
        "minsa,Otra entidad,,poder-ejecutivo,red-salud,\n"  # 8
        "x4,MINISTERIO DE  SALUD,,poder-ejecutivo,red-salud,\n"  # 9
        "x5,Entidad Cinco,,poder-ejecutivo,,\n"  # 10
        "x6,Entidad Seis,,poder-ejecutivo\n"  # 11
        "mi código,Entidad Siete,,poder-ejecutivo,red-salud,\n"  # 12
        "x8,Entidad Ocho,,,red-salud,\n"  # 13
        "\n"  # 14, blank: skipped
        "cs,Corte Superior de Justicia de Lima,CSJLI,Poder Judicial,,\n"  # 15 ok
        "x9,Entidad Nueve,,ORGANISMOS CONSTITUCIONALMENTE AUTONOMOS,"
        "Organismos Constitucionales Autónomos,\n"  # 16 ok
        "x10,Entidad Diez,,Poder Ejecutivo,Salud,\n"  # 17 ok
        "x11,Entidad Once,,gobiernos-regionales,gr cusco,\n"  # 18 ok
    )
    rows, problems = parse_entities_csv(text, catalog, file_label="import.csv")
    assert all(p.file == "import.csv" for p in problems)
    reasons = _reasons(problems)
    assert set(reasons) == {f"línea {n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)}

    def has(line: int, *fragments: str) -> bool:
        return any(all(f in m for f in fragments) for m in reasons[f"línea {line}"])

    assert has(3, "falta el código")
    assert has(4, "falta el nombre")
    assert has(5, "nivel desconocido: 'Poder Ejectivo'", "¿Quiso decir 'Poder Ejecutivo'?")
    assert has(6, "red desconocida: 'red-salus'", "¿Quiso decir 'red-salud'?")
    assert has(7, "no pertenece al nivel 'Gobiernos Regionales'")
    assert has(8, "código repetido 'minsa'", "línea 2")
    assert has(9, "nombre repetido", "línea 2")
    assert has(10, "falta la red", "Poder Ejecutivo")
    assert has(11, "4 columnas", "6")
    assert has(12, "código no válido 'mi código'")
    assert has(13, "falta el nivel")

    assert [row.code for row in rows] == ["minsa", "cs", "x9", "x10", "x11"]
    minsa, court, autonomous, by_short_name, cusco = rows
    assert minsa.aliases == ["Salud", "min salud"]
    assert minsa.network == "red-salud" and minsa.acronym == "MINSA"
    assert court.level == "poder-judicial" and court.network == "poder-judicial"
    assert autonomous.network == "organismos-constitucionales-autonomos"
    assert by_short_name.network == "red-salud"
    assert cusco.network == "red-gr-cusco"
    assert court.aliases == [] and autonomous.acronym is None


def test_parse_entities_csv_header_problems(catalog: Catalog) -> None:
    rows, problems = parse_entities_csv("codigo,nombres,red,nivell\nx,y,z,w\n", catalog)
    assert rows == []
    messages = [p.message for p in problems]
    assert all(p.entry == "línea 1" and p.file == "entities.csv" for p in problems)
    assert any("columna desconocida 'nombres'" in m for m in messages)
    assert any("columna desconocida 'nivell'" in m and "'nivel'" in m for m in messages)
    assert any("falta la columna obligatoria 'nombre'" in m for m in messages)
    assert any("falta la columna obligatoria 'nivel'" in m for m in messages)

    _, problems = parse_entities_csv("", catalog)
    assert [p.message for p in problems] == ["el archivo está vacío"]


def test_parse_entities_csv_accepts_excel_exports(catalog: Catalog, tmp_path: Path) -> None:
    text = (
        "Código;Nombre;Siglas;Nivel;Red;Alias\n"
        "gr-ica;Gobierno Regional de Ica;GORE Ica;Gobiernos Regionales;GR Ica;Región Ica\n"
    )
    path = tmp_path / "lista.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    rows, problems = parse_entities_csv(path, catalog)
    assert problems == []
    assert rows[0].network == "red-gr-ica" and rows[0].aliases == ["Región Ica"]

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(text.encode("latin-1"))
    rows, problems = parse_entities_csv(latin1, catalog)
    assert rows == []
    assert problems[0].file == "latin1.csv"
    assert "UTF-8" in problems[0].message


def test_parse_entities_csv_quoted_fields_keep_line_numbers(catalog: Catalog) -> None:
    text = HEADER + (
        '"sbs","Superintendencia de Banca, Seguros y AFP",SBS,'
        "organismos-constitucionales-autonomos,,\n"
        '"x","Nombre en\ndos líneas",,nivel-raro,,\n'
        "y,Entidad,,nivel-raro,,\n"
    )
    rows, problems = parse_entities_csv(text, catalog)
    assert [row.code for row in rows] == ["sbs"]
    assert [p.entry for p in problems] == ["línea 3", "línea 5"]


def test_shipped_csv_is_valid_utf8_with_the_header() -> None:
    raw = (DEFAULT_CONTENT_DIR / ENTITIES_FILE).read_bytes()
    assert raw.decode("utf-8").startswith(HEADER)


def test_load_entities_missing_file(tmp_path: Path, catalog: Catalog) -> None:
    rows, problems = load_entities(tmp_path, catalog)
    assert rows == []
    assert problems == [ContentProblem(ENTITIES_FILE, "", "file not found")]
