"""Tests of synthlab.evaluation.pairwise: both orders judged, verdicts mapped back, bias and gold measured."""

from __future__ import annotations

import pandas as pd
import pytest

from synthlab.evaluation.pairwise import (
    choice_schema,
    gold_agreement,
    judge_pair,
    judge_pairs,
    position_bias,
    round_robin,
    sentiment_pairs,
    shuffled_pairs,
    verdict_parser,
)
from synthlab.llm.chat import constrain
from synthlab.llm.local import ChatLocalLlama
from tests.fake_models import EchoSeedModel, ScriptedModel


def pairs_of(a: list[str], b: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"question": "Which is better?", "system_a": "x", "system_b": "y", "output_a": a, "output_b": b}
    )


def test_a_fair_judge_is_consistent_and_maps_the_swapped_order_back():
    judge = ScriptedModel(answers={"Text A: good": "A", "Text B: good": "B"})
    judged = judge_pairs(judge, pairs_of(["good 1", "bad 2"], ["bad 1", "good 2"]), progress=False)
    assert judged["verdict_ab"].tolist() == ["A", "B"] and judged["verdict_ba"].tolist() == ["A", "B"]
    assert judged["status"].tolist() == ["consistent", "consistent"]
    assert judged["outcome"].tolist() == ["A", "B"]
    bias = position_bias(judged)
    assert bias["inconsistent_rate"] == 0 and bias["first_slot_share"] == 0.5 and bias["favoured_slot"] == "none"


def test_a_judge_that_always_says_a_is_all_position_bias():
    judged = judge_pairs(ScriptedModel(answers={}, default="A"), pairs_of(["p", "q"], ["r", "s"]), progress=False)
    assert judged["status"].eq("inconsistent").all() and judged["outcome"].eq("tie").all()
    bias = position_bias(judged)
    assert bias["inconsistent_rate"] == 1 and bias["first_slot_share"] == 1 and bias["favoured_slot"] == "first"
    dropped = judge_pairs(
        ScriptedModel(answers={}, default="A"), pairs_of(["p"], ["r"]), inconsistent="drop", progress=False
    )
    assert dropped["outcome"].isna().all()


def test_each_order_has_its_own_seed():
    judged = judge_pairs(EchoSeedModel(), pairs_of(["p", "q"], ["r", "s"]), seed=10, progress=False)
    seeds = [reply.rsplit("#", 1)[1] for reply in judged["reply_ab"].tolist() + judged["reply_ba"].tolist()]
    assert seeds == ["10", "11", "12", "13"]


def test_unparseable_replies_are_recorded_not_dropped():
    judge = ScriptedModel(answers={"Text A: p": "Both are fine."}, default="B")
    judged = judge_pairs(judge, pairs_of(["p", "q"], ["r", "s"]), progress=False)
    assert len(judged) == 2 and judged.loc[0, "status"] == "unparseable" and judged.loc[0, "outcome"] is None
    assert judged.loc[0, "reply_ab"] == "Both are fine."
    bias = position_bias(judged)
    assert bias["unparseable_reply_rate"] == 0.25 and bias["unparseable_pair_rate"] == 0.5


def test_ties_when_allowed():
    judged = judge_pairs(
        ScriptedModel(answers={}, default="tie"), pairs_of(["p"], ["r"]), allow_ties=True, progress=False
    )
    assert judged["outcome"].tolist() == ["tie"] and judged["status"].tolist() == ["consistent"]


def test_judge_pair_returns_one_result():
    result = judge_pair(ScriptedModel(answers={"Text A: good": "A", "Text B: good": "B"}), "Which?", "good", "bad")
    assert result["outcome"] == "A" and result["status"] == "consistent"


@pytest.mark.parametrize(
    "reply, verdict",
    [
        ("A", "A"),
        ('{"label": "B"}', "B"),
        ('"B"', "B"),
        ("B.", "B"),
        ("I think the answer is B", "B"),
        ("Text A is better.", "A"),
        ('{ "label" : "A"', "A"),
    ],
)
def test_verdict_parser_reads_free_text(reply, verdict):
    assert verdict_parser()(reply) == {"verdict": verdict}


@pytest.mark.parametrize("reply", ["I think a good film wins.", "", "Both."])
def test_verdict_parser_refuses_non_verdicts(reply):
    with pytest.raises(ValueError, match="named none"):
        verdict_parser()(reply)


def test_bad_pairs_are_refused_clearly():
    judge = ScriptedModel(answers={}, default="A")
    with pytest.raises(ValueError, match="empty"):
        judge_pairs(judge, pairs_of([], []), progress=False)
    with pytest.raises(KeyError, match="output_b"):
        judge_pairs(judge, pairs_of(["p"], ["r"]).drop(columns="output_b"), progress=False)
    with pytest.raises(ValueError, match="missing or empty"):
        judge_pairs(judge, pairs_of(["p", None], ["r", "s"]), progress=False)
    with pytest.raises(ValueError, match="inconsistent"):
        judge_pairs(judge, pairs_of(["p"], ["r"]), inconsistent="coin", progress=False)


def test_gold_pairs_from_real_text_balance_the_slots():
    texts = [f"review number {i} is quite good" for i in range(20)]
    pairs = shuffled_pairs(texts, 20, seed=1)
    assert set(pairs["gold"]) == {"A", "B"}
    for row in pairs.itertuples():
        real, shuffled = (row.output_a, row.output_b) if row.gold == "A" else (row.output_b, row.output_a)
        assert real in texts and sorted(real.split()) == sorted(shuffled.split()) and real != shuffled
    frame = pd.DataFrame({"text": texts, "label": ["positive", "negative"] * 10})
    sentiment = sentiment_pairs(frame, 5, seed=0)
    winners = [row.system_a if row.gold == "A" else row.system_b for row in sentiment.itertuples()]
    assert winners == ["positive"] * 5
    with pytest.raises(ValueError, match="lower n"):
        sentiment_pairs(frame, 11)


def test_gold_agreement_of_a_one_slot_judge_is_chance():
    pairs = shuffled_pairs([f"a real review number {i}" for i in range(10)], 10, seed=0)
    judged = judge_pairs(ScriptedModel(answers={}, default="A"), pairs, progress=False)
    report = gold_agreement(judged)
    assert report["accuracy"] == 0.5 and report["ties"] == 10 and report["kappa"] == 0
    assert 0 <= report["low"] < 0.5 < report["high"] <= 1


def test_gold_agreement_needs_an_answer():
    judged = judge_pairs(
        ScriptedModel(answers={}, default="??"), pairs_of(["p"], ["r"]).assign(gold="A"), progress=False
    )
    with pytest.raises(ValueError, match="no pair has an outcome"):
        gold_agreement(judged)


def test_round_robin_pairs_every_two_systems_per_item_and_skips_failures():
    outputs = {"a": ["a0", "a1"], "b": ["b0", None], "c": ["c0", "c1"]}
    with pytest.warns(UserWarning, match="skipped 2"):
        pairs = round_robin(outputs, "Which?")
    assert len(pairs) == 4 and set(pairs.loc[pairs["item"] == 0, "system_a"]) != {"a"}
    with pytest.raises(ValueError, match="at least two systems"):
        round_robin({"a": ["x"]}, "Which?")
    with pytest.raises(ValueError, match="aligned by item"):
        round_robin({"a": ["x"], "b": ["y", "z"]}, "Which?")


@pytest.mark.integration
def test_the_embedded_judge_answers_both_orders():
    judge = ChatLocalLlama(temperature=0, max_tokens=16, cache=False)
    result = judge_pair(
        judge, "Which movie review is more positive?", "A wonderful, moving film.", "A dull, lifeless mess."
    )
    assert result["verdict_ab"] in {"A", "B"} and result["verdict_ba"] in {"A", "B"}
    assert result["status"] in {"consistent", "inconsistent"}


def test_only_the_embedded_model_is_grammar_constrained():
    fake = ScriptedModel(answers={})
    assert constrain(fake, choice_schema()) is fake
    bound = constrain(ChatLocalLlama(cache=False), choice_schema(("A", "B", "tie")))
    assert bound.kwargs["response_format"]["schema"] == {"type": "string", "enum": ["A", "B", "tie"]}
