from __future__ import annotations

import pandas as pd
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from synthlab.evaluation.judge import judge_agreement, judge_labels
from synthlab.llm.local import ChatLocalLlama
from tests.fake_models import ScriptedModel


def _frame():
    return pd.DataFrame(
        {"text": ["great film", "awful film", "fine film"], "label": ["positive", "negative", "positive"]}
    )


def test_free_text_answers_are_parsed_and_compared_with_gold():
    judge = ScriptedModel(answers={"great film": "Positive.", "awful film": "I think it is positive"})
    judged = judge_labels(judge, _frame(), ["positive", "negative"], progress=False)
    assert judged["judge_label"].tolist() == ["positive", "positive", None]
    assert judged["judge_agrees"].tolist() == [True, False, None]
    assert "named none of" in judged["judge_error"].iloc[2]
    summary = judge_agreement(judged)
    assert summary["agreement"] == 0.5 and summary["answered"] == 2
    assert summary["majority_share"] == 0.5  # answered rows: one positive, one negative
    assert summary["failed_share"] == pytest.approx(1 / 3)
    assert summary["judge_label_counts"] == {"positive": 2}


def test_bad_input_is_named():
    judge = FakeListChatModel(responses=["positive"])
    with pytest.raises(ValueError, match="at least two distinct labels"):
        judge_labels(judge, _frame(), ["positive"])
    with pytest.raises(KeyError, match="'review'"):
        judge_labels(judge, _frame(), ["positive", "negative"], text_col="review")
    with pytest.raises(ValueError, match=r"1 row\(s\) whose 'text' is missing or empty"):
        judge_labels(judge, pd.DataFrame({"text": ["ok", None], "label": ["a", "b"]}), ["a", "b"])


@pytest.mark.integration
def test_the_embedded_judge_always_answers_with_a_label():
    judge = ChatLocalLlama(temperature=0, max_tokens=16, cache=False)
    judged = judge_labels(judge, _frame(), ["positive", "negative"], progress=False)
    assert judged["judge_error"].isna().all()
    assert set(judged["judge_label"]) <= {"positive", "negative"}
