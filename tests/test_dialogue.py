from __future__ import annotations

import pandas as pd
import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.generation.dialogue import (
    on_topic,
    on_topic_by_turn,
    parse_turn,
    self_chat,
    turn_seed,
)
from synthlab.llm.generate import GenerationError
from tests.fake_models import EchoSeedModel

SENTENCES = [
    "How long should bread dough rest before baking?",
    "About an hour in a warm kitchen usually works.",
    "Which flour gives the crispiest crust for sourdough?",
    "Strong bread flour with a little rye is popular.",
    "Should the oven have steam during the first minutes?",
    "Yes, steam helps the loaf rise and the crust shine.",
]


class Talker(EchoSeedModel):
    """Answers ``replies[turn]`` for the turn encoded in the seed (``seed % 1000``); a reply
    ``"RAISE"`` makes the call fail. Records the seeds and the messages it was sent."""

    replies: list[str] = SENTENCES
    seen: list[tuple[int, list[str]]] = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        self.seen.append((kwargs["seed"], [f"{m.type}: {m.content}" for m in messages]))
        reply = self.replies[(kwargs["seed"] % 1000) % len(self.replies)]
        if reply == "RAISE":
            raise RuntimeError("backend down")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


TOPICS = ["baking sourdough bread", "learning to play chess"]


def test_parse_turn():
    assert (
        parse_turn("User: How long should dough rest?\nAssistant: About an hour.")["text"]
        == "How long should dough rest?"
    )
    assert parse_turn('Sure! Here is my message:\n"Is rye flour good?"') == {
        "text": "Is rye flour good?",
        "problem": None,
    }
    echo = "The conversation so far:\nYou: Is rye flour good?\nAssistant: Yes."
    assert parse_turn(echo)["text"] == "Is rye flour good?"
    assert parse_turn("   ")["text"] is None and "nothing usable" in parse_turn("   ")["problem"]
    assert parse_turn("Assistant:")["problem"].startswith("ValueError")


def test_dialogues_run_to_max_turns_with_provenance():
    model = Talker(seen=[])
    turns = self_chat(model, TOPICS, max_turns=4, seed=7, progress=False)
    assert len(turns) == 8 and model.calls == 8
    assert turns["role"].tolist() == ["user", "assistant"] * 4
    assert (
        turns["seed"].tolist() == [turn_seed(7, d, t) for d in range(2) for t in range(4)]
        and turn_seed(7, 1, 2) == 1009
    )
    assert turns["stop_reason"].tolist() == [None, None, None, "max turns"] * 2
    assert turns["topic"].tolist() == [TOPICS[0]] * 4 + [TOPICS[1]] * 4
    assert turns["parent_id"].iloc[1] == turns["id"].iloc[0] and turns["parent_id"].iloc[4] is None
    params = turns["params"].iloc[5]
    assert (params["topic"], params["role"], params["dialogue"], params["turn"]) == (
        TOPICS[1],
        "assistant",
        1,
        1,
    )
    assert turns["error"].isna().all() and turns["raw"].notna().all()
    said = turns["text"].tolist()
    user_prompt = model.seen[2][1]
    assert "baking sourdough bread" in user_prompt[0]
    assert f"You: {said[0]}\nAssistant: {said[1]}" in user_prompt[1]
    assistant_prompt = model.seen[3][1]
    assert assistant_prompt[1:] == [f"human: {said[0]}", f"ai: {said[1]}", f"human: {said[2]}"]


def test_a_longer_run_extends_a_shorter_one():
    short = self_chat(Talker(seen=[]), TOPICS, max_turns=2, progress=False)
    long = self_chat(Talker(seen=[]), TOPICS, max_turns=4, progress=False)
    assert short["text"].tolist() == long[long["turn"] < 2]["text"].tolist()


def test_separate_user_model():
    assistant, user = Talker(seen=[]), Talker(seen=[])
    self_chat(assistant, TOPICS[:1], user_model=user, max_turns=3, progress=False)
    assert user.calls == 2 and assistant.calls == 1


@pytest.mark.parametrize(
    ("replies", "last_turn", "reason"),
    [
        ([SENTENCES[0], SENTENCES[0] + "!"], 1, "repeat"),
        ([SENTENCES[0], "Happy to help. Goodbye!"], 1, "ending phrase"),
        ([SENTENCES[0], SENTENCES[1], ""], 2, "unparseable"),
        ([SENTENCES[0], "RAISE"], 1, "model error"),
    ],
)
def test_stopping_rules(replies, last_turn, reason):
    turns = self_chat(Talker(replies=replies, seen=[]), TOPICS[:1], max_turns=6, progress=False)
    assert turns["turn"].tolist() == list(range(last_turn + 1))
    assert turns["stop_reason"].iloc[-1] == reason and turns["stop_reason"].iloc[:-1].isna().all()
    if reason in ("unparseable", "model error"):
        assert isinstance(turns["error"].iloc[-1], str) and turns["text"].iloc[-1] is None
    if reason == "unparseable":
        assert turns["raw"].iloc[-1] == ""


def test_no_end_phrases_means_no_ending_rule():
    turns = self_chat(
        Talker(replies=[SENTENCES[0], "Goodbye, good luck with the bread!"], seen=[]),
        TOPICS[:1],
        max_turns=2,
        end_phrases=(),
        progress=False,
    )
    assert turns["stop_reason"].iloc[-1] == "max turns"


def test_a_model_that_never_parses_ends_with_a_clear_error():
    model = Talker(replies=["   "], seen=[])
    with pytest.raises(GenerationError, match="no dialogue got a usable turn"):
        self_chat(model, TOPICS * 3, max_turns=50, progress=False)
    assert model.calls == 6  # one failed first turn per dialogue, then stop: no retry loop


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topics": []}, "topics is empty"),
        ({"topics": "baking"}, "not one string"),
        ({"topics": ["baking", " "]}, "position 1 is ' ', empty"),
        ({"topics": TOPICS, "personas": ["a baker"]}, "personas has 1"),
        ({"topics": TOPICS, "max_turns": 0}, "max_turns"),
        ({"topics": TOPICS, "repeat_threshold": 0}, "repeat_threshold"),
    ],
)
def test_bad_chat_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        self_chat(Talker(seen=[]), **kwargs)


def _turns(rows):
    return pd.DataFrame(rows, columns=["topic", "turn", "text"])


def test_on_topic_nearest_topic_rule():
    turns = _turns(
        [
            ("baking sourdough bread", 0, "My sourdough bread is flat."),
            ("baking sourdough bread", 1, "Chess openings are fun to learn."),
            ("learning to play chess", 0, "Which chess opening should I learn?"),
            ("learning to play chess", 1, "The weather is nice today."),
        ]
    )
    assert on_topic(turns).tolist() == [True, False, True, False]
    shares = on_topic_by_turn(turns)
    assert shares["n"].tolist() == [2, 2] and shares["on_topic_share"].tolist() == [1.0, 0.0]


def test_on_topic_bad_input():
    with pytest.raises(ValueError, match="at least two topics"):
        on_topic(_turns([("bread", 0, "bread is good")]))
    with pytest.raises(ValueError, match="whose 'text' is missing or empty"):
        on_topic(_turns([("bread", 0, None), ("chess", 0, "chess")]))
    with pytest.raises(KeyError, match="topic_col"):
        on_topic(_turns([("bread", 0, "bread")]), topic_col="subject")


@pytest.mark.integration
def test_self_chat_on_the_embedded_model(local_model):
    turns = self_chat(local_model, TOPICS, max_turns=2, progress=False)
    assert 2 <= len(turns) <= 4 and turns.groupby("dialogue")["stop_reason"].last().notna().all()
