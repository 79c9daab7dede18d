"""The input-checking layer: each check refuses what it must with an error naming the value and the fix, and passes
valid input through unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlab.core.checks import InputError, check_at_least, check_column, check_frame, check_labels, check_texts
from synthlab.core.classifiers import fit_classifier, stratified_sample, train_and_test
from synthlab.curation.filters import drop_by_length


def test_input_error_is_caught_as_either_value_or_type_error():
    assert issubclass(InputError, ValueError) and issubclass(InputError, TypeError)


def test_check_texts_passes_a_list_through():
    assert check_texts(("a film", "another"), "texts") == ["a film", "another"]
    assert check_texts(pd.Series(["x"]), "texts") == ["x"]
    assert check_texts(np.array(["x", "y"]), "texts") == ["x", "y"]
    assert check_texts([], "texts") == []
    assert check_texts(["", "  "], "texts") == ["", "  "]


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ("a bare string", r"texts takes a list of texts, not one string; got 'a bare string': pass \[text\]"),
        (None, "texts takes a list of texts; got NoneType"),
        (42, "texts takes a list of texts; got int"),
        ({"a": 1}, "texts takes a list of texts; got dict"),
        (["ok", None], r"texts: the text at position 1 is None \(NoneType\), not a string; drop or fill missing"),
        (["ok", "ok", float("nan")], r"position 2 is nan \(float\)"),
        ([3], r"position 0 is 3 \(int\)"),
    ],
)
def test_check_texts_names_the_bad_value(texts, message):
    with pytest.raises(InputError, match=message):
        check_texts(texts, "texts")


def test_check_texts_counts_and_blanks():
    with pytest.raises(ValueError, match="seeds is empty: it needs at least one text; got 0; pass one"):
        check_texts([], "seeds", at_least=1, hint="pass one")
    with pytest.raises(ValueError, match="self-BLEU is undefined for fewer than 2 texts; got 1"):
        check_texts(["one"], "self-BLEU", at_least=2)
    with pytest.raises(InputError, match=r"position 1 is ' ', empty"):
        check_texts(["a", " "], "topics", blank=False)
    assert check_texts(["a", "b"], "texts", at_least=2, blank=False) == ["a", "b"]


def test_check_labels():
    assert check_labels(np.array([0, 1, 1]), "labels") == [0, 1, 1]
    assert check_labels([0, 1.0, True], "labels") == [0, 1.0, True]  # numbers compare with numbers
    with pytest.raises(InputError, match="not one string; got 'pos'"):
        check_labels("pos", "labels")
    with pytest.raises(InputError, match=r"mixes label types: 0 \(int\) and '0' \(str\)"):
        check_labels([0, "0", 1], "labels")
    with pytest.raises(InputError, match=r"1 missing label\(s\) \(positions \[1\]\)"):
        check_labels(["a", None], "labels")
    with pytest.raises(ValueError, match="at least two distinct labels to choose from; got \\['a', 'a'\\]"):
        check_labels(["a", "a"], "labels", distinct=2)


def _frame(**columns) -> pd.DataFrame:
    base = {"id": ["r0", "r1", "r2"], "text": ["a", "b", "c"], "label": ["x", "y", "x"]}
    return pd.DataFrame({**base, **columns}, index=[10, 11, 12])


def test_check_frame_passes_a_good_frame_through():
    frame = _frame()
    assert check_frame(frame, "train", text_col="text", label_col="label", id_col="id") is frame
    assert check_frame(frame.iloc[:0], "log", columns={"a log column": "id"}, at_least=0).empty


def test_check_frame_refuses_what_is_not_a_frame():
    with pytest.raises(TypeError, match="train must be a pandas DataFrame; got list"):
        check_frame([{"text": "a"}], "train")
    with pytest.raises(TypeError, match="got one string 'a review'"):
        check_frame("a review", "frame", text_col="text")


def test_check_frame_names_a_missing_column_by_its_role():
    with pytest.raises(
        KeyError, match=r"label_col 'y' is not a column of train; columns are \['id', 'text', 'label'\]"
    ):
        check_frame(_frame(), "train", text_col="text", label_col="y")
    with pytest.raises(KeyError, match="task_col 'prompt' is not a column of first"):
        check_frame(_frame(), "first", columns={"task_col": "prompt"})


def test_check_frame_refuses_an_empty_frame_unless_told():
    with pytest.raises(ValueError, match=r"test has no rows \(an empty frame\); did an earlier step remove them all"):
        check_frame(_frame().iloc[:0], "test", text_col="text")
    with pytest.raises(ValueError, match="pool has no rows .*; pass labelled rows"):
        check_frame(_frame().iloc[:0], "pool", hint="pass labelled rows")
    with pytest.raises(ValueError, match="gold has 3 rows; it needs at least 4"):
        check_frame(_frame(), "gold", at_least=4)


def test_check_frame_names_bad_texts_by_index():
    with pytest.raises(
        InputError, match=r"train has 2 row\(s\) whose 'text' is missing or not a string \(index \[10, 12\]\)"
    ):
        check_frame(_frame(text=[None, "b", np.nan]), "train", text_col="text")
    with pytest.raises(
        InputError, match=r"1 row\(s\) whose 'output_b' is missing or empty, or not a string \(index \[11\]\)"
    ):
        check_frame(_frame(output_b=["a", " ", "c"]), "pairs", texts=("text", "output_b"), blank=False)
    assert len(check_frame(_frame(text=["a", " ", "c"]), "train", text_col="text")) == 3  # blank allowed by default


def test_check_frame_labels_present_and_of_one_type():
    with pytest.raises(ValueError, match=r"1 row\(s\) with a missing 'label' \(index \[11\]\)"):
        check_frame(_frame(label=["x", None, "y"]), "train", label_col="label")
    with pytest.raises(InputError, match=r"train\['label'\] mixes label types: 0 \(int\) and '0' \(str\)"):
        check_frame(_frame(label=[0, "0", 1]), "train", label_col="label")


def test_check_frame_ids_unique_and_present():
    with pytest.raises(ValueError, match=r"2 row\(s\) with a missing or repeated 'id'"):
        check_frame(_frame(id=["r0", "r0", None]), "frame", id_col="id")


def test_check_column():
    check_column(_frame(), "text", "text_col")
    with pytest.raises(KeyError, match="text_col 'body' is not a column; columns are"):
        check_column(_frame(), "body", "text_col")


def test_check_at_least():
    check_at_least(n=(1, 1), rounds=(0, 0), size=(np.int64(3), 2))
    with pytest.raises(ValueError, match="rounds must be >= 0; got -1"):
        check_at_least(n=(3, 1), rounds=(-1, 0))
    with pytest.raises(InputError, match=r"n must be an integer >= 1; got '5' \(str\)"):
        check_at_least(n=("5", 1))
    with pytest.raises(InputError, match="got None"):
        check_at_least(n=(None, 1))
    with pytest.raises(InputError, match=r"got True \(bool\)"):
        check_at_least(n=(True, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda: stratified_sample(pd.DataFrame({"label": [0, "0", 1, 1]}), 2),
        lambda: train_and_test(
            pd.DataFrame({"text": ["a", "b", "c"], "label": [0, "0", 1]}), pd.DataFrame({"text": ["a"], "label": [0]})
        ),
        lambda: fit_classifier("tfidf-logreg", ["a", "b"], [0, "0"]),
    ],
)
def test_mixed_label_types_get_the_layers_error_not_a_sort_error(call):
    with pytest.raises(InputError, match="mixes label types"):
        call()


def test_a_bare_string_frame_gets_a_clear_error_from_a_curation_step():
    with pytest.raises(TypeError, match="must be a pandas DataFrame; got one string"):
        drop_by_length("a review")
