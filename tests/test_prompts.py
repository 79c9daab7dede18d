from __future__ import annotations

import pandas as pd
import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.generation.conditions import frequent_words, propose_values, sample_words, two_stage
from synthlab.generation.prompts import (
    TaskSpec,
    build_prompts,
    format_demos,
    label_schedule,
    sample_conditions,
    task_template,
    value_coverage,
)
from tests.fake_models import EchoSeedModel, ScriptedModel

ATTRS = {"genre": ["comedy", "horror", "drama"], "style": ["formal", "casual"]}


class Scripted(EchoSeedModel):
    """Answers with the next of ``answers`` (cycling)."""

    answers: list[str] = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        text = self.answers[(self.calls - 1) % len(self.answers)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def test_task_spec_parts_are_in_the_prompt():
    task = TaskSpec()
    prompts, labels, conditions = build_prompts(task, 4, seed=0)
    text = prompts[1].to_string()
    assert labels == ["positive", "negative", "positive", "negative"]
    assert "Suppose you are a movie reviewer." in text and "movie review" in text and "sentiment" in text
    assert task.verbalizer["negative"] in text and task.output_format in text
    assert conditions[0] == {"label": "positive"}
    assert set(task_template(task).input_variables) == {"label_words"}


def test_any_task_and_no_role():
    task = TaskSpec(
        text_type="news headline",
        label_type="topic",
        role=None,
        verbalizer={"sport": "sport", "business": "business", "world": "world news"},
        output_format="Reply with the headline only.",
    )
    prompts, labels, _ = build_prompts(task, 3)
    assert labels == ["sport", "business", "world"]
    assert [m.type for m in prompts[0].to_messages()] == ["human"]
    assert "news headline" in prompts[2].to_string() and "world news" in prompts[2].to_string()


def test_conditions_are_seeded_and_recorded():
    first = sample_conditions(ATTRS, 10, seed=3)
    assert first == sample_conditions(ATTRS, 10, seed=3) and first != sample_conditions(ATTRS, 10, seed=4)
    prompts, _, conditions = build_prompts(TaskSpec(), 10, attributes=ATTRS, seed=3)
    assert [{k: c[k] for k in ATTRS} for c in conditions] == first
    assert f"Its genre: {first[0]['genre']}." in prompts[0].to_string()


@pytest.mark.parametrize("text", ["{label}", "{{x}}", "{label_words} and {conditions}", "}{", "{0}"])
def test_braces_in_user_text_are_kept_verbatim(text):
    task = TaskSpec(
        text_type="movie {review}", verbalizer={"pos{": "good {label}", "neg": "bad"}, role="You are {role}."
    )
    prompts, _, _ = build_prompts(
        task, 2, conditions=[{"genre": text}, {"words": text}], demos=[(text, "pos{"), ("ok", "neg")]
    )
    rendered = prompts[0].to_string()
    assert rendered.count(text) >= 2  # in the demo and in the condition
    assert "movie {review}" in rendered and "good {label}" in rendered and "You are {role}." in rendered


def test_demos_are_formatted_with_the_verbalizer():
    task = TaskSpec(verbalizer={"positive": "good", "negative": "bad"})
    text = format_demos([("Loved it.", "positive"), ("Hated it.", "negative")], task)
    assert text == "1. movie review: Loved it.\n   sentiment: good\n2. movie review: Hated it.\n   sentiment: bad"


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="at least two labels"):
        TaskSpec(verbalizer={"positive": "positive"})
    with pytest.raises(ValueError, match="no words for label"):
        TaskSpec(verbalizer={"positive": "", "negative": "negative"})
    with pytest.raises(ValueError, match="'genre' has no values"):
        sample_conditions({"genre": [], "style": ["formal"]}, 3)
    with pytest.raises(ValueError, match="'genre' has no values"):
        build_prompts(TaskSpec(), 2, attributes={"genre": "comedy"})
    with pytest.raises(ValueError, match="attributes is empty"):
        sample_conditions({}, 3)
    with pytest.raises(ValueError, match="demos is empty"):
        build_prompts(TaskSpec(), 2, demos=[])
    with pytest.raises(ValueError, match="label 'neutral'"):
        format_demos([("Fine.", "neutral")], TaskSpec())
    with pytest.raises(ValueError, match="at least two classes"):
        label_schedule(4, ["positive"])
    with pytest.raises(ValueError, match="n must be >= 1"):
        build_prompts(TaskSpec(), 0)
    with pytest.raises(ValueError, match="not both"):
        build_prompts(TaskSpec(), 2, attributes=ATTRS, conditions=[{}, {}])
    with pytest.raises(ValueError, match="conditions has 1 rows"):
        build_prompts(TaskSpec(), 2, conditions=[{"genre": "x"}])


def test_propose_values_parses_dedupes_and_retries():
    model = Scripted(
        answers=[
            "Sure! Here are genres:\n1. Comedy - funny\n2. Horror\n3. comedy",
            "1. Drama\n2. Horror\n3. Western",
        ]
    )
    assert propose_values(model, "movie genres", k=4) == ["Comedy", "Horror", "Drama", "Western"]
    assert model.calls == 2


def test_propose_values_failure_is_an_error_with_the_answers():
    model = Scripted(answers=["I am sorry, I cannot do that."])
    with pytest.raises(ValueError, match="proposed 0 usable value.*cannot do that"):
        propose_values(model, "movie genres", k=4, attempts=2)
    partial = Scripted(answers=["1. Comedy\n2. Horror"])
    assert propose_values(partial, "movie genres", k=5, attempts=2) == ["Comedy", "Horror"]


def test_random_words():
    texts = ["The film is a brilliant film.", "A brilliant cast, a dull script.", "Dull, dull, dull film"]
    assert frequent_words(texts, k=3) == ["dull", "film", "brilliant"]
    assert frequent_words(texts, k=2, skip=1) == ["film", "brilliant"]
    words = sample_words(["alpha", "beta", "gamma", "delta"], 5, k=2, seed=1)
    assert words == sample_words(["alpha", "beta", "gamma", "delta"], 5, k=2, seed=1)
    assert all(len(set(w["words"].split(", "))) == 2 for w in words)
    with pytest.raises(ValueError, match="k=5 distinct words"):
        sample_words(["a", "b"], 3, k=5)
    with pytest.raises(ValueError, match="no content words"):
        frequent_words(["a an the"])


def test_two_stage_links_texts_to_titles():
    model = ScriptedModel(
        answers={
            "Its title: Night Train": "Sure! A gripping ride.",
            "title of a positive": 'Title: "Night Train"',
            "title of a negative": (
                "A sentence that is far too long to be any kind of title for a movie review at all, really"
            ),
        }
    )
    texts, titles = two_stage(model, TaskSpec(), 2, progress=False)
    assert len(titles) == 2 and titles["text"].iloc[0] == "Night Train"
    assert len(texts) == 2
    ok = texts[texts["error"].isna()].iloc[0]
    assert ok["parent_id"] == titles["id"].iloc[0] and ok["params"]["title"] == "Night Train"
    assert "Its title: Night Train" in ok["prompt"] and ok["text"] == "A gripping ride."
    assert texts["error"].dropna().iloc[0].startswith("title stage failed")


def test_value_coverage():
    records = pd.DataFrame(
        {
            "params": [
                {"genre": "comedy", "style": "formal"},
                {"genre": "comedy", "style": "casual"},
                {"genre": "horror", "style": "formal"},
            ]
        }
    )
    table = value_coverage(records, ATTRS)
    assert table.loc["genre", "n_used"] == 2 and table.loc["genre", "coverage"] == pytest.approx(2 / 3)
    assert table.loc["style", "coverage"] == 1.0 and table.loc["genre", "max_share"] == pytest.approx(2 / 3)
