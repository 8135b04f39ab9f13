"""Find the FAQ entry an officer's free-text question is about ("q es el icp", "cdo es la capa").

Text is normalised the same way for the officer's question and for the entries: accents folded,
case-folded, punctuation removed, dotted acronyms (``I.C.P.``) joined, chat shorthand replaced and
acronyms expanded with ``content/search/faq_shorthand.yaml``, stop words dropped (question words
such as *qué*, *cuándo*, *quién* are kept: they tell questions apart), and the remaining words
stemmed with the Snowball Spanish stemmer. A word of the question that is not in the entries'
vocabulary (4+ letters) is corrected to the closest vocabulary word when they are similar enough
("capasitacion" -> "capacitacion"); a corrected word counts a little less.

Each entry is indexed as several short documents (its question and each alternative phrasing);
the answer text is a weaker, separate source of words. The score of a document is a 0..1
similarity built from:

- query coverage: the share of the question's words, weighted by how rare they are among the
  entries (IDF), that the document contains (a word only found in the entry's answer counts for
  ``ANSWER_COVERAGE``; a word unknown to every entry weighs like the rarest word and is never
  covered);
- document coverage: the share of the document's own (IDF-weighted) words that the question
  contains, so a long question is not "answered" by the one word it shares with a query;
- the BM25 score of the document (``bm25s``), relative to the best document, which breaks ties
  between documents of similar coverage by term frequency and length;
- for short questions, a character-level fuzzy similarity (``rapidfuzz``) of the normalised texts,
  which tolerates the misspellings the word-level correction leaves.

An entry's score is its best document's. The band follows from the best score and its margin
over the next entry: ``answer`` (one confident entry), ``suggest`` (plausible entries: "¿Se
refiere a…?") or ``fallback`` (nothing relevant: say so and offer an individual request).
The constants below were calibrated on the entries themselves (each alternative phrasing,
left out of the index, must find its own entry) and on invented off-topic questions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
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

# --- calibration (see the module docstring and tests/test_faq_quality.py) -------------------
QUERY_COVERAGE_WEIGHT = 0.6  # vs document coverage in the similarity
GEOMETRIC = 0.0
UNION_WEIGHT = 0.3  # share of the entry score given to its phrasings' joint query coverage
BM25_WEIGHT = 0.1  # share of the similarity given to the relative BM25 score
ANSWER_COVERAGE = 0.5  # a query word found only in the entry's answer counts this much
TYPO_FACTOR = 0.85  # a corrected word counts this much of an exact one
IDF_EXPONENT = 2.0  # a word weighs IDF ** this: rare words (a month, a network) dominate
UNKNOWN_WEIGHT_FACTOR = 1.0  # weight of an unknown word, times the rarest word's weight
FUZZY_MAX_TERMS = 3  # queries with at most this many terms also use the fuzzy similarity
FUZZY_FLOOR = 50.0  # fuzzy ratios (0..100) up to this count as 0 (unrelated texts get ~40)
FUZZY_FACTOR = 0.9  # the rescaled fuzzy similarity (0..1) is scaled by this before it can win
ANSWER_SCORE = 0.62  # band "answer": the best entry scores at least this...
ANSWER_MARGIN = 0.08  # ...and leads the next entry by at least this
SUGGEST_SCORE = 0.40  # band "suggest": the best entry scores at least this
MIN_SCORE = 0.25  # hits below this are never returned
SUGGEST_SPREAD = 0.30  # in "suggest", hits more than this below the best one are dropped

# --- input limits -----------------------------------------------------------------------------
MAX_QUERY_CHARS = 300
MAX_QUERY_TERMS = 20
TYPO_MIN_LENGTH = 4
TYPO_MIN_SIMILARITY = 0.75
_CACHE_SIZE = 4096

_DOTTED_ACRONYM = re.compile(r"\b(?:[a-z0-9]\.){2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")
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
    """What to do with a question (``band``) and the entries found, best first."""

    band: Band
    hits: list[FaqHit]

    @property
    def best(self) -> FaqHit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True, slots=True)
class Shorthand:
    """The search vocabulary of ``content/search/faq_shorthand.yaml``, every word folded."""

    acronyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    shorthand: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    phrases: Mapping[tuple[str, ...], str] = field(default_factory=dict)
    question_words: frozenset[str] = frozenset()
    stop_words: frozenset[str] = frozenset()


# ---------------------------------------------------------------------------------------------
# Loading the vocabulary
# ---------------------------------------------------------------------------------------------

_SECTIONS = ("acronyms", "shorthand", "phrases", "question_words", "stop_words")


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
            value = tuple(_words(raw_value)) if isinstance(raw_value, str | int) else ()
            if section != "phrases" and len(key) != 1:
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
            if len(folded) != 1:
                problem(section, f"not a single word: {raw_word!r}")
            else:
                words.add(folded[0])
        return frozenset(words)

    acronyms = mapping("acronyms")
    shorthand = mapping("shorthand")
    raw_phrases = mapping("phrases")
    question_words = word_list("question_words")
    stop_words = word_list("stop_words")

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
        Shorthand(acronyms, shorthand, phrases, question_words, stop_words),
        problems,
    )


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
    words = _NON_WORD.sub(" ", folded).split()
    return [w.lstrip("0") or "0" if w.isdigit() else w for w in words]


@dataclass(frozen=True, slots=True)
class _Term:
    """One word of a text as the index compares it.

    ``tokens`` are the index tokens standing for the word: a plain word is its stem; an acronym
    is itself followed by the stems of its expansion. ``raw`` is the folded word as written.
    """

    tokens: tuple[str, ...]
    raw: str
    factor: float = 1.0  # < 1 for a typo-corrected word

    @property
    def head(self) -> str:
        return self.tokens[0]

    @property
    def is_acronym(self) -> bool:
        return len(self.tokens) > 1


class _Normalizer:
    """Folded words -> terms; stems and expansions cached."""

    def __init__(self, shorthand: Shorthand) -> None:
        self.shorthand = shorthand
        self._stemmer = Stemmer(_STEMMER_LANGUAGE)
        self._stem_cache: dict[str, str] = {}
        self._max_phrase = max((len(k) for k in shorthand.phrases), default=1)
        # Acronym -> stems of its expansion, and expansion stems -> acronym (to spot a
        # spelled-out acronym in a text).
        self.expansions: dict[str, tuple[str, ...]] = {}
        self.spelled_out: dict[tuple[str, ...], str] = {}
        for acronym, words in shorthand.acronyms.items():
            stems = tuple(
                dict.fromkeys(self.stem(w) for w in words if w not in shorthand.stop_words)
            )
            self.expansions[acronym] = stems
            if stems:
                self.spelled_out[stems] = acronym
        self._spelled_out_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for stems, acronym in self.spelled_out.items():
            self._spelled_out_by_first.setdefault(stems[0], []).append((stems, acronym))

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

    def words(self, text: str) -> list[str]:
        """Folded words with shorthand replaced, phrases joined and stop words dropped."""
        shorthand = self.shorthand
        expanded: list[str] = []
        for word in _words(text):
            expanded.extend(shorthand.shorthand.get(word, (word,)))
        if shorthand.phrases:
            joined: list[str] = []
            i = 0
            while i < len(expanded):
                for size in range(min(self._max_phrase, len(expanded) - i), 1, -1):
                    phrase = shorthand.phrases.get(tuple(expanded[i : i + size]))
                    if phrase is not None:
                        joined.append(phrase)
                        i += size
                        break
                else:
                    joined.append(expanded[i])
                    i += 1
            expanded = joined
        return [
            w
            for w in expanded
            if w not in shorthand.stop_words
            and (len(w) > 1 or w.isdigit() or w in shorthand.question_words)
        ]

    def term(self, word: str, factor: float = 1.0) -> _Term:
        expansion = self.expansions.get(word)
        if expansion:
            return _Term((word, *expansion), word, factor)
        return _Term((self.stem(word),), word, factor)

    def terms(self, words: Iterable[str]) -> list[_Term]:
        """Terms of ``words``, one per distinct token, spelled-out acronyms recognised."""
        terms: list[_Term] = []
        seen: set[str] = set()
        for word in words:
            term = self.term(word)
            if term.head not in seen:
                seen.add(term.head)
                terms.append(term)
        return terms

    def acronyms_spelled_out(self, terms: Sequence[_Term]) -> list[str]:
        """Acronyms whose expansion appears, in order, among ``terms``' single stems."""
        if not self.spelled_out:
            return []
        stems = [t.head for t in terms if not t.is_acronym]
        found: list[str] = []
        for i, stem in enumerate(stems):
            for expansion, acronym in self._spelled_out_by_first.get(stem, ()):
                if tuple(stems[i : i + len(expansion)]) == expansion and acronym not in found:
                    found.append(acronym)
        return found


# ---------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Query:
    tokens: dict[str, float]  # token -> weight it carries in the query
    total: float  # total weight of the query's terms, including unknown words
    token_set: set[str]  # tokens present (for document coverage)
    fuzzy_text: str  # normalised text for the fuzzy similarity
    n_terms: int


class FaqIndex:
    """In-memory index of the FAQ entries answering ``ask(text)``."""

    def __init__(self, entries: Sequence[FaqEntry], shorthand: Shorthand | None = None) -> None:
        self._shorthand = shorthand if shorthand is not None else default_shorthand()
        self._norm = _Normalizer(self._shorthand)
        self._entries: list[FaqEntry] = list(entries)

        # Documents: each entry's question and alternatives (the answer is a weaker source).
        doc_terms: list[list[_Term]] = []
        doc_extra: list[list[str]] = []  # acronyms spelled out in the document
        self._doc_entry: list[int] = []
        self._doc_text: list[str] = []
        answer_tokens: list[set[str]] = []
        vocabulary_words: set[str] = set()
        for index, entry in enumerate(self._entries):
            for text in (entry.question, *entry.alternatives):
                words = self._norm.words(text)
                vocabulary_words.update(words)
                terms = self._norm.terms(words)
                if not terms:
                    continue
                doc_terms.append(terms)
                doc_extra.append(self._norm.acronyms_spelled_out(terms))
                self._doc_entry.append(index)
                self._doc_text.append(" ".join(words))
            answer_words = self._norm.words(_strip_tags(entry.answer))
            vocabulary_words.update(answer_words)
            answer_terms = self._norm.terms(answer_words)
            tokens = {tok for term in answer_terms for tok in term.tokens}
            tokens.update(self._norm.acronyms_spelled_out(answer_terms))
            answer_tokens.append(tokens)

        # IDF over entries (an entry with many alternatives counts once).
        entry_tokens: list[set[str]] = [set() for _ in self._entries]
        for doc, (terms, extra) in enumerate(zip(doc_terms, doc_extra, strict=True)):
            bag = entry_tokens[self._doc_entry[doc]]
            bag.update(tok for term in terms for tok in term.tokens)
            bag.update(extra)
        df: dict[str, int] = {}
        for bag in entry_tokens:
            for tok in bag:
                df[tok] = df.get(tok, 0) + 1
        total = max(len(self._entries), 1)
        self._max_idf = math.log(1 + total)
        self._idf: dict[str, float] = {tok: math.log(1 + total / n) for tok, n in df.items()}
        self._unknown_weight = UNKNOWN_WEIGHT_FACTOR * self._max_idf**IDF_EXPONENT

        # Postings: token -> (doc ids, the token's weight in each doc's profile).
        n_docs = len(doc_terms)
        self._n_docs = n_docs
        doc_total = np.zeros(n_docs, dtype=np.float64)
        postings: dict[str, dict[int, float]] = {}
        bm25_corpus: list[list[str]] = []
        for doc, (terms, extra) in enumerate(zip(doc_terms, doc_extra, strict=True)):
            tokens_of_doc: list[str] = []
            for term in terms:
                weight, shares = self._weigh(term)
                doc_total[doc] += weight
                for tok, share in shares:
                    row = postings.setdefault(tok, {})
                    row[doc] = row.get(doc, 0.0) + weight * share
                tokens_of_doc.extend(term.tokens)
            for tok in extra:
                postings.setdefault(tok, {}).setdefault(doc, 0.0)
                tokens_of_doc.append(tok)
            bm25_corpus.append(tokens_of_doc)
        self._doc_total = np.maximum(doc_total, 1e-9)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {
            tok: (
                np.fromiter(row.keys(), dtype=np.intp, count=len(row)),
                np.fromiter(row.values(), dtype=np.float64, count=len(row)),
            )
            for tok, row in postings.items()
        }
        # Answer postings at document level: the docs whose entry's answer holds the token.
        docs_of_entry: list[list[int]] = [[] for _ in self._entries]
        for doc, entry_index in enumerate(self._doc_entry):
            docs_of_entry[entry_index].append(doc)
        answer_postings: dict[str, list[int]] = {}
        for entry_index, tokens in enumerate(answer_tokens):
            for tok in tokens:
                answer_postings.setdefault(tok, []).extend(docs_of_entry[entry_index])
        self._answer_postings = {
            tok: np.asarray(docs, dtype=np.intp) for tok, docs in answer_postings.items() if docs
        }
        self._doc_entry_array = np.asarray(self._doc_entry, dtype=np.intp)
        # Entry-level postings: the entries whose phrasings (all together) or answer hold a token.
        self._entry_postings = {
            tok: np.asarray(sorted(ids), dtype=np.intp)
            for tok, ids in _invert(entry_tokens).items()
        }
        self._entry_answer_postings = {
            tok: np.asarray(sorted(ids), dtype=np.intp)
            for tok, ids in _invert(answer_tokens).items()
        }

        self._bm25: bm25s.BM25 | None = None
        if n_docs:
            self._bm25 = bm25s.BM25()
            self._bm25.index(bm25_corpus, show_progress=False)

        # Vocabulary for typo correction: every word of the entries, and the question words.
        vocabulary_words.update(self._shorthand.question_words)
        self._known_words = frozenset(vocabulary_words)
        self._known_tokens = frozenset(self._idf) | frozenset(self._answer_postings)
        self._vocabulary = sorted(w for w in vocabulary_words if not w.isdigit() and len(w) > 2)
        self._correction_cache: dict[str, tuple[str, float] | None] = {}

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
        entry_scores = self._entry_scores(query)
        order = np.argsort(-entry_scores, kind="stable")
        top = float(entry_scores[order[0]])
        second = float(entry_scores[order[1]]) if len(order) > 1 else 0.0
        band: Band
        if top >= ANSWER_SCORE and top - second >= ANSWER_MARGIN:
            band = "answer"
        elif top >= SUGGEST_SCORE:
            band = "suggest"
        else:
            band = "fallback"
        floor = MIN_SCORE
        if band == "suggest":
            floor = max(floor, top - SUGGEST_SPREAD)
        hits: list[FaqHit] = []
        for index in order[:limit]:
            score = float(entry_scores[index])
            if score < floor:
                break
            hits.append(FaqHit(self._entries[index], round(min(score, 1.0), 4)))
        return FaqResult(band, hits)

    # -- internals ------------------------------------------------------------------------------

    def _weigh(self, term: _Term) -> tuple[float, list[tuple[str, float]]]:
        """A term's weight (IDF-based) and its tokens' shares of it (summing to 1)."""
        idf = self._idf
        if not term.is_acronym:
            known = idf.get(term.head)
            if known is None:
                return self._unknown_weight, [(term.head, 1.0)]
            return known**IDF_EXPONENT, [(term.head, 1.0)]
        head, expansion = term.head, term.tokens[1:]
        expansion_idf = [idf.get(tok, self._max_idf) ** IDF_EXPONENT for tok in expansion]
        expansion_shares = [
            (tok, w / sum(expansion_idf)) for tok, w in zip(expansion, expansion_idf, strict=True)
        ]
        head_idf = idf.get(head)
        if head_idf is not None:  # the acronym itself holds half the weight
            return head_idf**IDF_EXPONENT, [
                (head, 0.5),
                *((tok, 0.5 * share) for tok, share in expansion_shares),
            ]
        known = [idf[tok] for tok in expansion if tok in idf]
        if not known:
            return self._unknown_weight, [(head, 1.0)]
        return max(known) ** IDF_EXPONENT, expansion_shares

    def _correct(self, word: str) -> tuple[str, float] | None:
        """The vocabulary word closest to an unknown ``word`` and its similarity, or None."""
        if word in self._correction_cache:
            return self._correction_cache[word]
        found: tuple[str, float] | None = None
        if len(word) >= TYPO_MIN_LENGTH and word.isalpha():
            match = process.extractOne(
                word,
                self._vocabulary,
                scorer=OSA.normalized_similarity,
                score_cutoff=TYPO_MIN_SIMILARITY,
            )
            if match is not None:
                found = (match[0], float(match[1]))
        if len(self._correction_cache) >= _CACHE_SIZE:
            self._correction_cache.clear()
        self._correction_cache[word] = found
        return found

    def _query(self, text: str) -> _Query | None:
        norm = self._norm
        words = norm.words(text)
        if not words:
            return None
        terms: list[_Term] = []
        seen: set[str] = set()
        fuzzy_words: list[str] = []
        for word in words:
            term = norm.term(word)
            if (
                not term.is_acronym
                and word not in self._known_words
                and term.head not in self._known_tokens
            ):
                corrected = self._correct(word)
                if corrected is not None:
                    word = corrected[0]
                    term = norm.term(word, TYPO_FACTOR)
            if term.head in seen:
                continue
            seen.add(term.head)
            terms.append(term)
            fuzzy_words.append(word)
            if len(terms) >= MAX_QUERY_TERMS:
                break
        tokens: dict[str, float] = {}
        total = 0.0
        for term in terms:
            weight, shares = self._weigh(term)
            total += weight
            for tok, share in shares:
                tokens[tok] = tokens.get(tok, 0.0) + weight * share * term.factor
        token_set = {tok for term in terms for tok in term.tokens}
        token_set.update(norm.acronyms_spelled_out(terms))
        return _Query(tokens, total, token_set, " ".join(fuzzy_words), len(terms))

    def _entry_scores(self, query: _Query) -> np.ndarray:
        """Each entry's score: the best similarity of its documents, blended with the share of
        the query that all its phrasings together cover."""
        best_doc = np.zeros(len(self._entries))
        np.maximum.at(best_doc, self._doc_entry_array, self._doc_similarity(query))
        if not UNION_WEIGHT:
            return best_doc
        return (1.0 - UNION_WEIGHT) * best_doc + UNION_WEIGHT * self._union_cover(query)

    def _union_cover(self, query: _Query) -> np.ndarray:
        """Share of the query's weight found in each entry's phrasings (or, less, its answer)."""
        n_entries = len(self._entries)
        cover = np.zeros(n_entries)
        for tok, weight in query.tokens.items():
            phrasings = self._entry_postings.get(tok)
            answers = self._entry_answer_postings.get(tok)
            if phrasings is None and answers is None:
                continue
            found = np.zeros(n_entries)
            if answers is not None:
                found[answers] = ANSWER_COVERAGE
            if phrasings is not None:
                found[phrasings] = 1.0
            cover += weight * found
        return np.minimum(cover / max(query.total, 1e-9), 1.0)

    def _doc_similarity(self, query: _Query) -> np.ndarray:
        """Each document's similarity (0..1) to the query."""
        n_docs = self._n_docs
        query_cover = np.zeros(n_docs)
        doc_cover = np.zeros(n_docs)
        for tok, weight in query.tokens.items():
            posting = self._postings.get(tok)
            answer_docs = self._answer_postings.get(tok)
            if posting is None:
                if answer_docs is not None:
                    query_cover[answer_docs] += ANSWER_COVERAGE * weight
                continue
            found = np.zeros(n_docs)
            if answer_docs is not None:
                found[answer_docs] = ANSWER_COVERAGE
            found[posting[0]] = 1.0
            query_cover += weight * found
        for tok in query.token_set:
            posting = self._postings.get(tok)
            if posting is not None:
                docs, values = posting
                doc_cover[docs] += values
        query_cover /= max(query.total, 1e-9)
        doc_cover /= self._doc_total
        query_cover = np.minimum(query_cover, 1.0)
        doc_cover = np.minimum(doc_cover, 1.0)
        if GEOMETRIC:
            similarity = query_cover**QUERY_COVERAGE_WEIGHT * doc_cover ** (
                1.0 - QUERY_COVERAGE_WEIGHT
            )
        else:
            similarity = QUERY_COVERAGE_WEIGHT * query_cover + (
                1.0 - QUERY_COVERAGE_WEIGHT
            ) * doc_cover
        if BM25_WEIGHT and self._bm25 is not None:
            bm25_tokens = [tok for tok in query.token_set if tok in self._postings]
            if bm25_tokens:
                bm25 = self._bm25.get_scores(bm25_tokens).astype(np.float64)
                best = float(bm25.max())
                if best > 0:
                    similarity *= 1.0 - BM25_WEIGHT + BM25_WEIGHT * bm25 / best
        if query.n_terms <= FUZZY_MAX_TERMS and query.fuzzy_text:
            fuzzy = process.cdist(
                [query.fuzzy_text], self._doc_text, scorer=fuzz.token_sort_ratio, workers=1
            )[0].astype(np.float64)
            rescaled = np.clip((fuzzy - FUZZY_FLOOR) / (100.0 - FUZZY_FLOOR), 0.0, 1.0)
            similarity = np.maximum(similarity, FUZZY_FACTOR * rescaled)
        return similarity


_TAG = re.compile(r"<[^>]*>")


def _invert(bags: Sequence[set[str]]) -> dict[str, list[int]]:
    """token -> indices of the bags holding it."""
    inverted: dict[str, list[int]] = {}
    for index, bag in enumerate(bags):
        for tok in bag:
            inverted.setdefault(tok, []).append(index)
    return inverted


def _strip_tags(html: str) -> str:
    return _TAG.sub(" ", html)
