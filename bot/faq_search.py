"""Find the FAQ entry an officer's free-text question is about ("q es el icp", "cdo es la capa").

**Normalisation** (the same for the officer's question and for the entries): accents folded,
case-folded, punctuation removed, dotted acronyms (``I.C.P.``) joined, letters and digits split
("etapa1"), chat shorthand and synonyms replaced, acronyms expanded (the acronym is kept too), a
few phrases read as one word ("por qué" -> "porque"), stop words dropped (question words such as
*qué*, *cuándo*, *quién* are kept: they tell questions apart) and the rest stemmed with the
Snowball Spanish stemmer (PyStemmer). The vocabulary is ``content/search/faq_shorthand.yaml``.
A word followed by a number is also read as one term ("etapa 1", "componente 1"), so the two
are told apart. A word of the question (4+ letters) that neither the entries nor the vocabulary
know is corrected to the most similar known word (rapidfuzz, optimal string alignment >= 0.75,
>= 0.85 when the first letters differ, since typos seldom touch the first letter; cached):
"capasitacion" -> "capacitacion", but "fases" stays apart from "bases". Failing that, a known
word of the same root (one stem starts the other, 5+ letters) is taken: "obligado" (stem
*oblig*) -> "obligatoria" (*obligatori*). A corrected word counts ``TYPO_FACTOR``. A one-word
synonym of the vocabulary also stands for the other forms of its word (same stem, 4+ letters):
"apelar" -> "reclamo" makes "apelo" and "apelamos" read as "reclamo" too.

**Weights.** A term weighs IDF² over the entries (its rarity among them: "marzo" or "salud"
outweigh "icp" or "componente"); a word no entry knows weighs as much as the rarest word and is
never matched, so a question mostly made of unknown words scores low (a question word no entry
uses weighs as little as a word every entry uses; a bare number counts half: its word-number
pair carries the meaning).

**Scores.** Each entry is indexed as short documents: its question and each alternative; its
answer is a weaker source of words. A document's similarity to the question (0..1) is

    QUERY_COVERAGE_WEIGHT * query coverage + (1 - QUERY_COVERAGE_WEIGHT) * document coverage

where *query coverage* is the share of the question's weight the document holds (a term only in
the entry's answer counts ``ANSWER_COVERAGE``) and *document coverage* the share of the
document's own weight the question holds (a long phrasing is not "answered" by the one word it
shares with a question; for one-word questions it weighs more). That is scaled by the document's
BM25 score (``bm25s``) relative to the best document (``BM25_WEIGHT``) and, for short questions,
raised to a character-level fuzzy similarity (rapidfuzz ``token_sort_ratio``; ``token_set_ratio``
would rate 100 every phrasing holding the question's only word) when that is higher.

An entry's *word score* blends its best documents (one matching phrasing is less sure than
several) and its *joint coverage*: the share of the question found in all its phrasings together
(or, less, its answer), which rewards a question mixing words of several phrasings. Its score is
that, weighed ``1 - CHAR_WEIGHT``, plus ``CHAR_WEIGHT`` times the cosine of character n-grams (3
to 5 letters within each word, TF-IDF) between the question and all the entry's phrasings
together, both normalised as above but keeping stop words, an acronym also read as its
expansion. The n-grams catch what whole words miss: compounds and inflections the stemmer splits
("autoevaluación" / "evaluación"), typos left uncorrected; on the development set they raised
top-1 from 0.888 to 0.909 and the share of questions answered directly from 53 % to 61 % at
higher precision.
A question that *is* one of an entry's phrasings once normalised scores 1 and is answered.

**Bands.** ``answer`` when the best entry scores at least ``ANSWER_SCORE`` (``SHORT_ANSWER_SCORE``
when the question has one word besides question words: one word is thin evidence, "¿qué hora
es?") and leads the next by ``ANSWER_MARGIN`` (or is the only exact match); ``suggest`` ("¿Se
refiere a…?", the first three hits) when it scores at least ``SUGGEST_SCORE``; ``fallback``
otherwise.

The weights were tuned on the *development set* (``tests/faq_dev``: officers' questions written
apart from the entries and from the evaluation set; ``python -m tests.benchmarks.faq --dev``),
by coordinate search for top-3, then top-1. The bands were set on the development set's
questions and the entries: the answer band where direct answers are right >= 98 % of the time
(0.985 on the development set; each phrasing of the entries, left out of the index and asked,
0.959), the development set's off-topic questions and the invented ones of
``tests/test_faq_quality.py`` almost never answered (0 of 125 and 0 of 70 with the phrasings of
2026-11-27; 1 and 1 before them), and the suggest band keeping most off-topic questions out
while few in-domain ones fall below it (``--dev`` and ``--calibration`` print these figures).
The evaluation set in ``tests/faq_eval`` only measures.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import bm25s
import numpy as np
import yaml
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from Stemmer import Stemmer

from bot.catalog import DEFAULT_CONTENT_DIR, fold
from bot.content_problems import ContentError, ContentProblem
from bot.faq_content import FaqEntry

SHORTHAND_FILE = "search/faq_shorthand.yaml"

Band = Literal["answer", "suggest", "fallback"]

# --- calibration (see the module docstring) -----------------------------------------------
IDF_EXPONENT = 0.75  # a term weighs IDF ** this
UNKNOWN_WEIGHT_FACTOR = 1.0  # an unknown word weighs this times the rarest known word
TYPO_FACTOR = 0.85  # a corrected word counts this much of an exact one
ACRONYM_HEAD_SHARE = 0.5  # an acronym's weight it keeps; the rest goes to its expansion
NUMBER_WEIGHT_FACTOR = 0.5  # a bare number weighs this much (its word-number pair counts fully)
ANSWER_COVERAGE = 0.5  # a term found only in the entry's answer counts this much
QUERY_COVERAGE_WEIGHT = 0.6  # query coverage vs document coverage...
SHORT_QUERY_COVERAGE_WEIGHT = 0.5  # ...when the question has one word besides question words
BM25_WEIGHT = 0.15  # similarity *= 1 - BM25_WEIGHT + BM25_WEIGHT * bm25 / best bm25
CHAR_WEIGHT = 0.5  # entry score = (1 - CHAR_WEIGHT) * word score + CHAR_WEIGHT * n-gram cosine
CHAR_NGRAMS = (3, 5)  # character n-gram lengths, within words padded with a space each side
FUZZY_MAX_TERMS = 3  # questions of at most this many terms also get the fuzzy similarity
FUZZY_FLOOR = 50.0  # fuzzy ratios (0..100) up to this count as 0 (unrelated texts get ~40)
FUZZY_FACTOR = 0.7  # the rescaled fuzzy similarity (0..1) times this
DOC_WEIGHTS = (0.7, 0.2, 0.1)  # an entry's three best documents
JOINT_WEIGHT = 0.3  # share of the entry score given to its joint coverage
ANSWER_SCORE = 0.52  # band "answer": the best entry scores at least this...
SHORT_ANSWER_SCORE = 0.60  # ...this when the question has one word besides question words...
ANSWER_MARGIN = 0.08  # ...and leads the next entry by at least this
SUGGEST_SCORE = 0.32  # band "suggest": the best entry scores at least this
MIN_SCORE = 0.05  # hits below this are not returned (nothing in common with the question)

# --- input limits -----------------------------------------------------------------------------
MAX_QUERY_CHARS = 300
MAX_QUERY_TERMS = 20
TYPO_MIN_LENGTH = 4
TYPO_MIN_SIMILARITY = 0.75
TYPO_OTHER_FIRST_SIMILARITY = 0.85  # ...when the first letters differ
ROOT_MIN_LENGTH = 5  # a stem this long that starts a known stem is the same root
SYNONYM_STEM_MIN_LENGTH = 4  # a synonym's other forms are found by a stem this long
_CACHE_SIZE = 4096

_DOTTED_ACRONYM = re.compile(r"\b(?:[a-z0-9]\.){2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_LETTERS_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")
_TAG = re.compile(r"<[^>]*>")
_STEMMER_LANGUAGE = "spanish"


# ---------------------------------------------------------------------------------------------
# Public types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaqHit:
    """One entry found, with its calibrated score (0..1, higher is better)."""

    entry: FaqEntry
    score: float


@dataclass(frozen=True, slots=True)
class FaqResult:
    """What to do with a question (``band``) and the entries found, best first.

    ``answer``: give ``hits[0]``'s answer. ``suggest``: offer ``hits[:3]`` ("¿Se refiere a…?").
    ``fallback``: say the bot does not know and offer an individual request; the hits (weak,
    possibly empty) are only for logs and debugging.
    """

    band: Band
    hits: list[FaqHit]

    @property
    def best(self) -> FaqHit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True, slots=True)
class Shorthand:
    """The search vocabulary of ``content/search/faq_shorthand.yaml``, every word folded.

    ``shorthand`` also holds the one-word synonyms and ``phrases`` the several-word ones.
    """

    acronyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    shorthand: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: Mapping[tuple[str, ...], str] = field(default_factory=dict)
    question_words: frozenset[str] = frozenset()
    stop_words: frozenset[str] = frozenset()
    synonyms: Mapping[str, str] = field(default_factory=dict)  # one-word variant -> word


# ---------------------------------------------------------------------------------------------
# Loading the vocabulary
# ---------------------------------------------------------------------------------------------

_SECTIONS = ("acronyms", "shorthand", "synonyms", "phrases", "question_words", "stop_words")


def load_shorthand(content_dir: Path) -> tuple[Shorthand, list[ContentProblem]]:
    """Read ``search/faq_shorthand.yaml``; on problems, what could be read (and the problems)."""
    problems: list[ContentProblem] = []

    def problem(entry: str, message: str) -> None:
        problems.append(ContentProblem(SHORTHAND_FILE, entry, message))

    try:
        data = yaml.safe_load((content_dir / SHORTHAND_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        problem("", "file not found")
        return Shorthand(), problems
    except (OSError, UnicodeDecodeError) as exc:
        problem("", f"cannot read file: {exc}")
        return Shorthand(), problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem(f"line {mark.line + 1}" if mark else "", f"invalid YAML: {exc}")
        return Shorthand(), problems
    if not isinstance(data, dict):
        problem("", f"expected a mapping with {', '.join(_SECTIONS)}")
        return Shorthand(), problems
    for key in sorted(str(k) for k in data if k not in _SECTIONS):
        problem(key, "unknown top-level key")

    def mapping(section: str) -> dict[str, tuple[str, ...]]:
        raw = data.get(section) or {}
        result: dict[str, tuple[str, ...]] = {}
        if not isinstance(raw, dict):
            problem(section, "must be a mapping of word -> text")
            return result
        for raw_key, raw_value in raw.items():
            key = _words(str(raw_key))
            value = tuple(_words(raw_value)) if _is_text(raw_value) else ()
            if not _is_text(raw_key):
                problem(f"{section}.{raw_key}", "key is not a word: quote it")
            elif section != "phrases" and len(key) != 1:
                problem(f"{section}.{raw_key}", "key must be a single word")
            elif section == "phrases" and len(key) < 2:
                problem(f"{section}.{raw_key}", "a phrase has at least two words")
            elif not value:
                problem(f"{section}.{raw_key}", "value must be a non-empty text")
            elif section == "phrases" and len(value) != 1:
                problem(f"{section}.{raw_key}", "a phrase stands for a single word")
            elif " ".join(key) in result:
                problem(f"{section}.{raw_key}", "defined twice (keys are folded)")
            else:
                result[" ".join(key)] = value
        return result

    def word_list(section: str) -> frozenset[str]:
        raw = data.get(section) or []
        if not isinstance(raw, list):
            problem(section, "must be a list of words")
            return frozenset()
        words: set[str] = set()
        for raw_word in raw:
            folded = _words(str(raw_word))
            if not _is_text(raw_word):
                problem(section, f"{raw_word!r} is not a word: quote it")
            elif len(folded) != 1:
                problem(section, f"not a single word: {raw_word!r}")
            else:
                words.add(folded[0])
        return frozenset(words)

    acronyms = mapping("acronyms")
    shorthand = mapping("shorthand")
    raw_phrases = mapping("phrases")
    question_words = word_list("question_words")
    stop_words = word_list("stop_words")

    # Synonyms: canonical word -> its variants (words, or phrases of several words).
    synonyms: dict[str, str] = {}
    raw_synonyms = data.get("synonyms") or {}
    if not isinstance(raw_synonyms, dict):
        problem("synonyms", "must be a mapping of word -> list of words or phrases")
        raw_synonyms = {}
    for raw_key, raw_variants in raw_synonyms.items():
        canonical = _words(str(raw_key))
        where = f"synonyms.{raw_key}"
        if len(canonical) != 1:
            problem(where, "key must be a single word")
            continue
        if not isinstance(raw_variants, list) or not raw_variants:
            problem(where, "must be a non-empty list of words or phrases")
            continue
        for raw_variant in raw_variants:
            variant = _words(str(raw_variant))
            joined = " ".join(variant)
            if not _is_text(raw_variant) or not variant or variant == canonical:
                problem(where, f"not a variant: {raw_variant!r}")
            elif len(variant) == 1 and (joined in shorthand or joined in acronyms):
                problem(where, f"{joined!r} is already a shorthand or an acronym")
            elif len(variant) > 1 and joined in raw_phrases:
                problem(where, f"{joined!r} is already a phrase")
            elif len(variant) == 1:
                shorthand[joined] = (canonical[0],)
                synonyms[joined] = canonical[0]
            else:
                raw_phrases[joined] = (canonical[0],)

    for word in sorted(acronyms.keys() & shorthand.keys()):
        problem(word, "word is both an acronym and a shorthand")
    for section, keys in (
        ("acronym", acronyms.keys()),
        ("shorthand", shorthand.keys()),
        ("question word", question_words),
    ):
        for word in sorted(stop_words & set(keys)):
            problem(word, f"word is both a stop word and a {section}")
    for word in sorted(question_words & shorthand.keys()):
        problem(word, "a question word cannot be a shorthand (it would be replaced)")

    # Phrases are matched after the shorthand is applied: read their words the same way.
    phrases: dict[tuple[str, ...], str] = {}
    for key, value in raw_phrases.items():
        words = tuple(w for word in key.split() for w in shorthand.get(word, (word,)))
        phrases[words] = value[0]
    return (
        Shorthand(acronyms, shorthand, phrases, question_words, stop_words, synonyms),
        problems,
    )


def _is_text(value: object) -> bool:
    """A YAML scalar usable as text: a string or a number (not ``no``/``yes`` read as a bool)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


@cache
def default_shorthand() -> Shorthand:
    """The shipped vocabulary; raises ``ContentError`` if the file has problems."""
    shorthand, problems = load_shorthand(DEFAULT_CONTENT_DIR)
    if problems:
        raise ContentError(problems)
    return shorthand


# ---------------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------------


def _words(text: Any) -> list[str]:
    """Folded ascii words of ``text``: no accents, lower case, no punctuation, ``I.C.P.`` joined.

    Numbers lose their leading zeros ("001" -> "1"); single letters are kept (they may be
    shorthand such as "q" or "x") and dropped later.
    """
    folded = fold(str(text))
    folded = _DOTTED_ACRONYM.sub(lambda m: m.group().replace(".", ""), folded)
    return [_number(w) for w in _NON_WORD.sub(" ", folded).split()]


def _number(word: str) -> str:
    """Numbers without leading zeros ("001" -> "1"); other words unchanged."""
    return word.lstrip("0") or "0" if word.isdigit() else word


def _strip_tags(html: str) -> str:
    return _TAG.sub(" ", html)


@dataclass(frozen=True, slots=True)
class _Term:
    """One word (or word-number pair) of a text as the index compares it.

    ``tokens``: a plain word is its stem; an acronym is itself followed by the stems of its
    expansion; a pair is ``stem_number``. ``raw`` is the folded word as written.
    """

    tokens: tuple[str, ...]
    raw: str
    factor: float = 1.0  # < 1 for a typo-corrected word
    is_acronym: bool = False

    @property
    def head(self) -> str:
        return self.tokens[0]


class _Normalizer:
    """Text -> words -> terms with the vocabulary file; stems cached."""

    def __init__(self, shorthand: Shorthand) -> None:
        self.shorthand = shorthand
        self._stemmer = Stemmer(_STEMMER_LANGUAGE)
        self._stem_cache: dict[str, str] = {}
        self._max_phrase = max((len(k) for k in shorthand.phrases), default=1)
        # Acronym -> stems of its expansion; first stem -> (expansion, acronym), to spot an
        # acronym spelled out in a text.
        # A one-word synonym also stands for the other forms of its word ("apelar" for "apelo",
        # "apelamos"): its stem, when that keeps SYNONYM_STEM_MIN_LENGTH+ letters, maps too.
        self._synonym_stems: dict[str, str] = {}
        for variant, canonical in shorthand.synonyms.items():
            stem = self.stem(variant)
            if len(stem) >= SYNONYM_STEM_MIN_LENGTH and stem != self.stem(canonical):
                self._synonym_stems.setdefault(stem, canonical)
        self.expansions: dict[str, tuple[str, ...]] = {}
        self._spelled_out: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for acronym, words in shorthand.acronyms.items():
            stems = tuple(
                dict.fromkeys(self.stem(w) for w in words if w not in shorthand.stop_words)
            )
            if stems:
                self.expansions[acronym] = stems
                self._spelled_out.setdefault(stems[0], []).append((stems, acronym))

    def stem(self, word: str) -> str:
        stem = self._stem_cache.get(word)
        if stem is None:
            if word.isdigit() or word in self.shorthand.question_words:
                stem = word
            else:
                stem = self._stemmer.stemWord(word)
            if len(self._stem_cache) >= _CACHE_SIZE:
                self._stem_cache.clear()
            self._stem_cache[word] = stem
        return stem

    def words(self, text: str, keep_stop_words: bool = False) -> list[str]:
        """Folded words with shorthand replaced, phrases joined and stop words dropped (unless
        ``keep_stop_words``)."""
        return [word for word, _ in self.weighted_words(text, keep_stop_words=keep_stop_words)]

    def weighted_words(
        self,
        text: str,
        correct: Callable[[str], str | None] | None = None,
        keep_stop_words: bool = False,
    ) -> list[tuple[str, float]]:
        """Like ``words``, each with a factor: ``TYPO_FACTOR`` for a word that ``correct``
        replaced (before the shorthand, so "cunatas" -> "cuantas" -> "cuanto"), else 1."""
        shorthand = self.shorthand.shorthand
        expanded: list[tuple[str, float]] = []
        for word in _words(text):
            factor = 1.0
            if correct is not None and word not in shorthand:
                fixed = correct(word)
                if fixed is not None:
                    word, factor = fixed, TYPO_FACTOR
            replaced = shorthand.get(word)
            if replaced is None and word.isalpha() and self._synonym_stems:
                canonical = self._synonym_stems.get(self.stem(word))
                replaced = (canonical,) if canonical is not None else None
            if replaced is None and not word.isalpha() and not word.isdigit():
                # "etapa1" -> "etapa 1" (but "c6" may be shorthand: looked up first)
                parts = _LETTERS_OR_DIGITS.findall(word)
                replaced = tuple(w for part in parts for w in shorthand.get(part, (_number(part),)))
            expanded.extend((w, factor) for w in replaced or (word,))
        if self.shorthand.phrases:
            joined: list[tuple[str, float]] = []
            i = 0
            while i < len(expanded):
                for size in range(min(self._max_phrase, len(expanded) - i), 1, -1):
                    part = expanded[i : i + size]
                    phrase = self.shorthand.phrases.get(tuple(w for w, _ in part))
                    if phrase is not None:
                        joined.append((phrase, min(f for _, f in part)))
                        i += size
                        break
                else:
                    joined.append(expanded[i])
                    i += 1
            expanded = joined
        if keep_stop_words:
            return expanded
        return [(w, f) for w, f in expanded if self.is_content(w)]

    def is_content(self, word: str) -> bool:
        """Not a stop word nor a stray letter (question words and numbers are content)."""
        if word in self.shorthand.stop_words:
            return False
        return len(word) > 1 or word.isdigit() or word in self.shorthand.question_words

    def term(self, word: str, factor: float = 1.0) -> _Term:
        expansion = self.expansions.get(word)
        if expansion:
            return _Term((word, *expansion), word, factor, is_acronym=True)
        return _Term((self.stem(word),), word, factor)

    def pairs(self, words: Sequence[str]) -> list[_Term]:
        """Each word followed by a number, as one more term ("etapa 1" -> "etap_1")."""
        terms: list[_Term] = []
        for word, number in itertools.pairwise(words):
            if number.isdigit() and not word.isdigit():
                head = word if word in self.expansions else self.stem(word)
                terms.append(_Term((f"{head}_{number}",), f"{word} {number}"))
        return terms

    def terms(self, words: Sequence[str]) -> list[_Term]:
        """Terms of ``words`` (one per distinct head), then their word-number pairs."""
        terms: list[_Term] = []
        seen: set[str] = set()
        for term in [*(self.term(word) for word in words), *self.pairs(words)]:
            if term.head not in seen:
                seen.add(term.head)
                terms.append(term)
        return terms

    def acronyms_spelled_out(self, terms: Sequence[_Term]) -> list[str]:
        """Acronyms whose expansion appears, in order, among the plain terms."""
        stems = [t.head for t in terms if not t.is_acronym]
        found: list[str] = []
        for i, stem in enumerate(stems):
            for expansion, acronym in self._spelled_out.get(stem, ()):
                if tuple(stems[i : i + len(expansion)]) == expansion and acronym not in found:
                    found.append(acronym)
        return found


# ---------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RootWord:
    word: str
    stem: str
    count: int  # entries holding the word


_NO_ROOT = _RootWord("", "", 0)

_Weighed = tuple[float, list[tuple[str, float]], float]  # weight, token shares, factor


@dataclass(frozen=True, slots=True)
class _Query:
    tokens: dict[str, float]  # token -> the weight it carries in the question
    total: float  # total weight of the question's terms, unknown words included
    token_set: frozenset[str]  # tokens present, spelled-out acronyms included
    fuzzy_text: str  # the distinct words, for the fuzzy similarity
    text: str  # the question as asked (tags stripped, cut to MAX_QUERY_CHARS)
    n_terms: int
    n_content: int  # terms that are not question words


class FaqIndex:
    """In-memory index of the FAQ entries, answering ``ask(text)``."""

    def __init__(self, entries: Sequence[FaqEntry], shorthand: Shorthand | None = None) -> None:
        self._shorthand = shorthand if shorthand is not None else default_shorthand()
        self._norm = norm = _Normalizer(self._shorthand)
        self._entries: list[FaqEntry] = list(entries)
        n_entries = len(self._entries)

        # Documents: each entry's question and alternatives (consecutive ids per entry).
        doc_terms: list[list[_Term]] = []
        doc_entry: list[int] = []
        self._doc_text: list[str] = []
        phrasing_tokens: list[set[str]] = [set() for _ in self._entries]
        answer_tokens: list[set[str]] = []
        self._word_count: dict[str, int] = {}  # word -> in how many entries it appears
        char_words: list[list[str]] = []  # each entry's phrasings' words, stop words kept
        for index, entry in enumerate(self._entries):
            entry_words: set[str] = set()
            entry_all_words: list[str] = []
            for text in (entry.question, *entry.alternatives):
                all_words = norm.words(text, keep_stop_words=True)
                entry_all_words += all_words
                words = [word for word in all_words if norm.is_content(word)]
                terms = norm.terms(words)
                if not terms:
                    continue
                entry_words.update(words)
                doc_terms.append(terms)
                doc_entry.append(index)
                self._doc_text.append(" ".join(words))
                phrasing_tokens[index].update(self._tokens_of(terms))
            answer_words = norm.words(_strip_tags(entry.answer))
            entry_words.update(answer_words)
            answer_tokens.append(self._tokens_of(norm.terms(answer_words)))
            for word in entry_words:
                self._word_count[word] = self._word_count.get(word, 0) + 1
            char_words.append(entry_all_words)

        # IDF over entries (an entry with many alternatives counts once).
        df: dict[str, int] = {}
        for bag in phrasing_tokens:
            for tok in bag:
                df[tok] = df.get(tok, 0) + 1
        self._idf = {tok: math.log(1 + max(n_entries, 1) / n) for tok, n in df.items()}
        self._max_idf = math.log(1 + max(n_entries, 1))
        self._unknown_weight = UNKNOWN_WEIGHT_FACTOR * self._max_idf**IDF_EXPONENT
        self._common_weight = math.log(2) ** IDF_EXPONENT  # a term found in every entry

        # Document postings: token -> (doc ids, the token's weight in each doc's own profile).
        self._n_docs = n_docs = len(doc_terms)
        self._doc_entry = np.asarray(doc_entry, dtype=np.intp)
        doc_total = np.zeros(n_docs)
        rows: dict[str, dict[int, float]] = {}
        bm25_corpus: list[list[str]] = []
        for doc, terms in enumerate(doc_terms):
            for term in terms:
                weight, shares = self._weigh(term)
                doc_total[doc] += weight
                for tok, share in shares:
                    row = rows.setdefault(tok, {})
                    row[doc] = row.get(doc, 0.0) + weight * share
            spelled = norm.acronyms_spelled_out(terms)
            for tok in spelled:  # present (for coverage) but weightless in the doc's profile
                rows.setdefault(tok, {}).setdefault(doc, 0.0)
            bm25_corpus.append([tok for term in terms for tok in term.tokens] + spelled)
        self._doc_total = np.maximum(doc_total, 1e-9)
        self._doc_term_count = np.asarray([len(terms) for terms in doc_terms], dtype=np.intp)
        self._postings = {
            tok: (np.fromiter(row, np.intp, len(row)), np.fromiter(row.values(), float, len(row)))
            for tok, row in rows.items()
        }
        # Answer tokens -> the documents of the entries whose answer holds them; entry postings.
        docs_of_entry = [np.flatnonzero(self._doc_entry == e) for e in range(n_entries)]
        self._answer_postings: dict[str, np.ndarray] = {}
        for tok, ids in _invert(answer_tokens).items():
            docs = np.concatenate([docs_of_entry[e] for e in ids])
            if len(docs):
                self._answer_postings[tok] = docs
        self._entry_postings = _invert_array(phrasing_tokens)
        self._entry_answer_postings = _invert_array(answer_tokens)
        # Each entry's documents as a row (padded with ``n_docs``, a document scoring 0).
        width = max((len(d) for d in docs_of_entry), default=0)
        self._entry_docs = np.full((n_entries, max(width, 1)), n_docs, dtype=np.intp)
        for e, docs in enumerate(docs_of_entry):
            self._entry_docs[e, : len(docs)] = docs

        self._char = _CharIndex(char_words, norm)

        self._doc_weights_key: tuple[float, ...] = ()
        self._doc_weights_rows = np.zeros((n_entries, 0))
        self._bm25: bm25s.BM25 | None = None
        if n_docs:
            self._bm25 = bm25s.BM25()
            self._bm25.index(bm25_corpus, show_progress=False)

        # Words never corrected, and the words typos are corrected to: the entries' words and
        # every word of the vocabulary file.
        sh = self._shorthand
        known = set(self._word_count) | sh.question_words | sh.stop_words
        known |= sh.shorthand.keys() | sh.acronyms.keys()
        self._known_words = frozenset(known)
        self._known_tokens = frozenset(self._idf) | frozenset(self._answer_postings)
        self._vocabulary = sorted(w for w in known if w.isalpha() and len(w) > 2)
        self._correction_cache: dict[str, str | None] = {}
        # Stems of the entries' words (5+ letters) by their first letters, for ``_same_root``.
        by_stem: dict[str, _RootWord] = {}
        for word, count in self._word_count.items():
            if word.isalpha() and word not in sh.stop_words and word not in sh.question_words:
                stem = norm.stem(word)
                if len(stem) >= ROOT_MIN_LENGTH and count > by_stem.get(stem, _NO_ROOT).count:
                    by_stem[stem] = _RootWord(word, stem, count)
        self._root_words: dict[str, list[_RootWord]] = {}
        for root in by_stem.values():
            self._root_words.setdefault(root.stem[:ROOT_MIN_LENGTH], []).append(root)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> Sequence[FaqEntry]:
        return self._entries

    # -- public ---------------------------------------------------------------------------------

    def ask(self, text: str, limit: int = 5) -> FaqResult:
        """The band and the best ``limit`` entries for ``text`` (hits may be empty)."""
        if limit <= 0 or not self._n_docs or not isinstance(text, str):
            return FaqResult("fallback", [])
        query = self._query(_strip_tags(text[:MAX_QUERY_CHARS]))
        if query is None:
            return FaqResult("fallback", [])
        scores, exact_matches = self._entry_scores(query)
        order = np.argsort(-scores, kind="stable")
        top = float(scores[order[0]])
        second = float(scores[order[1]]) if len(order) > 1 else 0.0
        band: Band
        needed = ANSWER_SCORE if query.n_content > 1 else SHORT_ANSWER_SCORE
        if exact_matches == 1 or (top >= needed and top - second >= ANSWER_MARGIN):
            band = "answer"
        elif top >= SUGGEST_SCORE:
            band = "suggest"
        else:
            band = "fallback"
        hits: list[FaqHit] = []
        for index in order[:limit]:
            score = float(scores[index])
            if score < MIN_SCORE:
                break
            hits.append(FaqHit(self._entries[index], round(min(score, 1.0), 4)))
        return FaqResult(band, hits)

    # -- internals ------------------------------------------------------------------------------

    def _tokens_of(self, terms: Sequence[_Term]) -> set[str]:
        tokens = {tok for term in terms for tok in term.tokens}
        tokens.update(self._norm.acronyms_spelled_out(terms))
        return tokens

    def _weigh(self, term: _Term) -> tuple[float, list[tuple[str, float]]]:
        """A term's weight and its tokens' shares of it (summing to 1).

        An acronym known to the index keeps ``ACRONYM_HEAD_SHARE`` of its weight and shares
        the rest with its expansion (the rarer stems taking more); an acronym unknown to the
        entries is only its expansion.
        """
        idf = self._idf
        if not term.is_acronym:
            known = idf.get(term.head)
            if known is not None:
                weight = known**IDF_EXPONENT
            elif term.raw in self._shorthand.question_words:
                weight = self._common_weight  # a question word is never an unknown word
            else:
                weight = self._unknown_weight
            if term.head.isdigit():  # a bare number says little without its word ("etapa 1")
                weight *= NUMBER_WEIGHT_FACTOR
            return weight, [(term.head, 1.0)]
        head, expansion = term.head, term.tokens[1:]
        rarity = [idf.get(tok, self._max_idf) ** IDF_EXPONENT for tok in expansion]
        shares = [(tok, r / sum(rarity)) for tok, r in zip(expansion, rarity, strict=True)]
        head_idf = idf.get(head)
        if head_idf is not None:
            expansion_share = 1.0 - ACRONYM_HEAD_SHARE
            return head_idf**IDF_EXPONENT, [
                (head, ACRONYM_HEAD_SHARE),
                *((t, expansion_share * s) for t, s in shares),
            ]
        known_idf = [idf[tok] for tok in expansion if tok in idf]
        if not known_idf:
            return self._unknown_weight, [(head, 1.0)]
        return max(known_idf) ** IDF_EXPONENT, shares

    def _correct(self, word: str) -> str | None:
        """For a word unknown to the entries and to the vocabulary file (4+ letters), the most
        similar known word (the most frequent in the entries among equals); else None."""
        if word in self._correction_cache:
            return self._correction_cache[word]
        found: str | None = None
        if (
            len(word) >= TYPO_MIN_LENGTH
            and word.isalpha()
            and word not in self._known_words
            and self._norm.stem(word) not in self._known_tokens
        ):
            matches = process.extract(
                word,
                self._vocabulary,
                scorer=OSA.normalized_similarity,
                score_cutoff=TYPO_MIN_SIMILARITY,
                limit=None,
            )
            # A typo seldom touches the first letter: another first letter needs a closer match
            # ("fases" is not "bases", "medicion" not "rendicion").
            matches = [
                m for m in matches if m[0][0] == word[0] or m[1] >= TYPO_OTHER_FIRST_SIMILARITY
            ]
            if matches:
                found = max(matches, key=lambda m: (m[1], self._word_count.get(m[0], 0)))[0]
            else:
                found = self._same_root(word)
        if len(self._correction_cache) >= _CACHE_SIZE:
            self._correction_cache.clear()
        self._correction_cache[word] = found
        return found

    def _same_root(self, word: str) -> str | None:
        """A known word of the same root when one stem starts the other and the shorter has
        ``ROOT_MIN_LENGTH``+ letters: the stemmer keeps "obligado" (oblig) and "obligatoria"
        (obligatori) apart. The nearest in length wins, then the most frequent."""
        stem = self._norm.stem(word)
        if len(stem) < ROOT_MIN_LENGTH:
            return None
        candidates = [
            known
            for known in self._root_words.get(stem[:ROOT_MIN_LENGTH], ())
            if known.stem.startswith(stem) or stem.startswith(known.stem)
        ]
        if not candidates:
            return None
        best = min(candidates, key=lambda k: (abs(len(k.stem) - len(stem)), -k.count))
        return best.word

    def _query(self, text: str) -> _Query | None:
        norm = self._norm
        words = norm.weighted_words(text, self._correct)
        terms: list[_Term] = []
        seen: set[str] = set()
        distinct: list[str] = []
        for word, factor in words:
            term = norm.term(word, factor)
            if term.head not in seen and len(terms) < MAX_QUERY_TERMS:
                seen.add(term.head)
                terms.append(term)
                distinct.append(word)
        if not terms:
            return None
        for term in norm.pairs([word for word, _ in words]):
            # A pair only helps when some entry has it (unknown, it would weigh like an
            # unknown word).
            if term.head not in seen and term.head in self._idf:
                seen.add(term.head)
                terms.append(term)
        tokens: dict[str, float] = {}
        total = 0.0
        for term in terms:
            weight, shares = self._weigh(term)
            total += weight
            for tok, share in shares:
                tokens[tok] = tokens.get(tok, 0.0) + weight * share * term.factor
        question_words = norm.shorthand.question_words
        return _Query(
            tokens=tokens,
            total=total,
            token_set=frozenset(self._tokens_of(terms)),
            fuzzy_text=" ".join(distinct),
            text=text,
            n_terms=len(terms),
            n_content=sum(term.raw not in question_words for term in terms),
        )

    def _entry_scores(self, query: _Query) -> tuple[np.ndarray, int]:
        """Each entry's score: its best documents blended with its joint coverage; 1 for an
        entry one of whose phrasings is the question (once normalised). Also how many entries
        are such exact matches."""
        similarity = np.append(self._doc_similarity(query), 0.0)  # + the padding document
        exact = similarity > 1.5
        similarity[exact] = 1.0
        best = -np.sort(-similarity[self._entry_docs], axis=1)
        documents = np.zeros(len(self._entries))
        weights = self._doc_weights()
        for column in range(min(best.shape[1], weights.shape[1])):
            documents += weights[:, column] * best[:, column]
        scores = (1.0 - JOINT_WEIGHT) * documents + JOINT_WEIGHT * self._joint_coverage(query)
        if CHAR_WEIGHT:
            scores = (1.0 - CHAR_WEIGHT) * scores + CHAR_WEIGHT * self._char.similarity(query.text)
        exact_entries = np.unique(self._doc_entry[np.flatnonzero(exact[:-1])])
        scores[exact_entries] = 1.0
        return scores, len(exact_entries)

    def _doc_weights(self) -> np.ndarray:
        """Each entry's ``DOC_WEIGHTS``, over as many documents as it has (an entry with fewer
        phrasings than weights shares them among those it has)."""
        key = tuple(DOC_WEIGHTS)
        if self._doc_weights_key != key:
            counts = np.bincount(self._doc_entry, minlength=len(self._entries))
            rows = np.zeros((len(self._entries), len(key)))
            for e, count in enumerate(counts):
                used = np.asarray(key[: max(min(count, len(key)), 1)], dtype=float)
                rows[e, : len(used)] = used / used.sum()
            self._doc_weights_key, self._doc_weights_rows = key, rows
        return self._doc_weights_rows

    def _joint_coverage(self, query: _Query) -> np.ndarray:
        """Share of the question's weight found in each entry's phrasings (or, counting
        ``ANSWER_COVERAGE``, only in its answer)."""
        cover = np.zeros(len(self._entries))
        for tok, weight in query.tokens.items():
            phrasings = self._entry_postings.get(tok)
            answers = self._entry_answer_postings.get(tok)
            if phrasings is None and answers is None:
                continue
            found = np.zeros(len(self._entries))
            if answers is not None:
                found[answers] = ANSWER_COVERAGE
            if phrasings is not None:
                found[phrasings] = 1.0
            cover += weight * found
        return np.minimum(cover / max(query.total, 1e-9), 1.0)

    def _doc_similarity(self, query: _Query) -> np.ndarray:
        """Each document's similarity (0..1) to the question."""
        n_docs = self._n_docs
        query_cover = np.zeros(n_docs)
        for tok, weight in query.tokens.items():
            posting = self._postings.get(tok)
            answer_docs = self._answer_postings.get(tok)
            if posting is None and answer_docs is None:
                continue
            found = np.zeros(n_docs)
            if answer_docs is not None:
                found[answer_docs] = ANSWER_COVERAGE
            if posting is not None:
                found[posting[0]] = 1.0
            query_cover += weight * found
        doc_cover = np.zeros(n_docs)
        for tok in query.token_set:
            posting = self._postings.get(tok)
            if posting is not None:
                doc_cover[posting[0]] += posting[1]
        query_cover = np.minimum(query_cover / max(query.total, 1e-9), 1.0)
        doc_cover = np.minimum(doc_cover / self._doc_total, 1.0)
        # The question is this phrasing (once normalised): marked with a similarity of 2.
        exact = (query_cover > 0.9999) & (doc_cover > 0.9999)
        exact &= self._doc_term_count == query.n_terms
        weight = QUERY_COVERAGE_WEIGHT if query.n_content > 1 else SHORT_QUERY_COVERAGE_WEIGHT
        similarity = weight * query_cover + (1.0 - weight) * doc_cover
        if BM25_WEIGHT and self._bm25 is not None:
            bm25_tokens = [tok for tok in query.token_set if tok in self._postings]
            if bm25_tokens:
                bm25 = self._bm25.get_scores(bm25_tokens).astype(np.float64)
                best = float(bm25.max())
                if best > 0:
                    similarity *= 1.0 - BM25_WEIGHT + BM25_WEIGHT * bm25 / best
        if FUZZY_FACTOR and query.n_terms <= FUZZY_MAX_TERMS:
            fuzzy = process.cdist(
                [query.fuzzy_text], self._doc_text, scorer=fuzz.token_sort_ratio, workers=1
            )[0].astype(np.float64)
            rescaled = np.clip((fuzzy - FUZZY_FLOOR) / (100.0 - FUZZY_FLOOR), 0.0, 1.0)
            similarity = np.maximum(similarity, FUZZY_FACTOR * rescaled)
        similarity[exact] = 2.0
        return similarity


class _CharIndex:
    """Cosine similarity of character n-grams (TF-IDF) between a question and all of each
    entry's phrasings together: it catches what whole words miss, such as compounds and typos
    the correction leaves ("autoevaluacion" / "evaluacion")."""

    def __init__(self, entry_words: Sequence[Sequence[str]], norm: _Normalizer) -> None:
        """``entry_words``: each entry's normalised words, stop words kept."""
        self._norm = norm
        self._gram_cache: dict[str, tuple[str, ...]] = {}
        counts = [self._grams(words) for words in entry_words]
        df: dict[str, int] = {}
        for bag in counts:
            for gram in bag:
                df[gram] = df.get(gram, 0) + 1
        n = len(entry_words)
        self._idf = {gram: math.log((n + 1) / (k + 1)) + 1.0 for gram, k in df.items()}
        self._max_idf = math.log(n + 1) + 1.0
        self._n = n
        rows: dict[str, dict[int, float]] = {}
        for doc, bag in enumerate(counts):
            weights = {g: (1.0 + math.log(c)) * self._idf[g] for g, c in bag.items()}
            length = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for gram, weight in weights.items():
                rows.setdefault(gram, {})[doc] = weight / length
        self._postings = {
            gram: (np.fromiter(row, np.intp, len(row)), np.fromiter(row.values(), float, len(row)))
            for gram, row in rows.items()
        }

    def _grams(self, words: Sequence[str]) -> dict[str, int]:
        acronyms = self._norm.shorthand.acronyms  # an acronym also reads as its expansion
        bag: dict[str, int] = {}
        for word in [*words, *(w for each in words for w in acronyms.get(each, ()))]:
            for gram in self._word_grams(word):
                bag[gram] = bag.get(gram, 0) + 1
        return bag

    def _word_grams(self, word: str) -> tuple[str, ...]:
        grams = self._gram_cache.get(word)
        if grams is None:
            padded = f" {word} "
            low, high = CHAR_NGRAMS
            grams = tuple(
                padded[i : i + size]
                for size in range(low, high + 1)
                for i in range(len(padded) - size + 1)
            )
            if len(self._gram_cache) >= _CACHE_SIZE * 4:
                self._gram_cache.clear()
            self._gram_cache[word] = grams
        return grams

    def similarity(self, text: str) -> np.ndarray:
        scores = np.zeros(self._n)
        bag = self._grams(self._norm.words(text, keep_stop_words=True))
        length = 0.0
        for gram, count in bag.items():
            idf = self._idf.get(gram)
            weight = (1.0 + math.log(count)) * (idf if idf is not None else self._max_idf)
            length += weight * weight
            posting = self._postings.get(gram)
            if posting is not None:
                scores[posting[0]] += weight * posting[1]
        return scores / math.sqrt(length) if length else scores


def _invert(bags: Sequence[set[str]]) -> dict[str, list[int]]:
    """token -> indices of the bags holding it."""
    inverted: dict[str, list[int]] = {}
    for index, bag in enumerate(bags):
        for tok in bag:
            inverted.setdefault(tok, []).append(index)
    return inverted


def _invert_array(bags: Sequence[set[str]]) -> dict[str, np.ndarray]:
    return {tok: np.asarray(ids, dtype=np.intp) for tok, ids in _invert(bags).items()}
