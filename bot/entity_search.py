"""Search entities by what an officer types ("gore cusco", "minsa", "contraloira"...).

An in-memory index built once from the entity list. Text is normalised (accents folded,
case-folded, punctuation removed, dotted acronyms such as ``M.E.F.`` joined), abbreviations are
expanded and stop-words dropped, using ``content/catalog/search_abbreviations.yaml``.

Ranking works per word. Each query word is compared with the index vocabulary: exact word (100),
prefix of 3+ letters ("educ" -> "educacion", 60 + 30 x the share of the word typed, so a bare
prefix is rarely confident) or typo of a 4+ letter word (optimal string alignment similarity
>= 0.75, so "cuzco" -> "cusco", "contraloira" -> "contraloria"). A name, acronym or alias of an
entity (a *key*) then scores

    100 * (0.85 * query_coverage + 0.15 * key_coverage) * key_factor

where ``query_coverage`` is the share of the query's words (weighted by how rare their best
vocabulary match is, IDF) found in the key, and ``key_coverage`` the share of the key's words
(IDF-weighted) the query covers. The entity's network and level names are weaker keys
(``key_factor`` 0.7): "poder legislativo" finds the Congreso, but never confidently. An entity's
score is its best key's. Query words that match nothing weigh half the rarest word's IDF, so
"ministerio de salud lima" still ranks MINSA first, without confidence.

Speed: words are compared once against the vocabulary (cached per word), then only the keys
holding a matched word are scored; keys shared by many entities (a network name) are scored once.
About 1–4 ms per query on 2,000 entities.

A result list is *confident* when the best match scores at least ``CONFIDENT_SCORE`` and leads
the next by ``CONFIDENT_MARGIN``; only then ``matches[0].confident`` is true. Matches below
``MIN_SCORE`` are dropped, so junk returns nothing. A query of several words that matches nothing
as a whole ("sunat mef", "oficina de integridad sunat") is scored again by each run of
consecutive words, each entity keeping its best score: the officer chooses among them (never
confident).
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.catalog import DEFAULT_CONTENT_DIR, Catalog, EntityRow, fold
from bot.content_problems import ContentError, ContentProblem

VOCABULARY_FILE = "catalog/search_abbreviations.yaml"

MIN_SCORE = 60.0
CONFIDENT_SCORE = 85.0
CONFIDENT_MARGIN = 10.0
PARTIAL_MAX_WORDS = 8  # a query that matches nothing is retried in parts up to this many words
CONTEXT_FACTOR = 0.7
QUERY_WEIGHT = 0.85
KEY_WEIGHT = 0.15
PREFIX_MIN_LENGTH = 3
PREFIX_BASE = 60.0  # a prefix match scores PREFIX_BASE + PREFIX_SPAN * (share of the word typed)
PREFIX_SPAN = 30.0
TYPO_MIN_LENGTH = 4
TYPO_MIN_SIMILARITY = 0.75
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
_TOKEN_CACHE_SIZE = 4096

_DOTTED_ACRONYM = re.compile(r"\b(?:[a-z0-9]\.){2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")

EntityId = int | str


@dataclass(frozen=True, slots=True)
class SearchableEntity:
    """What the index needs to know of an entity."""

    id: EntityId
    name: str
    acronym: str | None = None
    aliases: Sequence[str] = ()
    network_name: str | None = None
    level_name: str | None = None


BUTTON_LABEL_MAX = 60  # characters of an entity's name on a button


def button_label(name: str, acronym: str | None, width: int = BUTTON_LABEL_MAX) -> str:
    """An entity's name for a button: whole when it fits, else its acronym first and the name
    shortened with "…" ("INDECOPI · Instituto Nacional de Defensa de la Competencia…"), so two
    long names that begin alike stay apart."""
    if len(name) <= width:
        return name
    if acronym and fold(acronym) not in fold(name).split():
        name = f"{acronym} · {name}"
    return name[: width - 1].rstrip(" ,·") + "…"


@dataclass(frozen=True, slots=True)
class EntityMatch:
    """One result: the entity's id and name, a 0–100 score, and whether it is a sure pick."""

    id: EntityId
    name: str
    score: float
    confident: bool = False
    acronym: str | None = None

    @property
    def label(self) -> str:
        return button_label(self.name, self.acronym)


@dataclass(frozen=True, slots=True)
class SearchVocabulary:
    """Abbreviations (word -> words it stands for) and stop-words, all folded."""

    abbreviations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset()


def is_confident(matches: Sequence[EntityMatch]) -> bool:
    """True when the search found one clear entity (``matches[0]``)."""
    return bool(matches) and matches[0].confident


def load_search_vocabulary(content_dir: Path) -> tuple[SearchVocabulary, list[ContentProblem]]:
    """Read ``catalog/search_abbreviations.yaml``; on problems, the vocabulary read so far."""
    problems: list[ContentProblem] = []

    def problem(entry: str, message: str) -> None:
        problems.append(ContentProblem(VOCABULARY_FILE, entry, message))

    try:
        data = yaml.safe_load((content_dir / VOCABULARY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problem("", "file not found")
        return SearchVocabulary(), problems
    except (OSError, UnicodeDecodeError) as exc:
        problem("", f"cannot read file: {exc}")
        return SearchVocabulary(), problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem(f"line {mark.line + 1}" if mark else "", f"invalid YAML: {exc}")
        return SearchVocabulary(), problems
    if not isinstance(data, dict):
        problem("", "expected a mapping with 'abbreviations' and 'stop_words'")
        return SearchVocabulary(), problems
    for key in sorted(str(k) for k in data if k not in ("abbreviations", "stop_words")):
        problem(key, "unknown top-level key")

    abbreviations: dict[str, tuple[str, ...]] = {}
    raw_abbreviations = data.get("abbreviations", {})
    if not isinstance(raw_abbreviations, dict):
        problem("abbreviations", "must be a mapping of word -> expansion")
        raw_abbreviations = {}
    for raw_key, raw_value in raw_abbreviations.items():
        key_words = _words(str(raw_key))
        value_words = tuple(_words(str(raw_value))) if isinstance(raw_value, str) else ()
        if len(key_words) != 1:
            problem(str(raw_key), "an abbreviation must be a single word")
        elif not value_words:
            problem(str(raw_key), "expansion must be a non-empty text")
        elif key_words[0] in abbreviations:
            problem(str(raw_key), "abbreviation defined twice (keys are folded)")
        else:
            abbreviations[key_words[0]] = value_words

    raw_stop = data.get("stop_words", [])
    stop_words: set[str] = set()
    if not isinstance(raw_stop, list):
        problem("stop_words", "must be a list of words")
    else:
        for word in raw_stop:
            words = _words(str(word))
            if len(words) != 1:
                problem("stop_words", f"not a single word: {word!r}")
            else:
                stop_words.add(words[0])
    for word in sorted(stop_words & abbreviations.keys()):
        problem(word, "word is both an abbreviation and a stop-word")
    return SearchVocabulary(abbreviations, frozenset(stop_words)), problems


@cache
def default_vocabulary() -> SearchVocabulary:
    """The shipped vocabulary; raises ``ContentError`` if the file has problems."""
    vocabulary, problems = load_search_vocabulary(DEFAULT_CONTENT_DIR)
    if problems:
        raise ContentError(problems)
    return vocabulary


def _words(text: str) -> list[str]:
    """Folded ascii words of ``text``: no accents, lower case, no punctuation."""
    folded = fold(text)
    folded = _DOTTED_ACRONYM.sub(lambda m: m.group().replace(".", ""), folded)
    return _NON_WORD.sub(" ", folded).split()


def normalize(text: str, vocabulary: SearchVocabulary) -> list[str]:
    """The words the index compares: folded, abbreviations expanded, stop-words dropped."""
    out: list[str] = []
    for word in _words(text):
        for expanded in vocabulary.abbreviations.get(word, (word,)):
            if expanded not in vocabulary.stop_words:
                out.append(expanded)
    return out


def searchable_entities(rows: Iterable[EntityRow], catalog: Catalog) -> list[SearchableEntity]:
    """Catalogue rows as searchable entities (id = entity code, network by its short name)."""
    result: list[SearchableEntity] = []
    for row in rows:
        network = catalog.network(row.network).short_name if row.network else None
        result.append(
            SearchableEntity(
                id=row.code,
                name=row.name,
                acronym=row.acronym,
                aliases=tuple(row.aliases),
                network_name=network,
                level_name=catalog.level(row.level).name,
            )
        )
    return result


class EntitySearchIndex:
    """In-memory index answering ``search(query)`` for the entity-picking step."""

    def __init__(
        self,
        entities: Iterable[SearchableEntity],
        vocabulary: SearchVocabulary | None = None,
    ) -> None:
        self._vocabulary = vocabulary if vocabulary is not None else default_vocabulary()
        self._entities: list[SearchableEntity] = list(entities)
        by_name = sorted(range(len(self._entities)), key=lambda i: fold(self._entities[i].name))
        self._name_rank = [0] * len(self._entities)
        for rank, entity_index in enumerate(by_name):
            self._name_rank[entity_index] = rank
        self._word_ids: dict[str, int] = {}
        self._words: list[str] = []
        # A key is a distinct (factor, words) pair; entities sharing a network share its key.
        key_ids: dict[tuple[float, tuple[int, ...]], int] = {}
        self._key_words: list[tuple[int, ...]] = []
        self._key_factor: list[float] = []
        self._key_entities: list[list[int]] = []
        document_frequency: list[int] = []

        for index, entity in enumerate(self._entities):
            direct = [entity.name, entity.acronym or "", *entity.aliases]
            context = [entity.network_name or "", entity.level_name or ""]
            entity_words: set[int] = set()
            entity_keys: set[int] = set()
            for texts, factor in ((direct, 1.0), (context, CONTEXT_FACTOR)):
                for text in texts:
                    ids = tuple(dict.fromkeys(self._word_id(w) for w in self._normalize(text)))
                    if not ids:
                        continue
                    key_id = key_ids.get((factor, ids))
                    if key_id is None:
                        key_id = key_ids[(factor, ids)] = len(self._key_words)
                        self._key_words.append(ids)
                        self._key_factor.append(factor)
                        self._key_entities.append([])
                    if key_id not in entity_keys:
                        entity_keys.add(key_id)
                        self._key_entities[key_id].append(index)
                    entity_words.update(ids)
            document_frequency.extend([0] * (len(self._words) - len(document_frequency)))
            for word_id in entity_words:
                document_frequency[word_id] += 1

        total = max(len(self._entities), 1)
        self._idf = [math.log(1 + total / df) for df in document_frequency]
        self._unmatched_weight = 0.5 * max(self._idf, default=1.0)
        self._key_total_idf = [sum(self._idf[i] for i in ids) for ids in self._key_words]
        self._postings: list[list[int]] = [[] for _ in self._words]
        for key_id, ids in enumerate(self._key_words):
            for word_id in ids:
                self._postings[word_id].append(key_id)
        self._similar_cache: dict[str, dict[int, float]] = {}

    def __len__(self) -> int:
        return len(self._entities)

    def _normalize(self, text: str) -> list[str]:
        return normalize(text, self._vocabulary)

    def _word_id(self, word: str) -> int:
        word_id = self._word_ids.get(word)
        if word_id is None:
            word_id = len(self._words)
            self._word_ids[word] = word_id
            self._words.append(word)
        return word_id

    def _similar(self, word: str) -> dict[int, float]:
        """Vocabulary ids resembling ``word`` -> similarity 0–100 (cached)."""
        cached = self._similar_cache.get(word)
        if cached is not None:
            return cached
        found: dict[int, float] = {}
        exact = self._word_ids.get(word)
        if exact is not None:
            found[exact] = 100.0
        if len(word) >= PREFIX_MIN_LENGTH:
            for word_id, candidate in enumerate(self._words):
                if len(candidate) > len(word) and candidate.startswith(word):
                    found[word_id] = max(
                        found.get(word_id, 0.0),
                        PREFIX_BASE + PREFIX_SPAN * len(word) / len(candidate),
                    )
        if len(word) >= TYPO_MIN_LENGTH:
            for _, similarity, word_id in process.extract(
                word,
                self._words,
                scorer=OSA.normalized_similarity,
                score_cutoff=TYPO_MIN_SIMILARITY,
                limit=None,
            ):
                found[word_id] = max(found.get(word_id, 0.0), 100.0 * similarity)
        if len(self._similar_cache) >= _TOKEN_CACHE_SIZE:
            self._similar_cache.clear()
        self._similar_cache[word] = found
        return found

    def search(self, query: str, limit: int = 5) -> list[EntityMatch]:
        """The best ``limit`` entities for ``query``, best first; empty for junk or no match."""
        if limit <= 0 or not self._entities:
            return []
        words = list(dict.fromkeys(self._normalize(query[:MAX_QUERY_CHARS])))[:MAX_QUERY_WORDS]
        if not words:
            return []
        entity_scores = self._entity_scores(words)
        partial = not entity_scores and len(words) > 1
        if partial:
            # Nothing matches the whole query ("sunat mef", "oficina de integridad sunat"):
            # what each run of consecutive words finds ("ministerio economia" in "ministerio de
            # economia sede central"), to choose from, never a sure pick.
            n = min(len(words), PARTIAL_MAX_WORDS)
            for start in range(n):
                for end in range(start + 1, n + 1):
                    if end - start == len(words):
                        continue
                    for entity_index, score in self._entity_scores(words[start:end]).items():
                        best = entity_scores.get(entity_index, 0.0)
                        entity_scores[entity_index] = max(best, score)
        if not entity_scores:
            return []
        name_rank = self._name_rank
        ranked = heapq.nsmallest(
            max(limit, 2),
            entity_scores.items(),
            key=lambda item: (-item[1], name_rank[item[0]]),
        )
        top_score = ranked[0][1]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        confident = (
            not partial
            and top_score >= CONFIDENT_SCORE
            and top_score - runner_up >= CONFIDENT_MARGIN
        )
        matches: list[EntityMatch] = []
        for position, (entity_index, score) in enumerate(ranked[:limit]):
            entity = self._entities[entity_index]
            matches.append(
                EntityMatch(
                    id=entity.id,
                    name=entity.name,
                    score=round(min(score, 100.0), 1),
                    confident=confident and position == 0,
                    acronym=entity.acronym,
                )
            )
        return matches

    def _entity_scores(self, words: Sequence[str]) -> dict[int, float]:
        """Each matching entity's score (at least ``MIN_SCORE``) for the normalised ``words``."""
        similar = [self._similar(word) for word in words]
        weighted = [(sims, weight / total) for sims, weight, total in self._weights(similar)]
        # Best similarity of each vocabulary word to any query word, for the key coverage.
        word_best: dict[int, float] = {}
        candidates: set[int] = set()
        for sims in similar:
            for word_id, similarity in sims.items():
                if similarity > word_best.get(word_id, 0.0):
                    word_best[word_id] = similarity
                candidates.update(self._postings[word_id])

        idf = self._idf
        key_words = self._key_words
        key_factor = self._key_factor
        key_total_idf = self._key_total_idf
        entity_scores: dict[int, float] = {}
        for key_id in candidates:
            ids = key_words[key_id]
            query_cover = 0.0
            for sims, share in weighted:
                best = 0.0
                for word_id in ids:
                    similarity = sims.get(word_id)
                    if similarity is not None and similarity > best:
                        best = similarity
                query_cover += share * best
            factor = key_factor[key_id]
            # Even a fully covered key cannot reach MIN_SCORE: skip the coverage sum.
            if (QUERY_WEIGHT * query_cover + KEY_WEIGHT * 100.0) * factor < MIN_SCORE:
                continue
            key_cover = 0.0
            for word_id in ids:
                similarity = word_best.get(word_id)
                if similarity is not None:
                    key_cover += idf[word_id] * similarity
            score = QUERY_WEIGHT * query_cover + KEY_WEIGHT * key_cover / key_total_idf[key_id]
            score *= factor
            if score < MIN_SCORE:
                continue
            for entity_index in self._key_entities[key_id]:
                if score > entity_scores.get(entity_index, 0.0):
                    entity_scores[entity_index] = score
        return entity_scores

    def _weights(
        self, similar: list[dict[int, float]]
    ) -> list[tuple[dict[int, float], float, float]]:
        """Each query word's similarities with its weight and the sum of all weights."""
        weights = [self._weight(sims) for sims in similar]
        total = sum(weights)
        return [(sims, weight, total) for sims, weight in zip(similar, weights, strict=True)]

    def _weight(self, sims: dict[int, float]) -> float:
        """How much a query word counts: the IDF of its best vocabulary match."""
        if not sims:
            return self._unmatched_weight
        top = max(sims.values())
        return max(self._idf[word_id] for word_id, s in sims.items() if s == top)
