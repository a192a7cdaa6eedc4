"""The CTCAE v3.0 term search (protocol section 10): how a typed query matches a term.

A term is found by its official English name, its code, its category and the common words and
abbreviations a clinician types for it (assessments/data/ctcae_v3_synonyms.csv): "alanine",
"transaminase" and "ALT elevation" all find "ALT, SGPT". The terms themselves stay the official
CTCAE v3.0 terms; a synonym only finds them.

Matching is case-insensitive and by words: every word of the query is the beginning of a word
of the term's name, code, category or one of its synonyms ("neutro" finds "Neutrophils" and
"Febrile neutropenia"; "penia" alone finds neither).
"""

import re
from dataclasses import dataclass

_WORD = re.compile(r"[0-9a-z]+")

# The order of the results: the code typed exactly, a name starting with the query, a name with
# every word, then words found in the synonyms too, then in the category or code as well.
EXACT_CODE, NAME_START, NAME_WORDS, SYNONYM_WORDS, ANY_WORDS = range(5)


def words(text: str) -> list[str]:
    """The words of a text, case-folded: letters and digits, every other character a separator."""
    return _WORD.findall(text.casefold())


@dataclass(frozen=True)
class SearchableTerm:
    code: str
    term: str
    category: str
    synonyms: tuple[str, ...] = ()


def _all_found(query_words: list[str], candidates: set[str]) -> bool:
    return all(any(word.startswith(q) for word in candidates) for q in query_words)


def match_rank(query: str, term: SearchableTerm) -> int | None:
    """How well `term` matches `query` (lower is better; see the constants above), None if not at all."""
    query_words = words(query)
    if not query_words:
        return None
    if query.strip().casefold() == term.code.casefold():
        return EXACT_CODE
    name_words = set(words(term.term))
    if _all_found(query_words, name_words):
        return NAME_START if " ".join(words(term.term)).startswith(" ".join(query_words)) else NAME_WORDS
    synonym_words = name_words | {w for synonym in term.synonyms for w in words(synonym)}
    if _all_found(query_words, synonym_words):
        return SYNONYM_WORDS
    if _all_found(query_words, synonym_words | set(words(term.category)) | set(words(term.code))):
        return ANY_WORDS
    return None


def terms_search(query: str, terms: list[SearchableTerm], *, limit: int) -> list[SearchableTerm]:
    """The terms matching `query`, best first, then by name and code; at most `limit`."""
    ranked = [(rank, term) for term in terms if (rank := match_rank(query, term)) is not None]
    ranked.sort(key=lambda pair: (pair[0], pair[1].term.casefold(), pair[1].code))
    return [term for _, term in ranked[:limit]]
