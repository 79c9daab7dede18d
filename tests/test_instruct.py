"""Instruction bootstrapping (G8): the shared parsing and filters, Self-Instruct, Explore-Instruct and
Evol-Instruct, with scripted fake models (and one short run on the embedded model)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from synthlab.core.records import make_records
from synthlab.core.text import NoveltyPool
from synthlab.generation.instructions.evol_instruct import (
    EVOLUTIONS,
    eliminate,
    elimination_rates,
    evol_instruct,
    evolve_prompt,
)
from synthlab.generation.instructions.explore_instruct import (
    explore_instruct,
    leaf_coverage,
    leaves,
    parse_subtopics,
)
from synthlab.generation.instructions.filters import (
    explode_instructions,
    filter_instructions,
    instruction_problem,
    looks_like_instruction,
    mark_empty,
    parse_instruction_list,
    strip_markers,
)
from synthlab.generation.instructions.self_instruct import self_instruct, self_instruct_prompt
from synthlab.llm.generate import generate

SEEDS = [
    "Summarise the text in one sentence.",
    "Why is the sky blue on a clear day?",
    "Rewrite the sentence in the active voice.",
    "Give three ideas for a rainy-day activity with children.",
    "Label this email subject as spam or not spam.",
    "What does a compiler do?",
    "List four cheap ways to make a rented flat feel more like home.",
    "Why do we have leap years?",
    "Extract every date mentioned in the text.",
    "Correct the spelling mistakes in this sentence.",
]
VOCABULARY = (
    "apples",
    "rivers",
    "trains",
    "clouds",
    "violins",
    "deserts",
    "tigers",
    "lamps",
    "oceans",
    "poems",
    "castles",
    "engines",
    "gardens",
    "planets",
    "coins",
    "forests",
    "bridges",
    "kites",
    "islands",
    "mirrors",
    "glaciers",
    "owls",
    "harbours",
    "chess",
    "lanterns",
    "volcanoes",
    "orchards",
    "comets",
    "ferries",
    "tulips",
    "robots",
    "canyons",
    "pianos",
    "beetles",
    "marathons",
    "lighthouses",
    "sundials",
    "parrots",
    "quilts",
    "tunnels",
)


class ScriptedModel(BaseChatModel):
    """A chat model whose answer is ``reply(last message, seed)``."""

    reply: Callable[[str, int], str]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        answer = self.reply(str(messages[-1].content), kwargs.get("seed") or 0)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])


def fresh_task(seed: int, salt: int = 0) -> str:
    """A task whose words are drawn at random, so two of them are far apart in ROUGE-L."""
    return "Describe " + ", ".join(random.Random(seed * 101 + salt).sample(VOCABULARY, 6)) + "."


# --- parsing and filters (synthlab.generation.instructions.filters) ---


def test_parse_instruction_list_keeps_list_items_only():
    answer = (
        'Sure! Here are some tasks:\n1. **Task 1:** Name three rivers.\n2) "Define a noun."\n'
        "- Instruction: Sort these numbers: 3, 1, 2.\n3. 2.1: Name three rivers.\nI hope this helps!"
    )
    parsed = parse_instruction_list(answer)
    assert parsed["instructions"] == ["Name three rivers.", "Define a noun.", "Sort these numbers: 3, 1, 2."]
    assert parsed["text"].splitlines() == parsed["instructions"]


@pytest.mark.parametrize("answer", ["I cannot think of any tasks.", "", None, 42])
def test_parse_instruction_list_never_raises(answer):
    assert parse_instruction_list(answer) == {"text": None, "instructions": []}


def test_strip_markers_removes_stacked_numbering_but_not_numbers():
    assert strip_markers("1. 2.1: What is x?") == "What is x?"
    assert strip_markers("Task 3: Do y.") == "Do y."
    assert strip_markers("3.5 times 2 is what?") == "3.5 times 2 is what?"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Name it.", "fewer than 4 words"),
        ("word " * 151, "more than 150 words"),
        ("Draw the outline of your town.", "mentions 'draw' (a text-only model cannot do it)"),
        ("Describe this image in detail.", "mentions 'image' (a text-only model cannot do it)"),
        ("Write a program that sorts a list.", "starts with 'Write a program'"),
        ("- Name three rivers in Spain.", "starts with punctuation or a non-ASCII character"),
        ("Name three rivers in", "unfinished (does not end like a sentence)"),
        (None, "empty instruction"),
    ],
)
def test_instruction_problem_names_each_rule(text, reason):
    assert instruction_problem(text) == reason


def test_instruction_problem_passes_good_instructions_and_whole_words_only():
    assert instruction_problem("Summarise the text in one sentence.") is None
    assert instruction_problem("Explain the profile of a roadmap user?") is None  # 'map' inside a word


def test_looks_like_instruction():
    assert looks_like_instruction("Rewrite this sentence in a formal register.")
    assert looks_like_instruction("When does the museum close on Sundays?")
    assert not looks_like_instruction("A compiler translates source code into machine code.")
    assert not looks_like_instruction("When it comes to bread, nothing beats a sourdough.")


def test_filter_instructions_records_why_and_grows_the_pool():
    pool = NoveltyPool(texts=SEEDS)
    candidates = make_records(
        [
            {"text": t}
            for t in [
                "Summarise the text in one short sentence.",
                fresh_task(1),
                fresh_task(1) + " Now!",
                "Draw a cat.",
                fresh_task(2),
            ]
        ]
    )
    kept, removed = filter_instructions(candidates, pool)
    assert kept["text"].tolist() == [fresh_task(1), fresh_task(2)]
    assert removed["reason"].iloc[0].startswith("ROUGE-L 0.92 >= 0.7 with 'Summarise the text in one sentence.'")
    assert removed["reason"].iloc[1].startswith("ROUGE-L") and fresh_task(1) in removed["reason"].iloc[1]
    assert removed["reason"].iloc[2] == "fewer than 4 words"
    assert removed["rouge_l"].isna().tolist() == [False, False, True]
    assert kept["rouge_l"].lt(0.7).all()
    assert len(pool.texts) == len(SEEDS) + 2 and pool.offered == 4 and pool.rejected == 2


def test_explode_and_mark_empty_keep_provenance():
    model = ScriptedModel(reply=lambda text, seed: "1. Name a river.\n2. Define a noun." if seed == 5 else "No.")
    calls = generate(
        model,
        ["p1", "p2"],
        seed=5,
        conditions=[{"demos": ["a"]}, {"demos": ["b"]}],
        parse=parse_instruction_list,
        method="unit",
        generation_round=3,
        progress=False,
    )
    calls = mark_empty(calls, "instructions", "no list")
    assert calls["error"].tolist() == [None, "no list"]
    assert calls["raw"].iloc[1] == "No."
    rows = explode_instructions(calls)
    assert rows["text"].tolist() == ["Name a river.", "Define a noun."]
    assert (rows["parent_id"] == calls["id"].iloc[0]).all()
    assert rows["params"].map(lambda p: (p["demos"], p["item"])).tolist() == [(["a"], 0), (["a"], 1)]
    assert rows["round"].tolist() == [3, 3] and rows["method"].eq("unit").all() and rows["seed"].eq(5).all()
    assert rows["prompt"].eq("p1").all()


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([], "seeds is empty: it needs at least one text; got 0; pass at least one human-written instruction"),
        ("Summarise the text.", "not one string"),
        (["Summarise the text.", None], "position 1 is None"),
        (["Summarise the text.", "  "], "position 1 is '  ', empty"),
    ],
)
def test_bootstrapping_rejects_bad_seeds(seeds, message):
    with pytest.raises(ValueError, match=message):
        self_instruct(ScriptedModel(reply=lambda prompt: ""), seeds, progress=False)
    with pytest.raises(ValueError, match=message.replace("seeds", "instructions")):
        evol_instruct(ScriptedModel(reply=lambda prompt: ""), seeds)


# --- Self-Instruct ------------------------------------------------------------------------------------


def listed_tasks(prompt: str) -> list[str]:
    return re.findall(r"^\d+\. (.+)$", prompt, flags=re.MULTILINE)


def bootstrapper(text: str, seed: int) -> str:
    """Two new tasks, a copy of the first task shown, and a task a text model cannot do."""
    return (
        f"Here you go:\n1. {fresh_task(seed)}\n2. {fresh_task(seed, 1)}\n3. {listed_tasks(text)[0]}\n"
        "4. Draw a picture of a cat."
    )


def test_self_instruct_grows_the_pool_and_counts_every_decision():
    result = self_instruct(
        ScriptedModel(reply=bootstrapper),
        SEEDS + SEEDS[:2],
        steps=3,
        prompts_per_step=2,
        seed=7,
        progress=False,
    )
    steps = result.table
    assert steps["step"].tolist() == [0, 1, 2] and steps["calls"].eq(2).all() and steps["failed_calls"].eq(0).all()
    assert steps["offered"].eq(8).all()
    assert (steps["accepted"] + steps["rejected_quality"] + steps["rejected_novelty"]).eq(steps["offered"]).all()
    assert steps["accepted"].eq(4).all() and steps["rejected_quality"].eq(2).all()
    assert steps["rejection_rate"].eq(0.5).all() and steps["novelty_rejection_rate"].eq(2 / 6).all()
    assert steps["pool_size"].tolist() == [
        14,
        18,
        22,
    ]  # 10 distinct seeds (duplicates count once) + 4 per step
    assert steps["machine_size"].tolist() == [4, 8, 12]
    assert result.kept["text"].tolist() == result.pool.texts[10:]
    assert len(result.kept) + len(result.removed) == steps["offered"].sum()
    assert result.stopped == "ran all 3 steps"


def test_self_instruct_rows_keep_their_demos_and_provenance():
    result = self_instruct(ScriptedModel(reply=bootstrapper), SEEDS, steps=2, seed=3, progress=False)
    calls = result.calls
    assert calls["seed"].tolist() == [3, 4, 5, 6]
    assert calls["params"].map(lambda p: len(p["demos"])).eq(8).all()
    assert calls["params"].map(lambda p: p["n_machine_demos"]).tolist() == [0, 0, 2, 2]
    step_one = calls[calls["round"] == 1]
    machine_step_zero = set(result.kept.loc[result.kept["round"] == 0, "text"])
    assert all(len(set(p["demos"]) & machine_step_zero) == 2 for p in step_one["params"])
    assert result.kept["parent_id"].isin(calls["id"]).all() and result.kept["method"].eq("self-instruct").all()
    assert result.kept["prompt"].str.contains("Come up with 5 new and different tasks").all()
    again = self_instruct(ScriptedModel(reply=bootstrapper), SEEDS, steps=2, seed=3, progress=False)
    assert again.kept["text"].tolist() == result.kept["text"].tolist()


def test_self_instruct_stops_at_the_target():
    result = self_instruct(ScriptedModel(reply=bootstrapper), SEEDS, steps=10, target=6, progress=False)
    assert len(result.table) == 2 and result.stopped.startswith("reached the target of 6 machine tasks")


def test_a_model_that_never_writes_a_list_ends_the_loop_with_a_report():
    model = ScriptedModel(reply=lambda text, seed: "I am a small model and I like tasks.")
    with pytest.warns(UserWarning, match="3 steps in a row added no task.*no call of the last step gave a parseable"):
        result = self_instruct(model, SEEDS, steps=50, patience=3, progress=False)
    assert len(result.table) == 3 and result.table["failed_calls"].eq(2).all()
    assert result.kept.empty and result.removed.empty
    assert result.calls["error"].eq("no numbered list of tasks in the answer").all()
    assert result.calls["raw"].eq("I am a small model and I like tasks.").all()


def test_a_model_that_only_copies_ends_the_loop_with_the_commonest_reason():
    model = ScriptedModel(
        reply=lambda text, seed: "\n".join(f"{i}. {task}" for i, task in enumerate(listed_tasks(text), 1))
    )
    with pytest.warns(UserWarning, match="every candidate was rejected.*ROUGE-L 1.00"):
        result = self_instruct(model, SEEDS, steps=9, patience=2, progress=False)
    assert len(result.table) == 2 and result.table["rejection_rate"].eq(1.0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": []}, "seeds is empty"),
        ({"steps": 0}, "steps must be >= 1"),
        ({"n_machine": -1}, "n_machine must be >= 0"),
        ({"target": 0}, "target must be >= 1"),
        ({"threshold": 0}, "threshold must be in"),
    ],
)
def test_self_instruct_rejects_bad_arguments(kwargs, message):
    arguments = {"seeds": SEEDS, **kwargs}
    with pytest.raises(ValueError, match=message):
        self_instruct(ScriptedModel(reply=bootstrapper), arguments.pop("seeds"), progress=False, **arguments)


def test_self_instruct_prompt_lists_the_tasks():
    text = self_instruct_prompt(["Name a river.", "Define a noun."], 3).to_string()
    assert "1. Name a river.\n2. Define a noun." in text and "Come up with 3 new" in text


# --- Explore-Instruct ---------------------------------------------------------------------------------


def explorer(text: str, seed: int) -> str:
    if match := re.search(r"subtopics of (.+?)(?: \(within .*\))?\?", text):
        topic = match.group(1)
        return f"1. {topic} alpha\n2. {topic}\n3. {topic} beta\n4. {topic} alpha\n5. {topic} gamma\n6. {topic} delta"
    return f"1. {fresh_task(seed)}\n2. {fresh_task(seed)[:-1]} today.\n3. Draw it."


def test_explore_instruct_builds_the_tree_and_covers_its_leaves():
    result = explore_instruct(ScriptedModel(reply=explorer), "math", depth=2, breadth=3, seed=0, progress=False)
    tree = result.tree
    assert tree["round"].value_counts().sort_index().tolist() == [1, 3, 9]
    ends = leaves(tree)
    assert len(ends) == 9 and ends["round"].eq(2).all()
    assert ends["params"].iloc[0]["path"] == ["math", "math alpha", "math alpha alpha"]
    assert {p["path"][1] for p in ends["params"]} == {"math alpha", "math beta", "math gamma"}
    calls = result.calls.set_index("id")
    assert len(result.kept) == 9 and len(result.removed) == 18  # a near copy and a short task per leaf
    for row in result.kept.itertuples():
        call = calls.loc[row.parent_id]
        assert call["parent_id"] in set(ends["id"]) and row.params["path"] == call["params"]["path"]
    coverage = leaf_coverage(tree, result.kept)
    assert coverage["kept"].eq(1).all() and result.coverage == 1.0
    assert result.calls["seed"].tolist() == list(range(len(result.calls)))


def test_explore_instruct_asks_again_and_records_failed_answers():
    def stubborn(text: str, seed: int) -> str:
        return "I like math." if seed % 2 == 0 else explorer(text, seed)

    result = explore_instruct(ScriptedModel(reply=stubborn), "math", depth=1, breadth=3, progress=False)
    expand = result.calls[result.calls["method"] == "explore-instruct:expand"]
    assert expand["error"].tolist() == ["no list of subtopics in the answer", None]
    assert expand["params"].map(lambda p: p["attempt"]).tolist() == [0, 1]
    assert len(leaves(result.tree)) == 3


def test_explore_instruct_with_an_unparseable_model_reports_zero_coverage():
    result = explore_instruct(ScriptedModel(reply=lambda text, seed: "Hello!"), "math", attempts=2, progress=False)
    assert len(result.tree) == 1 and leaves(result.tree)["text"].tolist() == ["math"]
    assert result.calls["error"].notna().all() and len(result.calls) == 3
    assert result.kept.empty and result.coverage == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"root": " "}, "root must name a domain"),
        ({"depth": 0}, "depth must be >= 1"),
        ({"per_leaf": 0}, "per_leaf must be >= 1"),
    ],
)
def test_explore_instruct_rejects_bad_arguments(kwargs, message):
    arguments = {"root": "math", **kwargs}
    with pytest.raises(ValueError, match=message):
        explore_instruct(ScriptedModel(reply=explorer), arguments.pop("root"), progress=False, **arguments)


def test_parse_subtopics_strips_numbering():
    assert parse_subtopics("1. 1. Algebra\n2. Geometry: shapes\n3. algebra") == {
        "text": "Algebra\nGeometry",
        "subtopics": ["Algebra", "Geometry"],
    }


# --- Evol-Instruct ------------------------------------------------------------------------------------


def evolver(text: str, seed: int) -> str:
    parent = text.rsplit("Instruction: ", 1)[1]
    if "brand new instruction" in text:
        return "#Created Prompt#: Name a rare bird."
    if EVOLUTIONS["constraints"] in text:
        return f"{parent} Answer in at most 20 words and give two examples."
    if EVOLUTIONS["reasoning"] in text:
        return parent
    if EVOLUTIONS["deepen"] in text:
        return "A compiler is a program that translates code."
    return "   "


def test_evol_instruct_keeps_good_evolutions_and_says_why_others_failed():
    result = evol_instruct(ScriptedModel(reply=evolver), SEEDS[:6], generations=2, seed=1, progress=False)
    kept, removed = result.kept, result.removed
    assert len(kept) + len(removed) == 12
    reasons = dict(zip(removed["params"].map(lambda p: p["evolution"]), removed["reason"]))
    assert reasons.get("breadth", "prompt artefact '#'") == "prompt artefact '#'"
    assert reasons.get("reasoning", "no real").startswith("no real change: ROUGE-L 1.00")
    assert reasons.get("deepen", "reads like") == "reads like an answer, not an instruction"
    assert reasons.get("concretize", "empty").startswith("empty rewrite")
    assert kept["params"].map(lambda p: p["evolution"]).eq("constraints").all()
    assert kept["text"].str.endswith("give two examples.").all() and kept["method"].eq("evol-instruct").all()


def test_evol_instruct_evolves_survivors_and_retries_failures():
    result = evol_instruct(ScriptedModel(reply=evolver), SEEDS[:6], generations=2, seed=1, progress=False)
    kept, removed = result.kept, result.removed
    rows = pd.concat([kept, removed])
    first, second = rows[rows["round"] == 1], rows[rows["round"] == 2]
    survivors = kept[kept["round"] == 1].set_index("id")["text"]
    assert len(first) == len(second) == 6 and len(survivors) >= 1
    assert second["parent_id"].isin(survivors.index).sum() == len(survivors)
    for row in second.itertuples():
        if row.parent_id in survivors.index:  # a survivor is evolved further
            assert row.params["parent"] == survivors[row.parent_id]
        else:  # a failed evolution leaves its parent to be evolved again
            assert row.parent_id in set(first["parent_id"]) and row.params["parent"] in SEEDS


def test_elimination_rates_by_type_and_generation():
    result = evol_instruct(ScriptedModel(reply=evolver), SEEDS, generations=2, seed=0, progress=False)
    kept, removed = result.kept, result.removed
    by_type = elimination_rates(kept, removed, by="evolution")
    by_generation = elimination_rates(kept, removed, by="generation")
    assert by_type["tried"].sum() == by_generation["tried"].sum() == 2 * len(SEEDS)
    assert by_type.loc["constraints", "elimination_rate"] == 0.0
    assert by_type.drop(index="constraints")["elimination_rate"].eq(1.0).all()
    assert by_generation.index.tolist() == [1, 2]
    with pytest.raises(ValueError, match="by must be"):
        elimination_rates(kept, removed, by="step")


def test_eliminate_catches_chatter_copies_and_generation_errors():
    prompt = evolve_prompt("Why do we have leap years?", "deepen").to_string()
    rows = make_records(
        [
            {"text": "I'd be happy to help with that request today.", "prompt": prompt},
            {"text": "Rewrite the following instruction to make it a bit harder please.", "prompt": prompt},
            {"text": "If it asks about an issue, ask about the issue in more depth.", "prompt": prompt},
            {"text": None, "prompt": prompt, "error": "RuntimeError: boom"},
            {"text": "Why do we have leap years?\n\nThis rewrite adds depth.", "prompt": prompt},
            {
                "text": "Why do we have leap years, and how did the Julian calendar handle them?",
                "prompt": prompt,
            },
        ]
    )
    rows["params"] = [{"parent": "Why do we have leap years?", "evolution": "deepen"}] * len(rows)
    kept, removed = eliminate(rows)
    assert removed["reason"].tolist() == [
        'chatter or refusal "I\'d"',
        "prompt artefact 'Rewrite the following instruction'",
        "copies the evolving prompt",
        "generation error: RuntimeError: boom",
        "more than one line (a list, or the rewrite followed by commentary)",
    ]
    assert kept["text"].str.startswith("Why do we have leap years, and").all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instructions": []}, "instructions is empty"),
        ({"generations": 0}, "generations must be >= 1"),
        ({"evolutions": ["mutate"]}, "evolutions must be a non-empty list"),
    ],
)
def test_evol_instruct_rejects_bad_arguments(kwargs, message):
    arguments = {"instructions": SEEDS, **kwargs}
    with pytest.raises(ValueError, match=message):
        evol_instruct(ScriptedModel(reply=evolver), arguments.pop("instructions"), progress=False, **arguments)
    with pytest.raises(ValueError, match="unknown evolution"):
        evolve_prompt("Name a river.", "mutate")


# --- the embedded model -------------------------------------------------------------------------------


@pytest.mark.integration
def test_one_self_instruct_step_and_one_evolution_on_the_embedded_model(local_model):
    result = self_instruct(local_model, SEEDS, steps=1, prompts_per_step=1, n_new=2, progress=False)
    step = result.table.iloc[0]
    assert step["calls"] == 1
    assert step["offered"] == step["accepted"] + step["rejected_quality"] + step["rejected_novelty"]
    assert step["pool_size"] == len(SEEDS) + step["accepted"]
    result = evol_instruct(local_model, SEEDS[:1], progress=False)
    kept, removed = result.kept, result.removed
    assert len(kept) + len(removed) == 1
