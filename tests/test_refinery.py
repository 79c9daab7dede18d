import json
import re
from typing import Any

import pandas as pd
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.curation.refinery import freeal, nearest_demos, small_loss_selection
from tests.fake_models import ScriptedModel

LABELS = ["negative", "positive"]


class FollowTheDemos(BaseChatModel):
    """Zero-shot it labels by the review's word but gets scenes 1 and 3 wrong; after demonstrations it
    copies the label of the demo whose first word the question shares (an LLM that learns from demos)."""

    @property
    def _llm_type(self) -> str:
        return "follow-the-demos"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        question = str(messages[-1].content)
        answer = "positive" if "lovely" in question or re.search(r"scene [13]\n", question) else "negative"
        for demo, reply in zip(messages[1:-1:2], messages[2:-1:2]):
            if str(demo.content).split("Text: ")[1].split()[0] in question:
                answer = json.loads(str(reply.content))["label"]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])


def _rows(n: int = 24) -> pd.DataFrame:
    gold = ["positive", "negative"] * (n // 2)
    words = {"positive": "lovely", "negative": "dreadful"}
    return pd.DataFrame(
        {"text": [f"{words[y]} film scene {i}" for i, y in enumerate(gold)], "label": gold},
        index=range(500, 500 + n),
    )


def test_small_loss_selection_takes_a_share_of_each_label():
    rows = _rows().assign(llm_label=["positive"] * 16 + ["negative"] * 8)
    clean = small_loss_selection(rows, share=0.5, label_col="llm_label")
    assert clean.index.equals(rows.index) and clean.sum() == 12
    assert rows["llm_label"][clean].value_counts().to_dict() == {"positive": 8, "negative": 4}


def test_small_loss_selection_refuses_a_single_label():
    with pytest.raises(ValueError, match="two labels"):
        small_loss_selection(_rows().assign(label="positive"))


def test_nearest_demos_gives_the_most_similar_row_of_each_label_truncated():
    pool = pd.DataFrame(
        {
            "text": ["dreadful film scene one two three", "lovely film", "lovely music"],
            "llm_label": ["negative", "positive", "positive"],
        }
    )
    demos = nearest_demos("lovely music here", pool, LABELS, label_col="llm_label", max_words=3)
    assert demos["label"].tolist() == LABELS
    assert demos["text"].tolist() == ["dreadful film scene", "lovely music"]


def test_freeal_relabels_only_the_rest_and_scores_each_round():
    rows = _rows()
    model = ScriptedModel(answers={"lovely": "positive", "dreadful film scene 1": "positive"}, default="negative")
    result = freeal(model, rows, LABELS, rounds=2, progress=False)
    table = result.table
    assert list(table.index) == [0, 1, 2]
    assert table.loc[0, "llm_calls"] == 24 and table.loc[1, "llm_calls"] == 24 - table.loc[1, "n_clean"]
    assert table[["accuracy"]].stack().between(0, 1).all()
    assert result.rows.index.equals(rows.index)
    assert {"llm_label", "llm_label_round_0", "clean_round_1", "llm_label_round_2"} <= set(result.rows.columns)
    clean = result.rows["clean_round_1"]
    assert result.rows.loc[clean, "llm_label_round_1"].equals(result.rows.loc[clean, "llm_label_round_0"])


def test_freeal_demonstrations_from_the_clean_subset_fix_labels():
    result = freeal(FollowTheDemos(), _rows(), LABELS, rounds=1, progress=False)
    assert result.table.loc[0, "accuracy"] == pytest.approx(22 / 24)
    assert result.table.loc[1, "clean_accuracy"] == 1.0
    assert result.table.loc[1, "accuracy"] == 1.0


def test_freeal_warns_and_stops_when_the_llm_names_one_label():
    with pytest.warns(UserWarning, match="stopped before round 1"):
        stuck = freeal(ScriptedModel(answers={}, default="positive"), _rows(), LABELS, rounds=2, progress=False)
    assert list(stuck.table.index) == [0] and stuck.table.loc[0, "label_counts"] == {"positive": 24}
    assert stuck.rows["llm_label"].eq("positive").all()


@pytest.mark.parametrize(
    "frame, kwargs, error, message",
    [
        (_rows().assign(text=[None] + ["fine"] * 23), {}, ValueError, "missing or empty"),
        (_rows().drop(columns="text"), {}, KeyError, "text"),
        (_rows(), {"gold_col": "gold"}, KeyError, "gold"),
        (_rows(), {"rounds": -1}, ValueError, "rounds"),
    ],
)
def test_freeal_refuses_bad_input_clearly(frame, kwargs, error, message):
    with pytest.raises(error, match=message):
        freeal(ScriptedModel(answers={}), frame, LABELS, progress=False, **kwargs)


@pytest.mark.integration
def test_freeal_round_zero_with_the_embedded_model(local_model):
    rows = pd.DataFrame(
        {
            "text": ["A warm, funny and moving film.", "Dull, long and badly acted."],
            "label": ["positive", "negative"],
        }
    )
    result = freeal(local_model, rows, LABELS, rounds=0, progress=False)
    assert result.rows["llm_label"].isin(LABELS).all()
    assert result.table.loc[0, "llm_calls"] == 2 and 0 <= result.table.loc[0, "accuracy"] <= 1
