"""Two-role self-chat (taxonomy G6): a chat model plays a user persona, another (by default the
same model) plays the assistant, and they talk turn by turn about a topic, as in UltraChat
(Ding et al., 2023) and Baize (Xu et al., 2023).

The user side sees a system prompt with its persona and the topic, and the conversation so far
as a transcript; the assistant side sees an ordinary chat history. A dialogue stops at the first
of: ``max_turns`` turns, an empty or unparseable turn (or a failed model call), a turn that
repeats an earlier turn of the dialogue (ROUGE-L >= ``repeat_threshold``,
:func:`synthlab.core.text.rouge_l`), or a turn containing an ending phrase ("goodbye").
:func:`on_topic` measures whether each turn stays on its dialogue's topic with a nearest-topic
rule (no threshold), and :func:`on_topic_by_turn` whether the talk drifts as turns go on.

>>> turns = self_chat(get_chat_model("local", max_tokens=48), ["baking bread", "learning chess"])  # doctest: +SKIP
>>> on_topic_by_turn(drop_malformed(turns, label_col=None)[0])                                    # doctest: +SKIP

Taught in ``notebooks/03_sample_wise_decomposition.ipynb``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from sklearn.feature_extraction.text import TfidfVectorizer
from tqdm.auto import tqdm

from synthlab.core.checks import check_column, check_frame, check_texts
from synthlab.core.parsing import clean_text
from synthlab.core.records import make_records
from synthlab.core.text import rouge_l
from synthlab.llm.generate import GenerationError, generate, model_name, prompt_text

__all__ = [
    "ASSISTANT",
    "END_PHRASES",
    "SEED_STRIDE",
    "STOP_REASONS",
    "USER_FIRST",
    "USER_NEXT",
    "on_topic",
    "on_topic_by_turn",
    "parse_turn",
    "self_chat",
    "turn_seed",
]

END_PHRASES = ("goodbye", "bye for now", "see you", "talk to you later")
STOP_REASONS = ("max turns", "unparseable", "model error", "repeat", "ending phrase")
SEED_STRIDE = 1000  # seeds of dialogue d are seed + d * SEED_STRIDE + turn: one dialogue never reuses another's
_USER_SYSTEM = (
    "You are {persona}. You are chatting with an AI assistant about {topic}. Stay on that topic. "
    "Write only your own message, in one or two short sentences."
)


USER_FIRST = ChatPromptTemplate.from_messages(
    [
        ("system", _USER_SYSTEM),
        ("human", "Write your first message to the assistant about {topic}."),
    ]
)


USER_NEXT = ChatPromptTemplate.from_messages(
    [
        ("system", _USER_SYSTEM),
        ("human", "The conversation so far:\n{transcript}\n\nWrite your next message to the assistant."),
    ]
)


ASSISTANT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a helpful assistant. Answer in two or three short sentences."),
        MessagesPlaceholder("history"),
    ]
)


_ECHO = re.compile(r"^\s*the conversation so far\s*:?\s*", re.IGNORECASE)  # USER_NEXT's header, copied back
_SPEAKER = re.compile(r"(?:^|\n|\s)(?:you|user|me|assistant|ai)\s*:\s*", re.IGNORECASE)


def turn_seed(seed: int, dialogue: int, turn: int) -> int:
    """The seed of one turn, from the run's ``seed``, the dialogue's index and the turn's index
    (so a dialogue's turns do not depend on the other dialogues, and a longer run extends a shorter one)."""
    return seed + dialogue * SEED_STRIDE + turn


def parse_turn(output: str) -> dict[str, Any]:
    """A turn's text: :func:`synthlab.core.parsing.clean_text` without a leading speaker tag ("User:") or
    a copied "The conversation so far:" header, cut where the model starts writing the other side
    ("Assistant: ..."). A model that copies the transcript thus returns an earlier turn, which the
    repeat rule of :func:`self_chat` catches.

    Never raises: an unusable turn gives ``{"text": None, "problem": reason}``, so that one failed
    turn stays a row with its raw output (``generate`` would raise on a one-row call that failed).

    >>> parse_turn("User: How long should dough rest?\\nAssistant: About an hour.")
    {'text': 'How long should dough rest?', 'problem': None}
    """
    try:
        text = clean_text(output)
    except ValueError as error:
        return {"text": None, "problem": f"ValueError: {error}"}
    pieces = [piece.strip() for piece in _SPEAKER.split(_ECHO.sub("", text))]
    text = next((piece for piece in pieces if piece), "")
    if not re.search(r"\w", text):
        return {"text": None, "problem": f"ValueError: no turn text in {output[:80]!r}"}
    return {"text": text, "problem": None}


def _check_chat_input(topics: Sequence[str], personas: Sequence[str], max_turns: int, repeat_threshold: float) -> None:
    check_texts(topics, "topics", at_least=1, blank=False, hint="describe each dialogue's topic in a few words")
    if len(personas) != len(topics):
        raise ValueError(
            f"personas has {len(personas)} entries but there are {len(topics)} topics; pass one "
            "persona string for all dialogues or one per topic"
        )
    if not 1 <= max_turns < SEED_STRIDE:
        raise ValueError(f"max_turns must be between 1 and {SEED_STRIDE - 1}; got {max_turns}")
    if not 0 < repeat_threshold <= 1:
        raise ValueError(f"repeat_threshold must be in (0, 1]; got {repeat_threshold}")


def _stop_reason(
    text: str | None,
    problem: str | None,
    earlier: list[str],
    end_pattern: re.Pattern[str] | None,
    repeat_threshold: float,
) -> str | None:
    if problem is not None:
        return "model error" if problem.startswith("model error") else "unparseable"
    if any(rouge_l(text, before) >= repeat_threshold for before in earlier):
        return "repeat"
    if end_pattern is not None and end_pattern.search(text):
        return "ending phrase"
    return None


def _prompt(role: str, topic: str, persona: str, turns: list[dict[str, Any]]) -> Any:
    if role == "assistant":
        history: list[BaseMessage] = [
            HumanMessage(t["text"]) if t["role"] == "user" else AIMessage(t["text"]) for t in turns
        ]
        return ASSISTANT.invoke({"history": history})
    if not turns:
        return USER_FIRST.invoke({"persona": persona, "topic": topic})
    transcript = "\n".join(f"{'You' if t['role'] == 'user' else 'Assistant'}: {t['text']}" for t in turns)
    return USER_NEXT.invoke({"persona": persona, "topic": topic, "transcript": transcript})


def _one_turn(
    model: BaseChatModel, prompt: Any, seed: int, params: dict[str, Any], parent_id: str | None, method: str
) -> dict[str, Any]:
    try:
        row = (
            generate(
                model,
                [prompt],
                seed=seed,
                parse=parse_turn,
                conditions=[params],
                parent_ids=[parent_id],
                method=method,
                progress=False,
            )
            .iloc[0]
            .to_dict()
        )
    except GenerationError as error:  # the model call itself failed: there is no raw output to keep
        return (
            make_records(
                [
                    {
                        "method": method,
                        "model": model_name(model),
                        "prompt": prompt_text(prompt),
                        "params": params,
                        "seed": seed,
                        "parent_id": parent_id,
                        "problem": f"model error: {error}",
                    }
                ]
            )
            .iloc[0]
            .to_dict()
        )
    return row


def self_chat(
    model: BaseChatModel,
    topics: Sequence[str],
    *,
    user_model: BaseChatModel | None = None,
    personas: str | Sequence[str] = "a curious person who asks practical questions",
    max_turns: int = 4,
    seed: int = 0,
    end_phrases: Sequence[str] = END_PHRASES,
    repeat_threshold: float = 0.7,
    method: str = "self-chat",
    progress: bool = True,
) -> pd.DataFrame:
    """One self-chat dialogue per topic: ``user_model`` (default ``model``) plays the persona and
    speaks first, ``model`` answers as the assistant, alternating for up to ``max_turns`` turns.

    Returns one record per turn with the columns ``dialogue`` (the topic's index), ``turn``
    (0, 1, ...), ``role`` (``user``/``assistant``), ``topic`` and ``stop_reason`` (one of
    :data:`STOP_REASONS`, on each dialogue's last turn only), plus the usual provenance (``prompt``,
    ``params`` with topic, persona, role and indices, ``seed`` from :func:`turn_seed`, ``parent_id``
    = the previous turn, ``raw``, ``error``). A failed turn is kept, with its reason in ``error``, as
    its dialogue's last turn. Raises :class:`synthlab.llm.generate.GenerationError` when no dialogue got
    a single usable turn (a model that never returns parseable text), quoting its raw answers.
    """
    persona_list = [personas] * len(topics) if isinstance(personas, str) else list(personas)
    _check_chat_input(topics, persona_list, max_turns, repeat_threshold)
    phrases = [phrase for phrase in end_phrases if phrase.strip()]
    end_pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, phrases)) + r")\b", re.IGNORECASE) if phrases else None
    speakers = {"user": user_model or model, "assistant": model}
    rows: list[dict[str, Any]] = []
    for dialogue, (topic, persona) in enumerate(
        tqdm(list(zip(topics, persona_list)), desc=method, disable=not progress)
    ):
        turns: list[dict[str, Any]] = []
        for turn in range(max_turns):
            role = "user" if turn % 2 == 0 else "assistant"
            params = {"topic": topic, "persona": persona, "role": role, "dialogue": dialogue, "turn": turn}
            row = _one_turn(
                speakers[role],
                _prompt(role, topic, persona, turns),
                turn_seed(seed, dialogue, turn),
                params,
                turns[-1]["id"] if turns else None,
                method,
            )
            problem = row.pop("problem")
            row.update(dialogue=dialogue, turn=turn, role=role, topic=topic, error=problem)
            reason = _stop_reason(row["text"], row["error"], [t["text"] for t in turns], end_pattern, repeat_threshold)
            turns.append(row)
            if reason is None and turn == max_turns - 1:
                reason = "max turns"
            if reason is not None:
                row["stop_reason"] = reason
                break
        rows.extend(turns)
    records = make_records(rows)
    if records["error"].notna().all():
        raws = [str(raw)[:80] for raw in records["raw"].head(3)]
        raise GenerationError(
            f"no dialogue got a usable turn: all {len(records)} first turns failed "
            f"(first error: {records['error'].iloc[0]}; raw answers {raws}). The model never "
            "returned parseable text: try model.invoke(...) by hand, more max_tokens, "
            "or another model"
        )
    return records


def _topic_similarities(frame: pd.DataFrame, text_col: str, topic_col: str) -> tuple[np.ndarray, list[str]]:
    check_frame(frame, "turns", text_col=text_col, columns={"topic_col": topic_col}, blank=False)
    topics = sorted(set(frame[topic_col]))
    if len(topics) < 2:
        raise ValueError(f"the nearest-topic rule needs at least two topics in the run; got {topics}")
    vectorizer = TfidfVectorizer(stop_words="english").fit(topics + frame[text_col].tolist())
    similarity = (vectorizer.transform(frame[text_col]) @ vectorizer.transform(topics).T).toarray()
    return similarity, topics


def on_topic(turns: pd.DataFrame, *, text_col: str = "text", topic_col: str = "topic") -> pd.Series:
    """Whether each turn is on its dialogue's topic by the nearest-topic rule: its TF-IDF cosine
    similarity (English stop words removed, fitted on the topics and the turns) to its own topic
    description is higher than to every other topic of the run. No threshold to tune; a turn
    sharing no word with any topic is off topic. Chance level is about 1 / (number of topics)."""
    similarity, topics = _topic_similarities(turns, text_col, topic_col)
    own = np.array([topics.index(topic) for topic in turns[topic_col]])
    rows = np.arange(len(turns))
    others = similarity.copy()
    others[rows, own] = -np.inf
    return pd.Series(similarity[rows, own] > others.max(axis=1), index=turns.index, name="on_topic")


def on_topic_by_turn(
    turns: pd.DataFrame, *, text_col: str = "text", topic_col: str = "topic", turn_col: str = "turn"
) -> pd.DataFrame:
    """The on-topic share (:func:`on_topic`) per turn index: does the talk drift as turns go on?
    Columns ``n`` (turns with that index) and ``on_topic_share``, indexed by ``turn_col``."""
    check_column(turns, turn_col, "turn_col")
    flags = on_topic(turns, text_col=text_col, topic_col=topic_col)
    return flags.groupby(turns[turn_col]).agg(n="size", on_topic_share="mean")
