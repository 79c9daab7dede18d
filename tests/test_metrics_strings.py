"""One string where a list of texts is wanted, and missing texts, get a clear error from the text metrics."""

from __future__ import annotations

import pytest

from synthlab.core.text import copy_rate, max_rouge_l
from synthlab.evaluation.diversity import distinct_n, diversity_summary, ngram_entropy


@pytest.mark.parametrize(
    "call",
    [
        lambda: distinct_n("a bare string", 2),
        lambda: ngram_entropy("a bare string", 1),
        lambda: diversity_summary("a bare string"),
        lambda: copy_rate("good film", ["good film"]),
        lambda: max_rouge_l("good film", ["good film"]),
        lambda: max_rouge_l(["good film"], "good film"),
    ],
)
def test_one_string_is_not_a_list_of_texts(call):
    with pytest.raises(ValueError, match="not one string"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: distinct_n(["a film", None], 2),
        lambda: copy_rate(["a film", float("nan")], ["a film"]),
        lambda: max_rouge_l(["a film"], ["a film", None]),
    ],
)
def test_a_missing_text_is_named_with_its_position(call):
    with pytest.raises(ValueError, match="at position 1 is .* not a string; drop or fill missing texts"):
        call()


def test_lists_still_score():
    assert distinct_n(["a good film", "a bad film"], 1) == pytest.approx(4 / 6)
    assert copy_rate(["good film"], ["good film"]) == 1.0 and copy_rate([], ["x"]) == 0.0
