"""The entity catalogue: components, government levels, Redes de Integridad and entities.

The data lives in ``content/catalog/`` (see the comments at the top of each YAML file):

- ``components.yaml`` — the 9 components of the Modelo de Integridad;
- ``levels.yaml`` — the government levels of the Plan 2025, with level-wide figures;
- ``networks.yaml`` — every Red de Integridad, with the 2024 scores of its weakest components
  (plan section 2.1) and the components of its sectoral assistance (section 5.2);
- ``entities.csv`` — the shipped entities; coordinators import SIP's full list in the same format.

``load_catalog`` validates the YAML files and reports every problem found (technical English
messages, for ``integridad-bot content check``). ``parse_entities_csv`` validates an entity CSV and
reports its problems in Spanish, since coordinators read the import report.

Entity CSV rules (``codigo,nombre,siglas,nivel,red,alias``):

- UTF-8 (a BOM is accepted), separated by commas; semicolons or tabs are accepted too (Excel in a
  Spanish locale saves with ``;``). Header names ignore case and accents; ``codigo``, ``nombre``
  and ``nivel`` are required columns, ``siglas``, ``red`` and ``alias`` optional; unknown or
  repeated columns are reported.
- ``codigo``: required, letters, digits, ``-`` and ``_`` only, at most 40 characters, unique in
  the file. ``nombre``: required, unique in the file (ignoring case, accents and spaces).
- ``nivel``: the level's code or name (or one of its aliases), ignoring case and accents.
- ``red``: the network's code, name or short name, ignoring case and accents; it must belong to
  the row's level. **Empty ``red``**: allowed when the level has a single network (its group
  entry, e.g. Poder Judicial), which is then assigned; rejected when the level has several
  networks (Poder Ejecutivo, Gobiernos Regionales), because the entity would be left out of its
  network's sectoral sessions. A level with no network at all leaves ``network`` as ``None``.
- ``alias``: several separated by ``|``.
- Rows with problems are left out of the returned rows; blank lines are skipped. The first
  occurrence of a repeated code or name is kept, the later one reported.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from rapidfuzz import fuzz, process

from bot.content_problems import ContentProblem

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "content"

COMPONENTS_FILE = "catalog/components.yaml"
LEVELS_FILE = "catalog/levels.yaml"
NETWORKS_FILE = "catalog/networks.yaml"
ENTITIES_FILE = "catalog/entities.csv"

MAX_SCORE = 5.0
MAX_STAGE = 5

ENTITY_CSV_COLUMNS = ("codigo", "nombre", "siglas", "nivel", "red", "alias")
ENTITY_CSV_REQUIRED = ("codigo", "nombre", "nivel")
ALIAS_SEPARATOR = "|"
ENTITY_CODE_MAX_LENGTH = 40

Code = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=48)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
ComponentNumber = Annotated[int, Field(ge=1)]
Score = Annotated[float, Field(ge=0.0, le=MAX_SCORE)]

_ModelT = TypeVar("_ModelT", bound="_Model")

_ENTITY_CODE_RE = re.compile(rf"^[A-Za-z0-9_-]{{1,{ENTITY_CODE_MAX_LENGTH}}}$")


def fold(text: str) -> str:
    """Fold ``text`` for comparisons: no accents, case-folded, single spaces, stripped."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Component(_Model):
    """One of the 9 components of the Modelo de Integridad."""

    number: ComponentNumber
    name: NonEmptyStr
    short_name: NonEmptyStr | None = None

    @property
    def label(self) -> str:
        """The plan's short wording when there is one, else the full name."""
        return self.short_name or self.name


class ComponentScore(_Model):
    """A component's 2024 ICP score as the plan prints it."""

    component: ComponentNumber
    score: Score


class ScoreBasis(_Model):
    """Which stages' scores the plan sums, and the rating and threshold it states."""

    stages: list[Annotated[int, Field(ge=1, le=MAX_STAGE)]] = Field(min_length=1)
    rating: NonEmptyStr | None = None
    max_score: Score | None = None

    @model_validator(mode="after")
    def _stages_from_one(self) -> ScoreBasis:
        if self.stages != list(range(1, len(self.stages) + 1)):
            raise ValueError(f"stages must be consecutive from 1, got {self.stages}")
        return self

    @property
    def label(self) -> str:
        """The plan's wording, e.g. ``"Incipiente (≤ 2.10)"``; empty when no rating is given."""
        if self.rating is None:
            return ""
        if self.max_score is None:
            return self.rating
        return f"{self.rating} (≤ {self.max_score:.2f})"


class Finding(_Model):
    """Figures the plan gives for a sub-group (e.g. the Corte Suprema within the Poder Judicial)."""

    label: NonEmptyStr
    weakest_components: list[ComponentScore] = Field(min_length=1)
    score_basis: ScoreBasis | None = None
    note: NonEmptyStr | None = None


class Level(_Model):
    """A government level of the plan (Poder Ejecutivo, Gobiernos Regionales, ...)."""

    code: Code
    name: NonEmptyStr
    aliases: list[NonEmptyStr] = Field(default_factory=list)
    order: int
    score_basis: ScoreBasis | None = None
    weakest_components: list[ComponentScore] = Field(default_factory=list)
    additional_findings: list[Finding] = Field(default_factory=list)
    sectoral_components: list[ComponentNumber] = Field(default_factory=list)
    source: NonEmptyStr | None = None
    note: NonEmptyStr | None = None


class Network(_Model):
    """A Red de Integridad, or the group entry that stands for a whole level."""

    code: Code
    name: NonEmptyStr
    short_name: NonEmptyStr
    level: Code
    group: bool = False
    score_basis: ScoreBasis
    weakest_components: list[ComponentScore] = Field(min_length=1)
    sectoral_components: list[ComponentNumber] = Field(min_length=1)
    additional_findings: list[Finding] = Field(default_factory=list)
    source: NonEmptyStr
    note: NonEmptyStr | None = None


class EntityRow(_Model):
    """One entity of the catalogue, as read from an entity CSV (level and network are codes)."""

    code: NonEmptyStr
    name: NonEmptyStr
    acronym: str | None = None
    aliases: list[str] = Field(default_factory=list)
    level: Code
    network: Code | None = None


class Catalog(_Model):
    """Components, levels and networks, with lookups by number or code.

    ``component``, ``level`` and ``network`` raise ``KeyError`` for an unknown number or code;
    ``find_level`` and ``find_network`` accept free text (code, name, alias) and return ``None``.
    ``load_catalog`` returns a catalogue only when every cross-reference is valid.
    """

    components: list[Component]
    levels: list[Level]
    networks: list[Network]

    _components: dict[int, Component] = PrivateAttr(default_factory=dict)
    _levels: dict[str, Level] = PrivateAttr(default_factory=dict)
    _networks: dict[str, Network] = PrivateAttr(default_factory=dict)
    _by_level: dict[str, list[Network]] = PrivateAttr(default_factory=dict)
    _level_names: dict[str, Level] = PrivateAttr(default_factory=dict)
    _network_names: dict[str, list[Network]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._components = {c.number: c for c in self.components}
        self._levels = {lv.code: lv for lv in sorted(self.levels, key=lambda lv: lv.order)}
        self._networks = {n.code: n for n in self.networks}
        self._by_level = {code: [] for code in self._levels}
        for network in self.networks:
            self._by_level.setdefault(network.level, []).append(network)
        for level in self._levels.values():
            for text in (level.code, level.name, *level.aliases):
                self._level_names.setdefault(fold(text), level)
        for network in self.networks:
            for text in {fold(network.code), fold(network.name), fold(network.short_name)}:
                self._network_names.setdefault(text, []).append(network)

    def component(self, number: int) -> Component:
        """The component numbered ``number`` (1–9)."""
        return self._components[number]

    def level(self, code: str) -> Level:
        """The level with this code."""
        return self._levels[code]

    def network(self, code: str) -> Network:
        """The network with this code."""
        return self._networks[code]

    def maybe_level(self, code: str | None) -> Level | None:
        """The level with this code, or None (for codes from old buttons or the database)."""
        return self._levels.get(code) if code else None

    def maybe_network(self, code: str | None) -> Network | None:
        """The network with this code, or None."""
        return self._networks.get(code) if code else None

    def search_network(self, text: str) -> Network | None:
        """A network typed loosely ("salud", "gore cusco", "red de integridad de educacion")."""
        exact = self.find_network(text)
        if exact is not None:
            return exact
        query = fold(text)
        query = re.sub(r"\b(gore|gob reg|gobierno regional)\b", "gr", query)
        query = re.sub(r"\b(red|de|del|la|integridad)\b", " ", query).strip()
        if not query:
            return None
        choices = {n.code: fold(n.short_name) for n in self.networks}
        found = process.extractOne(query, choices, scorer=fuzz.WRatio, score_cutoff=80)
        return self._networks[found[2]] if found else None

    def networks_of(self, level_code: str) -> list[Network]:
        """The networks of a level, in the file's (the plan's) order; empty for unknown levels."""
        return list(self._by_level.get(level_code, []))

    def ordered_levels(self) -> list[Level]:
        """The levels in display order."""
        return list(self._levels.values())

    def find_level(self, text: str) -> Level | None:
        """The level whose code, name or alias is ``text``, ignoring case and accents."""
        return self._level_names.get(fold(text))

    def find_network(self, text: str, level_code: str | None = None) -> Network | None:
        """The network whose code, name or short name is ``text``, ignoring case and accents.

        With ``level_code``, a network of that level is preferred when names collide.
        """
        candidates = self._network_names.get(fold(text), [])
        if level_code is not None:
            for network in candidates:
                if network.level == level_code:
                    return network
        return candidates[0] if candidates else None


# --------------------------------------------------------------------------------------------
# Loading the YAML files
# --------------------------------------------------------------------------------------------


def _read_yaml_list(
    content_dir: Path, relative: str, key: str, problems: list[ContentProblem]
) -> list[Any] | None:
    """The list under ``key`` in a YAML file, or ``None`` after recording why it is unusable."""
    path = content_dir / relative
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(ContentProblem(relative, "", "file not found"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(ContentProblem(relative, "", f"cannot read file: {exc}"))
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(ContentProblem(relative, where, f"invalid YAML: {reason}"))
        return None
    if not isinstance(data, dict) or key not in data:
        problems.append(ContentProblem(relative, "", f"expected a mapping with a '{key}' list"))
        return None
    items = data[key]
    if not isinstance(items, list):
        problems.append(ContentProblem(relative, "", f"'{key}' must be a list"))
        return None
    extra = sorted(str(k) for k in data if k != key)
    if extra:
        problems.append(ContentProblem(relative, "", f"unknown top-level keys: {extra}"))
    return items


def _entry_name(raw: Any, index: int, id_field: str) -> str:
    if isinstance(raw, dict) and isinstance(raw.get(id_field), (str, int)) and raw[id_field] != "":
        return str(raw[id_field])
    return f"#{index + 1}"


def _parse_entries(
    items: list[Any],
    model: type[_ModelT],
    relative: str,
    id_field: str,
    problems: list[ContentProblem],
) -> tuple[list[_ModelT], set[str]]:
    """The valid entries, and the ids of the invalid ones (to avoid cascading problems)."""
    parsed: list[_ModelT] = []
    failed: set[str] = set()
    for index, raw in enumerate(items):
        entry = _entry_name(raw, index, id_field)
        if not isinstance(raw, dict):
            problems.append(ContentProblem(relative, entry, "entry must be a mapping"))
            continue
        try:
            parsed.append(model.model_validate(raw))
        except ValidationError as exc:
            failed.add(entry)
            for error in exc.errors():
                loc = ".".join(str(part) for part in error["loc"]) or "entry"
                problems.append(ContentProblem(relative, entry, f"{loc}: {error['msg']}"))
    return parsed, failed


def _duplicates(values: Iterable[Any]) -> set[Any]:
    return {value for value, count in Counter(values).items() if count > 1}


def _check_components_used(
    relative: str,
    entry: str,
    field: str,
    numbers: Sequence[int],
    known: set[int],
    problems: list[ContentProblem],
) -> None:
    for number in numbers:
        if number not in known:
            problems.append(
                ContentProblem(relative, entry, f"{field}: unknown component number {number}")
            )
    for number in sorted(_duplicates(numbers)):
        problems.append(ContentProblem(relative, entry, f"{field}: component {number} repeated"))


def _check_scores(
    relative: str,
    entry: str,
    field: str,
    scores: Sequence[ComponentScore],
    basis: ScoreBasis | None,
    known: set[int],
    problems: list[ContentProblem],
) -> None:
    _check_components_used(relative, entry, field, [s.component for s in scores], known, problems)
    if basis is None:
        return
    ceiling = float(len(basis.stages))
    for item in scores:
        if item.score > ceiling:
            problems.append(
                ContentProblem(
                    relative,
                    entry,
                    f"{field}: component {item.component} scores {item.score}, more than the "
                    f"{ceiling:.0f} possible when summing stages {basis.stages}",
                )
            )


def _check_findings(
    relative: str,
    entry: str,
    findings: Sequence[Finding],
    default_basis: ScoreBasis | None,
    known: set[int],
    problems: list[ContentProblem],
) -> None:
    for finding in findings:
        _check_scores(
            relative,
            entry,
            f"additional_findings[{finding.label}]",
            finding.weakest_components,
            finding.score_basis or default_basis,
            known,
            problems,
        )


def _validate(
    components: list[Component],
    levels: list[Level],
    networks: list[Network],
    invalid_components: set[int] | None = None,
    invalid_levels: set[str] | None = None,
) -> list[ContentProblem]:
    """Cross-reference checks; every problem is reported."""
    invalid_components = invalid_components or set()
    invalid_levels = invalid_levels or set()
    problems: list[ContentProblem] = []
    for number in sorted(_duplicates(c.number for c in components)):
        problems.append(ContentProblem(COMPONENTS_FILE, str(number), "duplicate component number"))
    for code in sorted(_duplicates(lv.code for lv in levels)):
        problems.append(ContentProblem(LEVELS_FILE, code, "duplicate level code"))
    for order in sorted(_duplicates(lv.order for lv in levels)):
        problems.append(ContentProblem(LEVELS_FILE, "", f"two levels share order {order}"))
    for code in sorted(_duplicates(n.code for n in networks)):
        problems.append(ContentProblem(NETWORKS_FILE, code, "duplicate network code"))

    known = {c.number for c in components} | invalid_components
    level_by_code = {lv.code: lv for lv in levels}

    for level in levels:
        _check_scores(
            LEVELS_FILE,
            level.code,
            "weakest_components",
            level.weakest_components,
            level.score_basis,
            known,
            problems,
        )
        _check_findings(LEVELS_FILE, level.code, level.additional_findings, None, known, problems)
        _check_components_used(
            LEVELS_FILE,
            level.code,
            "sectoral_components",
            level.sectoral_components,
            known,
            problems,
        )

    groups: dict[str, list[Network]] = {}
    for network in networks:
        _check_scores(
            NETWORKS_FILE,
            network.code,
            "weakest_components",
            network.weakest_components,
            network.score_basis,
            known,
            problems,
        )
        _check_findings(
            NETWORKS_FILE, network.code, network.additional_findings, None, known, problems
        )
        _check_components_used(
            NETWORKS_FILE,
            network.code,
            "sectoral_components",
            network.sectoral_components,
            known,
            problems,
        )
        level = level_by_code.get(network.level)
        if level is None:
            if network.level in invalid_levels:
                continue
            problems.append(
                ContentProblem(NETWORKS_FILE, network.code, f"unknown level '{network.level}'")
            )
            continue
        if network.group:
            groups.setdefault(level.code, []).append(network)
            problems.extend(_group_disagreements(network, level))

    for level_code, entries in groups.items():
        if len(entries) > 1:
            codes = ", ".join(n.code for n in entries)
            problems.append(
                ContentProblem(
                    NETWORKS_FILE, level_code, f"level has several group networks: {codes}"
                )
            )
    used_levels = {n.level for n in networks}
    for level in levels:
        if level.code not in used_levels:
            problems.append(
                ContentProblem(
                    LEVELS_FILE,
                    level.code,
                    "level has no network in networks.yaml (add at least a group entry)",
                )
            )
    return problems


def _group_disagreements(network: Network, level: Level) -> list[ContentProblem]:
    """A group network repeats its level's figures: report every field where they differ."""
    problems: list[ContentProblem] = []
    fields = ("score_basis", "weakest_components", "sectoral_components", "additional_findings")
    for field in fields:
        level_value = getattr(level, field)
        if level_value in (None, []):
            continue
        if getattr(network, field) != level_value:
            problems.append(
                ContentProblem(
                    NETWORKS_FILE,
                    network.code,
                    f"group network's {field} differs from level '{level.code}' in levels.yaml",
                )
            )
    return problems


def load_catalog(content_dir: Path) -> tuple[Catalog | None, list[ContentProblem]]:
    """Load and validate components, levels and networks from ``content_dir/catalog/``.

    Returns the catalogue and no problems, or ``None`` and every problem found (each with its
    file and entry).
    """
    problems: list[ContentProblem] = []
    raw_components = _read_yaml_list(content_dir, COMPONENTS_FILE, "components", problems)
    raw_levels = _read_yaml_list(content_dir, LEVELS_FILE, "levels", problems)
    raw_networks = _read_yaml_list(content_dir, NETWORKS_FILE, "networks", problems)

    components, bad_components = _parse_entries(
        raw_components or [], Component, COMPONENTS_FILE, "number", problems
    )
    levels, bad_levels = _parse_entries(raw_levels or [], Level, LEVELS_FILE, "code", problems)
    networks, _ = _parse_entries(raw_networks or [], Network, NETWORKS_FILE, "code", problems)

    if raw_components is not None and raw_levels is not None and raw_networks is not None:
        # Entries already reported as invalid still count as known, so that they are not
        # reported a second time as unknown references.
        known_numbers = {int(n) for n in bad_components if n.isdigit()}
        problems.extend(_validate(components, levels, networks, known_numbers, bad_levels))
    if problems:
        return None, problems
    return Catalog(components=components, levels=levels, networks=networks), []


# --------------------------------------------------------------------------------------------
# Entity CSV
# --------------------------------------------------------------------------------------------


def _line(number: int) -> str:
    return f"línea {number}"


def _suggestion(text: str, choices: Iterable[str]) -> str:
    """`` ¿Quiso decir 'X'?`` for a close choice, else an empty string."""
    options = {fold(choice): choice for choice in choices}
    best = process.extractOne(fold(text), list(options), scorer=fuzz.ratio, score_cutoff=75)
    return f" ¿Quiso decir '{options[best[0]]}'?" if best else ""


def _decode(source: Path | str | bytes) -> str:
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, bytes):
        return source.decode("utf-8-sig")
    return source.removeprefix("\ufeff")


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_entities_csv(
    source: Path | str | bytes, catalog: Catalog, *, file_label: str | None = None
) -> tuple[list[EntityRow], list[ContentProblem]]:
    """Parse and validate an entity CSV (the shipped one or an import of SIP's full list).

    ``source`` is a file path (``Path``), the CSV text (``str``) or its bytes. ``file_label``
    names the file in the problems (default: the path's name, else ``"entities.csv"``). Returns
    the valid rows and one problem per bad row or header, entry ``"línea N"``, message in
    Spanish. See the module docstring for the rules.
    """
    label = file_label or (source.name if isinstance(source, Path) else "entities.csv")
    problems: list[ContentProblem] = []
    try:
        text = _decode(source)
    except UnicodeDecodeError:
        problems.append(
            ContentProblem(
                label,
                "",
                "el archivo no está en UTF-8: guárdelo como «CSV UTF-8» e inténtelo otra vez",
            )
        )
        return [], problems
    except OSError as exc:
        problems.append(ContentProblem(label, "", f"no se pudo leer el archivo: {exc}"))
        return [], problems

    first_line = next((line for line in text.splitlines() if line.strip()), "")
    if not first_line:
        problems.append(ContentProblem(label, "", "el archivo está vacío"))
        return [], problems
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))

    header: list[str] | None = None
    header_line = 0
    for raw_row in reader:
        if any(cell.strip() for cell in raw_row):
            header = [fold(cell) for cell in raw_row]
            header_line = reader.line_num
            break
    assert header is not None  # first_line is not blank

    columns = _check_header(header, label, _line(header_line), problems)
    if columns is None:
        return [], problems

    rows: list[EntityRow] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    previous_end = reader.line_num
    for raw_row in reader:
        # A quoted field may span lines: report the line where the record starts.
        line_number, previous_end = previous_end + 1, reader.line_num
        if not any(cell.strip() for cell in raw_row):
            continue
        entry = _line(line_number)
        if len(raw_row) != len(header):
            problems.append(
                ContentProblem(
                    label,
                    entry,
                    f"la fila tiene {len(raw_row)} columnas y el encabezado {len(header)}"
                    " (revise comas o comillas)",
                )
            )
            continue
        values = {name: raw_row[index].strip() for name, index in columns.items()}
        row, reasons = _entity_from_values(values, catalog)
        if row is not None:
            code_key = row.code.casefold()
            name_key = fold(row.name)
            if code_key in seen_codes:
                reasons.append(
                    f"código repetido '{row.code}' (ya aparece en la línea {seen_codes[code_key]})"
                )
            if name_key in seen_names:
                reasons.append(
                    f"nombre repetido '{row.name}' (ya aparece en la línea {seen_names[name_key]})"
                )
            if not reasons:
                seen_codes[code_key] = line_number
                seen_names[name_key] = line_number
                rows.append(row)
        problems.extend(ContentProblem(label, entry, reason) for reason in reasons)
    return rows, problems


def _check_header(
    header: list[str], label: str, entry: str, problems: list[ContentProblem]
) -> dict[str, int] | None:
    """Column name -> index, or ``None`` when a required column is missing."""
    columns: dict[str, int] = {}
    valid = ", ".join(ENTITY_CSV_COLUMNS)
    for index, name in enumerate(header):
        if name not in ENTITY_CSV_COLUMNS:
            shown = name or f"(vacía, columna {index + 1})"
            problems.append(
                ContentProblem(
                    label,
                    entry,
                    f"columna desconocida '{shown}' en el encabezado (columnas válidas: {valid})."
                    + _suggestion(name, ENTITY_CSV_COLUMNS),
                )
            )
        elif name in columns:
            problems.append(ContentProblem(label, entry, f"columna repetida '{name}'"))
        else:
            columns[name] = index
    missing = [name for name in ENTITY_CSV_REQUIRED if name not in columns]
    for name in missing:
        problems.append(
            ContentProblem(label, entry, f"falta la columna obligatoria '{name}' en el encabezado")
        )
    return None if missing else columns


def _entity_from_values(
    values: dict[str, str], catalog: Catalog
) -> tuple[EntityRow | None, list[str]]:
    """One row's entity, or ``None`` and the reasons (Spanish) it was rejected."""
    reasons: list[str] = []
    code = values.get("codigo", "")
    name = " ".join(values.get("nombre", "").split())
    level_text = values.get("nivel", "")
    network_text = values.get("red", "")

    if not code:
        reasons.append("falta el código (columna 'codigo')")
    elif not _ENTITY_CODE_RE.fullmatch(code):
        reasons.append(
            f"código no válido '{code}': use solo letras sin tilde, números, '-' o '_'"
            f" (máximo {ENTITY_CODE_MAX_LENGTH} caracteres)"
        )
    if not name:
        reasons.append("falta el nombre (columna 'nombre')")

    level: Level | None = None
    if not level_text:
        reasons.append("falta el nivel (columna 'nivel')")
    else:
        level = catalog.find_level(level_text)
        if level is None:
            reasons.append(
                f"nivel desconocido: '{level_text}'."
                + _suggestion(level_text, [lv.name for lv in catalog.ordered_levels()])
            )

    network: Network | None = None
    if level is not None:
        networks = catalog.networks_of(level.code)
        if network_text:
            network = catalog.find_network(network_text, level.code)
            if network is None:
                names = [text for n in networks for text in (n.code, n.name, n.short_name)]
                reasons.append(
                    f"red desconocida: '{network_text}'." + _suggestion(network_text, names)
                )
            elif network.level != level.code:
                reasons.append(
                    f"la red '{network.name}' no pertenece al nivel '{level.name}'"
                    f" (pertenece a '{catalog.level(network.level).name}')"
                )
                network = None
        elif len(networks) == 1:
            network = networks[0]
        elif len(networks) > 1:
            reasons.append(
                f"falta la red: el nivel '{level.name}' tiene {len(networks)} redes;"
                f" indique una (p. ej. '{networks[0].code}')"
            )

    if reasons:
        return None, reasons
    assert level is not None
    acronym = values.get("siglas", "") or None
    aliases: list[str] = []
    for alias in values.get("alias", "").split(ALIAS_SEPARATOR):
        alias = " ".join(alias.split())
        if alias and fold(alias) not in {fold(a) for a in aliases}:
            aliases.append(alias)
    row = EntityRow(
        code=code,
        name=name,
        acronym=acronym,
        aliases=aliases,
        level=level.code,
        network=network.code if network else None,
    )
    return row, reasons


def load_entities(
    content_dir: Path, catalog: Catalog
) -> tuple[list[EntityRow], list[ContentProblem]]:
    """The shipped entities (``content_dir/catalog/entities.csv``) and their problems."""
    path = content_dir / ENTITIES_FILE
    if not path.is_file():
        return [], [ContentProblem(ENTITIES_FILE, "", "file not found")]
    return parse_entities_csv(path, catalog, file_label=ENTITIES_FILE)
