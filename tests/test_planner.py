from __future__ import annotations

import pandas as pd
import pytest
from langchain_core.runnables import Runnable

from synthlab.core.classifiers import fit_classifier
from synthlab.directions.planner import (
    aspect_coverage,
    check_reviews,
    one_shot_with_plan,
    plan_graph,
    template_plans,
)
from tests.fake_models import ScriptedModel

ASPECTS = ["acting", "plot", "music", "ending", "characters"]


def checker():
    texts = ["great wonderful loved it", "superb fine acting", "awful boring hated it", "terrible dull plot"]
    return fit_classifier("tfidf-logreg", texts, ["positive", "positive", "negative", "negative"])


def test_template_plans_are_seeded_balanced_and_distinct():
    plans = template_plans(6, ASPECTS, k=3, seed=1)
    assert plans["label"].tolist() == ["positive", "negative"] * 3
    assert all(len(set(plan)) == 3 and set(plan) <= set(ASPECTS) for plan in plans["plan"])
    assert plans.equals(template_plans(6, ASPECTS, k=3, seed=1))
    with pytest.raises(ValueError, match="at least k=3 distinct"):
        template_plans(2, ["acting", "plot"], k=3)
    with pytest.raises(ValueError, match="n and k"):
        template_plans(0, ASPECTS)


def test_aspect_coverage_counts_whole_words_and_plurals():
    scores = aspect_coverage(
        ["The acting and the character are fine.", None, "Music!"],
        [["acting", "characters", "plot"], ["plot"], ["music"]],
    )
    assert scores.iloc[0] == pytest.approx(2 / 3) and pd.isna(scores.iloc[1]) and scores.iloc[2] == 1.0
    assert aspect_coverage(["reacting badly"], [["acting"]]).iloc[0] == 0.0
    with pytest.raises(ValueError, match="align"):
        aspect_coverage(["a"], [])


def test_graph_writes_one_part_per_aspect_assembles_and_checks():
    model = ScriptedModel(answers={"positive": "I loved the acting, wonderful.", "negative": "Awful, boring."})
    graph = plan_graph(model, aspects=ASPECTS, k=2, checker=checker(), progress=False)
    assert isinstance(graph, Runnable)
    state = graph.invoke({"n": 4, "seed": 0})
    reviews, parts = state["reviews"], state["parts"]
    assert len(parts) == 8 and parts["seed"].tolist() == list(range(4, 12))
    assert len(reviews) == 4 and reviews["label"].tolist() == ["positive", "negative"] * 2
    assert (reviews["parts_planned"] == 2).all()
    assert set(reviews["check_agrees"].dropna()) <= {True, False}
    assert reviews["aspect_coverage"].between(0, 1).all()
    assert [params["plan"] for params in reviews["params"]] == state["plans"]["plan"].tolist()


def test_a_review_whose_parts_all_fail_keeps_the_reason():
    class Failing(ScriptedModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            if "negative" in str(messages[-1].content):
                raise RuntimeError("model down")
            return super()._generate(messages, stop, run_manager, **kwargs)

    model = Failing(answers={}, default="A fine film.")
    state = plan_graph(model, aspects=ASPECTS, k=2, checker=checker(), progress=False).invoke({"n": 2, "seed": 0})
    failed = state["reviews"].iloc[1]
    assert failed["text"] is None and "every part failed" in failed["error"]
    assert failed["check_label"] is None and state["reviews"].iloc[0]["parts_ok"] == 2


def test_model_planner_falls_back_to_the_template_per_failed_plan():
    model = ScriptedModel(
        answers={
            "List 2 aspects of a movie that a positive": "1. Acting\n2. Music",
            "List 2 aspects": "I cannot help with that.",
        },
        default="A nice sentence.",
    )
    state = plan_graph(model, aspects=ASPECTS, k=2, planner="model", progress=False).invoke({"n": 2, "seed": 0})
    plans = state["plans"]
    assert plans.loc[0, "plan"] == ["Acting", "Music"] and plans.loc[0, "plan_source"] == "model"
    assert plans.loc[1, "plan_source"].startswith("template") and set(plans.loc[1, "plan"]) <= set(ASPECTS)


def test_one_shot_baseline_uses_the_same_plans():
    plans = template_plans(2, ASPECTS, k=2, seed=0)
    rows = one_shot_with_plan(ScriptedModel(answers={}, default="Great acting."), plans, seed=5, progress=False)
    assert rows["seed"].tolist() == [5, 6] and [p["plan"] for p in rows["params"]] == plans["plan"].tolist()
    assert "one about its" in rows["prompt"].iloc[0]
    checked = check_reviews(rows, checker())
    assert checked["check_label"].notna().all()
    with pytest.raises(ValueError, match="'label' and 'plan'"):
        one_shot_with_plan(ScriptedModel(answers={}), pd.DataFrame())


def test_bad_graph_arguments_are_named():
    with pytest.raises(ValueError, match="planner"):
        plan_graph(ScriptedModel(answers={}), aspects=ASPECTS, planner="llm")
    with pytest.raises(ValueError, match="invoke the graph"):
        plan_graph(ScriptedModel(answers={}), aspects=ASPECTS).invoke({"seed": 0})


@pytest.mark.integration
def test_the_graph_runs_on_the_embedded_model(local_model):
    state = plan_graph(local_model, aspects=ASPECTS, k=1, checker=checker(), progress=False).invoke({"n": 2, "seed": 0})
    assert len(state["parts"]) == 2 and len(state["reviews"]) == 2
    assert state["reviews"]["aspect_coverage"].dropna().between(0, 1).all()
