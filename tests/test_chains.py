from __future__ import annotations

import pandas as pd
import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.core.records import make_records
from synthlab.curation.filters import drop_malformed
from synthlab.generation.chains import STEPS, extract_title, parse_aspects, review_chain, self_check
from synthlab.generation.prompts import TaskSpec
from synthlab.llm.generate import GenerationError
from tests.fake_models import EchoSeedModel


class Router(EchoSeedModel):
    """Answers with the reply of the first rule whose key is in the last message; ``{seed}`` in a
    reply is filled in; a reply ``"RAISE"`` makes the call fail."""

    rules: list[tuple[str, str]] = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        text = str(messages[-1].content)
        reply = next(answer for key, answer in self.rules if key in text)
        if reply == "RAISE":
            raise RuntimeError("model failed")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply.format(seed=kwargs["seed"])))])


GOOD = [
    ("Invent the title", "Harbor Lights {seed}"),
    ("List 3 aspects", "1. The acting\n2. The music - lovely\n3. Plot"),
    ("Write one new", 'Sure! Here is a review:\n"A warm, funny film about a harbor."'),
    ("Is the sentiment", '{{"label": "positive"}}'),
]


def test_extract_title():
    assert extract_title('"Paper Hearts"') == {"text": "Paper Hearts"}
    assert extract_title('The title of the movie is "Echoes of the Past') == {"text": "Echoes of the Past"}
    assert extract_title("Sure! Title: Cold Iron\n\nI hope you like it.") == {"text": "Cold Iron"}
    with pytest.raises(ValueError, match="not a title"):
        extract_title("Oh man, a movie with a very questionable budget and a poor production value...")


def test_parse_aspects():
    assert parse_aspects("1. **Acting**: strong\n2. Music\n3. Plot\n4. Pacing") == {"text": "Acting; Music; Plot"}
    assert parse_aspects("1.1.1. The acting\n1.1.2. The music\n1.1.3. The acting") == {"text": "The acting; The music"}
    assert parse_aspects("- Acting\n- Music", k=1) == {"text": "Acting"}
    with pytest.raises(ValueError, match="no list of aspects"):
        parse_aspects("I cannot help with that.")


def test_chain_links_steps_and_flags_disagreement():
    model = Router(rules=GOOD)
    final, steps = review_chain(model, TaskSpec(), 4, seed=10, progress=False)
    assert list(steps) == list(STEPS) and model.calls == 16
    assert final["label"].tolist() == ["positive", "negative", "positive", "negative"]
    assert final["text"].eq("A warm, funny film about a harbor.").all() and final["error"].isna().all()
    assert final["check_label"].eq("positive").all()
    assert final["check_agrees"].tolist() == [True, False, True, False]  # flagged, not dropped
    assert final["title"].tolist() == [f"Harbor Lights {seed}" for seed in range(10, 14)]
    assert final["aspects"].eq("The acting; The music; Plot").all()
    assert set(final["parent_id"]) == set(steps["aspects"]["id"])
    assert set(steps["aspects"]["parent_id"]) == set(steps["title"]["id"])
    assert steps["check"]["parent_id"].tolist() == final["id"].tolist()
    assert steps["review"]["seed"].tolist() == [18, 19, 20, 21] and steps["check"]["seed"].tolist() == [
        22,
        23,
        24,
        25,
    ]
    assert final["method"].eq("chain").all() and steps["title"]["method"].eq("chain:title").all()
    assert (
        "Its title: Harbor Lights 10" in final["prompt"].iloc[0]
        and "Its aspects: The acting" in final["prompt"].iloc[0]
    )
    assert final["params"].iloc[0]["aspects"] == "The acting; The music; Plot"


def test_failed_steps_become_malformed_rows():
    rules = [
        ("Invent the title", "Title {seed}"),
        ("Title 1", "I cannot list anything."),
        ("Title 2", "RAISE"),
        *GOOD[1:],
    ]
    final, steps = review_chain(Router(rules=rules), TaskSpec(), 4, seed=0, progress=False)
    assert len(final) == 4 and final["id"].is_unique
    broken = final[final["error"].notna()]
    assert broken["error"].str.startswith("aspects step failed").all() and len(broken) == 2
    assert set(broken["parent_id"]) == set(steps["aspects"].loc[steps["aspects"]["error"].notna(), "id"])
    assert broken["title"].tolist() == ["Title 1", "Title 2"] and broken["text"].isna().all()
    assert broken["check_agrees"].tolist() == [None, None] and broken["aspects"].tolist() == [None, None]
    kept, removed = drop_malformed(final)
    assert len(kept) == 2 and len(removed) == 2


def test_failed_review_and_check_are_recorded():
    rules = [
        ("Invent the title", "Title {seed}"),
        ('Title 1"', "1. a\n2. b"),
        GOOD[1],
        ("Its aspects: a; b", "   "),
        ("Write one new", "A warm film, take {seed}."),
        ("take 6", "no idea"),
        GOOD[3],
    ]
    final, steps = review_chain(Router(rules=rules), TaskSpec(), 3, seed=0, progress=False)
    by_title = final.set_index("title")
    assert by_title.loc["Title 1", "error"].startswith("review step failed")
    assert by_title.loc["Title 1", "id"] in set(steps["review"]["id"])
    assert by_title.loc["Title 0", "error"].startswith("check step failed")
    assert by_title.loc["Title 0", "check_agrees"] is None
    assert by_title.loc["Title 2", "check_agrees"] is True
    assert len(drop_malformed(final)[0]) == 1


def test_a_model_that_never_parses_stops_with_the_step_named():
    model = Router(rules=[("", "This is a long sentence that is certainly not a title of anything at all ok")])
    with pytest.raises(GenerationError, match="chain step 'title' failed on every row"):
        review_chain(model, TaskSpec(), 4, progress=False)
    assert model.calls == 4
    with pytest.raises(GenerationError, match="chain step 'aspects'"):
        review_chain(Router(rules=[GOOD[0], ("", "")]), TaskSpec(), 2, progress=False)


def test_bad_chain_input():
    with pytest.raises(ValueError, match="k_aspects"):
        review_chain(Router(rules=GOOD), TaskSpec(), 2, k_aspects=0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        review_chain(Router(rules=GOOD), TaskSpec(), 0)


def test_self_check_on_any_set():
    frame = make_records([{"text": "Great fun.", "label": "positive"}, {"text": "Awful.", "label": "negative"}])
    checked, checks = self_check(Router(rules=GOOD), frame, TaskSpec(), seed=5, progress=False)
    assert checked["check_agrees"].tolist() == [True, False]
    assert checks["parent_id"].tolist() == frame["id"].tolist() and checks["seed"].tolist() == [5, 6]
    assert "Is the sentiment of this movie review positive or negative?" in checks["prompt"].iloc[0]
    real = frame.drop(columns="id")  # real, gold-labelled rows have no ids
    assert self_check(Router(rules=GOOD), real, TaskSpec(), progress=False)[1]["parent_id"].isna().all()
    with pytest.raises(ValueError, match="labels the task does not know"):
        self_check(Router(rules=GOOD), frame.assign(label=["good", "bad"]), TaskSpec())
    with pytest.raises(ValueError, match="missing or empty"):
        self_check(Router(rules=GOOD), frame.assign(text=["", "Awful."]), TaskSpec())
    with pytest.raises(KeyError, match="label_col 'y'"):
        self_check(Router(rules=GOOD), frame, TaskSpec(), label_col="y")


@pytest.mark.integration
def test_chain_on_the_embedded_model(local_model):
    titler = local_model.model_copy(update={"max_tokens": 12})  # long "titles" are sentences: cut them short
    final, steps = review_chain(local_model, TaskSpec(), 4, seed=0, title_model=titler, progress=False)
    assert len(final) == 4 and final["label"].value_counts().eq(2).all()
    assert all(isinstance(frame, pd.DataFrame) for frame in steps.values())
    answered = final[final["error"].isna()]
    assert answered["check_label"].isin(["positive", "negative"]).all()  # the grammar always parses
