"""The CTCAE v3.0 term search's matching (assessments.rules.term_search): words, prefixes, synonyms."""

import pytest

from assessments.rules.term_search import (
    ANY_WORDS,
    EXACT_CODE,
    NAME_START,
    NAME_WORDS,
    SYNONYM_WORDS,
    SearchableTerm,
    match_rank,
    terms_search,
    words,
)

ALT = SearchableTerm("ME105", "ALT, SGPT", "METABOLIC/LABORATORY", ("alanine aminotransferase", "transaminase"))
AST = SearchableTerm("ME107", "AST, SGOT", "METABOLIC/LABORATORY", ("aspartate aminotransferase", "transaminase"))
NEUT = SearchableTerm("BL110", "Neutrophils", "BLOOD/BONE MARROW", ("neutropenia",))
FN = SearchableTerm("IN102", "Febrile neutropenia", "INFECTION", ("fever",))
FEVER = SearchableTerm("CN102", "Fever w/o neutropenia", "CONSTITUTIONAL SYMPTOMS", ("pyrexia",))
TERMS = [ALT, AST, NEUT, FN, FEVER]


def test_words_are_case_folded_letters_and_digits():
    assert words("Infection Gr0-2 neut, blood") == ["infection", "gr0", "2", "neut", "blood"]
    assert words("  ") == []


@pytest.mark.parametrize(
    ("query", "term", "rank"),
    [
        pytest.param("me105", ALT, EXACT_CODE, id="the code, any case"),
        pytest.param("ALT", ALT, NAME_START, id="the name's first word"),
        pytest.param("sgpt", ALT, NAME_WORDS, id="a later word of the name"),
        pytest.param("alanine", ALT, SYNONYM_WORDS, id="a synonym's word"),
        pytest.param("ALT elevation", ALT, None, id="a word found nowhere"),
        pytest.param("alt transamin", ALT, SYNONYM_WORDS, id="name and synonym words together"),
        pytest.param("metabolic", ALT, ANY_WORDS, id="the category"),
        pytest.param("ME10", ALT, ANY_WORDS, id="the beginning of the code"),
        pytest.param("neutro", FN, NAME_WORDS, id="a word prefix"),
        pytest.param("penia", FN, None, id="not the inside of a word"),
        pytest.param("", ALT, None, id="nothing typed"),
        pytest.param("--", ALT, None, id="no word typed"),
    ],
)
def test_match_rank(query, term, rank):
    assert match_rank(query, term) == rank


def test_results_best_first_then_by_name():
    assert terms_search("transaminase", TERMS, limit=10) == [ALT, AST]
    assert terms_search("neutro", TERMS, limit=10) == [NEUT, FN, FEVER]
    assert terms_search("fever", TERMS, limit=10) == [FEVER, FN]
    assert terms_search("neutro", TERMS, limit=1) == [NEUT]
    assert terms_search("zzz", TERMS, limit=10) == []
