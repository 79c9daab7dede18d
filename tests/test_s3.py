from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.generation.error_driven import (
    error_prompts,
    one_round_baseline,
    plain_rows,
    s3,
    sample_errors,
    validation_errors,
)
from synthlab.generation.prompts import TaskSpec

TASK = TaskSpec()
WORDS = {"positive": "lovely wonderful film", "negative": "awful boring film"}
WANTED = re.compile(r"whose sentiment is (?:also )?(positive|negative)")


class LabelledReviewModel(BaseChatModel):
    """Writes a review with clear words for the label a prompt asks for; asked for a review like
    an example, it repeats the example (a perfect copier); ``mute`` labels get an empty answer."""

    mute: tuple[str, ...] = ()

    @property
    def _llm_type(self) -> str:
        return "labelled-review"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        prompt = str(messages[-1].content)
        label = WANTED.search(prompt).group(1)
        if label in self.mute:
            text = ""
        elif prompt.startswith("Here is"):
            text = f"{prompt.splitlines()[1]} take {kwargs.get('seed')}"
        else:
            text = f"Sure! Here is a review:\n{WORDS[label]} take {kwargs.get('seed')}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class BrokenModel(BaseChatModel):
    """Every call fails."""

    @property
    def _llm_type(self) -> str:
        return "broken"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        raise RuntimeError("backend is down")


def _frame(texts_by_label: dict[str, list[str]], start: int = 0) -> pd.DataFrame:
    rows = [(text, label) for label, texts in texts_by_label.items() for text in texts]
    return pd.DataFrame(rows, columns=["text", "label"], index=range(start, start + len(rows)))


# The validation set uses words the plain rows never contain, so round 0 misclassifies some of it.
VALIDATION = _frame(
    {
        "positive": ["superb moving {story}", "delightful charming cast", "great fun"],
        "negative": ["tedious clumsy mess", "dreary lifeless plot", "awful acting"],
    },
    start=100,
)
TEST = _frame(
    {
        "positive": ["great superb film", "wonderful delightful"],
        "negative": ["boring tedious film", "awful dreary"],
    },
    start=500,
)


def test_error_prompts_show_the_error_as_an_example_with_its_gold_label():
    prompts = error_prompts(TASK, VALIDATION.iloc[[0, 3]])
    first, second = (prompt.to_messages() for prompt in prompts)
    assert first[0].content == TASK.role
    assert "superb moving {story}" in first[1].content  # braces in user text stay verbatim
    assert "also positive (the reviewer liked the movie)" in first[1].content
    assert "also negative (the reviewer disliked the movie)" in second[1].content
    roleless = error_prompts(TaskSpec(role=None), VALIDATION.iloc[[0]])[0].to_messages()
    assert [message.type for message in roleless] == ["human"]


def test_validation_errors_keep_the_wrong_rows_and_the_prediction():
    class SaysPositive:
        def predict(self, texts):
            return ["positive"] * len(texts)

    errors = validation_errors(SaysPositive(), VALIDATION)
    assert errors.index.tolist() == [103, 104, 105]
    assert errors["predicted"].eq("positive").all()


def test_sample_errors_samples_with_a_seed_and_cycles_when_short():
    errors = VALIDATION.assign(predicted="x")
    picked = sample_errors(errors, 4, seed=1)
    assert len(picked) == 4 and picked.index.is_unique
    assert picked.index.tolist() == sample_errors(errors, 4, seed=1).index.tolist()
    cycled = sample_errors(errors.iloc[:2], 5, seed=1)
    assert len(cycled) == 5 and set(cycled.index) == {100, 101}
    with pytest.raises(ValueError, match="no mistake"):
        sample_errors(errors.iloc[:0], 3)


def test_s3_generates_from_errors_with_provenance_and_scores_every_round():
    result = s3(LabelledReviewModel(), TASK, VALIDATION, TEST, n_initial=4, n_per_round=2, rounds=2, progress=False)
    table = result.table
    assert table["round"].tolist()[0] == 0 and table["n_generated"].iloc[0] == 4
    assert table["n_generated_total"].tolist() == [4 + 2 * r for r in table["round"]]
    assert table[["val_error_rate", "test_accuracy"]].stack().between(0, 1).all()
    assert table["n_rows"].tolist() == table["n_kept"].cumsum().tolist()
    rows = result.kept
    assert rows["seed"].is_unique and rows["id"].is_unique
    errors = rows[rows["method"] == "s3:errors"]
    assert len(errors) == 2 * (len(table) - 1) and set(errors["round"]) == set(table["round"][1:])
    for _, row in errors.iterrows():
        source = VALIDATION.loc[row["params"]["source_index"]]
        assert row["params"]["source_text"] == source["text"] and row["label"] == source["label"]
        assert row["params"]["predicted"] != row["label"]
        assert row["parent_id"] == f"validation:{row['params']['source_index']}"
        assert source["text"] in row["text"]  # the copier copied: what the notebook's copy rate measures
    initial = rows[rows["method"] == "s3:initial"]
    assert len(initial) == 4 and initial["round"].eq(0).all()
    assert initial["text"].str.startswith(("lovely", "awful")).all()


def test_s3_stops_when_no_validation_error_is_left():
    easy = _frame({"positive": ["lovely wonderful"], "negative": ["awful boring"]})
    result = s3(LabelledReviewModel(), TASK, easy, TEST, n_initial=4, n_per_round=2, rounds=3, progress=False)
    assert len(result.table) == 1 and result.table["val_error_rate"].iloc[0] == 0
    assert "no validation error" in result.table["note"].iloc[0]


@pytest.mark.parametrize(
    "model, reason",
    [
        (FakeListChatModel(responses=["No way."]), "no usable row"),
        (BrokenModel(), "every generation failed"),
        (LabelledReviewModel(mute=("negative",)), "one label only"),
    ],
)
def test_s3_ends_with_a_report_when_the_model_gives_nothing_usable(model, reason):
    with pytest.warns(UserWarning, match=reason):
        result = s3(model, TASK, VALIDATION, TEST, n_initial=4, n_per_round=2, rounds=3, progress=False)
    assert len(result.table) == 1
    assert result.table["note"].iloc[0].startswith("stopped:") and reason in result.table["note"].iloc[0]
    assert result.table["test_accuracy"].isna().all()


def test_s3_rejects_bad_input_with_clear_messages():
    model = LabelledReviewModel()
    with pytest.raises(ValueError, match="validation has no rows"):
        s3(model, TASK, VALIDATION.iloc[:0], TEST)
    with pytest.raises(ValueError, match="test has no rows"):
        s3(model, TASK, VALIDATION, TEST.iloc[:0])
    with pytest.raises(ValueError, match="not the task's labels"):
        s3(model, TASK, VALIDATION.assign(label="neutral"), TEST)
    with pytest.raises(KeyError, match="text_col 'review'"):
        s3(model, TASK, VALIDATION, TEST, text_col="review")
    with pytest.raises(ValueError, match="missing or empty"):
        s3(model, TASK, VALIDATION.assign(text=""), TEST)
    with pytest.raises(ValueError, match="n_initial must be >= 2"):
        s3(model, TASK, VALIDATION, TEST, n_initial=1)
    with pytest.raises(ValueError, match="n_per_round must be >= 1"):
        s3(model, TASK, VALIDATION, TEST, n_per_round=0)
    with pytest.raises(ValueError, match="rounds must be >= 0"):
        s3(model, TASK, VALIDATION, TEST, rounds=-1)
    with pytest.raises(ValueError, match="at least two labels"):
        TaskSpec(verbalizer={"positive": "positive"})


def test_one_round_baseline_is_a_prefix_of_one_call_and_matches_round_zero():
    model = LabelledReviewModel()
    baseline = one_round_baseline(model, TASK, TEST, [4, 8, 6], progress=False)
    table, rows = baseline.table, baseline.rows
    assert table["n_generated_total"].tolist() == [4, 6, 8] and len(rows) == 8
    assert rows["method"].eq("one-round").all()
    assert rows["text"].iloc[:4].tolist() == plain_rows(model, TASK, 4, progress=False)["text"].tolist()
    result = s3(model, TASK, VALIDATION, TEST, n_initial=4, n_per_round=2, rounds=0, progress=False)
    assert table["test_accuracy"].iloc[0] == result.table["test_accuracy"].iloc[0]
    with pytest.raises(ValueError, match="sizes must be"):
        one_round_baseline(model, TASK, TEST, [1])


def test_one_round_baseline_warns_when_a_size_cannot_train():
    with pytest.warns(UserWarning, match="no classifier"):
        table = one_round_baseline(LabelledReviewModel(mute=("negative",)), TASK, TEST, [4], progress=False).table
    assert table["test_accuracy"].isna().all()


@pytest.mark.integration
def test_s3_runs_one_round_on_the_embedded_model(local_model):
    result = s3(local_model, TASK, VALIDATION, TEST, n_initial=2, n_per_round=1, rounds=1, progress=False)
    assert len(result.table) >= 1
    assert result.table["n_generated_total"].iloc[0] == 2
