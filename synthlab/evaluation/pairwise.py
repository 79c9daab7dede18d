"""Pairwise LLM-as-judge comparisons with position swapping (taxonomy E8, open evaluation by a model).

A judge model reads a question and two outputs and names the better one. Judges prefer a slot
(Zheng et al., 2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena"; Wang et al., 2023,
"Large Language Models are not Fair Evaluators"), so :func:`judge_pairs` asks twice, once in each
order, each order its own seeded call: two verdicts that name the same output are a verdict, two
that disagree are *position-inconsistent* and count as a tie (or are dropped). A reply that names
neither A nor B is recorded as unparseable, never dropped silently. :func:`position_bias` and
:func:`gold_agreement` measure how far to trust the judge; gold pairs come from real data
(:func:`shuffled_pairs`, :func:`sentiment_pairs`). The verdicts feed :mod:`synthlab.evaluation.ranking`.

Any ``get_chat_model`` backend can judge; the embedded model answers through llama.cpp's
JSON-schema grammar (:func:`synthlab.llm.chat.constrain` with :func:`choice_schema`), other backends in free text.
Taught in ``notebooks/23_model_judges.ipynb``.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from synthlab.core.checks import check_column, check_frame
from synthlab.evaluation.human import cohen_kappa, win_rate
from synthlab.llm.chat import constrain
from synthlab.llm.generate import GenerationError, generate

__all__ = [
    "CHOICES",
    "COHERENCE_QUESTION",
    "INCONSISTENT",
    "PAIRWISE_PROMPT",
    "SENTIMENT_QUESTION",
    "SWAPPED",
    "choice_schema",
    "gold_agreement",
    "judge_pair",
    "judge_pairs",
    "position_bias",
    "round_robin",
    "sentiment_pairs",
    "shuffled_pairs",
    "verdict_parser",
]

CHOICES: tuple[str, ...] = ("A", "B")


SWAPPED = {"A": "B", "B": "A", "tie": "tie"}


PAIRWISE_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You compare two texts and answer with the letter of the better one."),
        ("human", "{question}\n\nText A: {first}\n\nText B: {second}\n\nAnswer with {choices}."),
    ]
)


COHERENCE_QUESTION = "Which text is a fluent, well-formed movie review?"


SENTIMENT_QUESTION = "Which movie review is more positive?"


INCONSISTENT = ("tie", "drop")


def verdict_parser(choices: Sequence[str] = CHOICES) -> Callable[[str], dict[str, Any]]:
    """A ``generate`` parser for a judge's answer: a JSON string, the ``label`` of a JSON object (even one
    cut short), the first word of free text, or the letter in "Text B" / "Answer: B"; anything else raises
    ``ValueError`` so the row records the reply as unparseable. Letters match case-sensitively (the
    article "a" is no verdict)."""
    lookup = {choice.lower() if len(choice) > 1 else choice: choice for choice in choices}
    letters = "|".join(re.escape(choice) for choice in choices if len(choice) == 1)
    truncated = re.compile(r'\s*\{\s*"label"\s*:\s*"([^"]*)"')
    named = re.compile(rf"\b(?:text|review|output|answer|option)(?: is)?\s*:?\s*\**({letters})\b", re.IGNORECASE)

    def canonical(word: str) -> str | None:
        return lookup.get(word) or lookup.get(word.lower()) if len(word) > 1 else lookup.get(word)

    def parse(output: str) -> dict[str, Any]:
        try:
            loaded = json.loads(output)
            answer = str(loaded.get("label", "") if isinstance(loaded, dict) else loaded)
        except json.JSONDecodeError:
            cut = truncated.match(output)  # JSON cut short by max_tokens still names its label
            answer = cut.group(1) if cut else output
        words = re.findall(r"[A-Za-z]+", answer)
        found = canonical(words[0]) if words else None
        if found is None and (match := named.search(answer)):
            found = match.group(1).upper()
        if found is None:
            raise ValueError(f"the judge named none of {list(choices)}: {answer[:60]!r}")
        return {"verdict": found}

    return parse


def choice_schema(choices: Sequence[str] = CHOICES) -> dict[str, Any]:
    """The JSON schema of a verdict: one bare string of ``choices`` (``"A"``: three tokens, where
    :func:`synthlab.annotation.labels.label_schema`'s ``{"label": "A"}`` object takes about sixteen), which
    :func:`verdict_parser` reads, as it reads an unconstrained backend's free text."""
    return {"type": "string", "enum": list(choices)}


def judge_pairs(
    model: BaseChatModel,
    pairs: pd.DataFrame,
    *,
    question_col: str = "question",
    a_col: str = "output_a",
    b_col: str = "output_b",
    seed: int = 0,
    allow_ties: bool = False,
    inconsistent: str = "tie",
    progress: bool = True,
) -> pd.DataFrame:
    """Judge every pair twice, output A shown first and then output B shown first, and return ``pairs``
    with ``verdict_ab`` / ``verdict_ba`` (each order's pick mapped back to the outputs: ``"A"`` always
    means ``a_col``; None when unparseable), the raw replies ``reply_ab`` / ``reply_ba`` and why a reply
    failed (``error_ab`` / ``error_ba``), ``status``
    (``consistent``, ``inconsistent`` or ``unparseable``) and ``outcome`` (``"A"``, ``"B"``, ``"tie"`` or
    None for unparseable).

    Order A-first of pair ``k`` runs with seed ``seed + k`` and order B-first with ``seed + len(pairs) + k``.
    ``inconsistent="tie"`` resolves a pair whose two verdicts disagree as a tie (ties count half in the
    rankings), ``"drop"`` leaves its outcome None. ``allow_ties`` lets the judge answer "tie" as well.
    A pair with one unparseable reply is ``unparseable`` (half a verdict says nothing about position bias).
    """
    if inconsistent not in INCONSISTENT:
        raise ValueError(f"inconsistent must be 'tie' or 'drop'; got {inconsistent!r}")
    check_frame(
        pairs,
        "pairs",
        columns={"question_col": question_col, "a_col": a_col, "b_col": b_col},
        texts=(a_col, b_col),
        blank=False,
        hint="build it with synthlab.evaluation.pairwise.round_robin or a gold-pair builder",
    )
    choices = CHOICES + ("tie",) if allow_ties else CHOICES
    listed = " or ".join(choices)
    orders = [(a_col, b_col), (b_col, a_col)]
    prompts = [
        PAIRWISE_PROMPT.invoke(
            {"question": row[question_col], "first": row[first], "second": row[second], "choices": listed}
        )
        for first, second in orders
        for _, row in pairs.iterrows()
    ]
    try:
        replies = generate(
            constrain(model, choice_schema(choices)),
            prompts,
            seed=seed,
            parse=verdict_parser(choices),
            method="judge:pairwise",
            progress=progress,
        )
    except GenerationError as failed:  # every reply unparseable: still a result, recorded row by row
        if failed.records is None:
            raise
        replies = failed.records
    picks = replies["verdict"].tolist() if "verdict" in replies else [None] * len(prompts)
    picks = [None if pd.isna(pick) else pick for pick in picks]
    n = len(pairs)
    judged = pairs.copy()
    judged["verdict_ab"] = pd.Series(picks[:n], index=pairs.index, dtype=object)
    judged["verdict_ba"] = pd.Series([SWAPPED.get(pick) for pick in picks[n:]], index=pairs.index, dtype=object)
    judged["reply_ab"] = replies["raw"].tolist()[:n]
    judged["reply_ba"] = replies["raw"].tolist()[n:]
    judged["error_ab"] = replies["error"].tolist()[:n]
    judged["error_ba"] = replies["error"].tolist()[n:]
    judged["status"] = [_status(ab, ba) for ab, ba in zip(judged["verdict_ab"], judged["verdict_ba"])]
    tie = "tie" if inconsistent == "tie" else None
    judged["outcome"] = pd.Series(
        [
            ab if status == "consistent" else tie if status == "inconsistent" else None
            for ab, status in zip(judged["verdict_ab"], judged["status"])
        ],
        index=pairs.index,
        dtype=object,
    )
    return judged


def _status(ab: str | None, ba: str | None) -> str:
    if ab is None or ba is None:
        return "unparseable"
    return "consistent" if ab == ba else "inconsistent"


def judge_pair(
    model: BaseChatModel, question: str, output_a: str, output_b: str, *, seed: int = 0, **options: Any
) -> dict[str, Any]:
    """One pair judged in both orders (see :func:`judge_pairs`); returns its verdicts, status and outcome."""
    frame = pd.DataFrame([{"question": question, "output_a": output_a, "output_b": output_b}])
    row = judge_pairs(model, frame, seed=seed, progress=False, **options).iloc[0]
    return {key: row[key] for key in ("verdict_ab", "verdict_ba", "status", "outcome")}


def position_bias(judged: pd.DataFrame) -> dict[str, Any]:
    """How much the verdicts of :func:`judge_pairs` depend on the order the outputs were shown in:
    the share of unparseable replies and pairs, the share of answered pairs whose two verdicts disagree
    (``inconsistent_rate``, the position-bias rate), and the share of answered non-tie replies that picked
    the slot shown first (``first_slot_share``: 0.5 is unbiased, 1.0 always picks the first text)."""
    check_column(judged, "status", "status column", frame_name="judged (run judge_pairs first)")
    answered = judged[judged["status"] != "unparseable"]
    first = pd.concat(
        [judged["verdict_ab"].map({"A": True, "B": False}), judged["verdict_ba"].map({"B": True, "A": False})]
    ).dropna()
    replies = 2 * len(judged)
    unparseable = int(judged["verdict_ab"].isna().sum() + judged["verdict_ba"].isna().sum())
    share = float(first.mean()) if len(first) else float("nan")
    return {
        "pairs": len(judged),
        "unparseable_reply_rate": unparseable / replies if replies else float("nan"),
        "unparseable_pair_rate": 1 - len(answered) / len(judged) if len(judged) else float("nan"),
        "answered_pairs": len(answered),
        "inconsistent_rate": float((answered["status"] == "inconsistent").mean()) if len(answered) else float("nan"),
        "first_slot_share": share,
        "favoured_slot": "none" if math.isnan(share) or share == 0.5 else "first" if share > 0.5 else "second",
    }


def gold_agreement(judged: pd.DataFrame, *, gold_col: str = "gold", confidence: float = 0.95) -> dict[str, Any]:
    """The judge against gold (``gold_col`` holds ``"A"`` or ``"B"``): pair-level accuracy over the answered
    pairs with a Wilson interval (ties, i.e. inconsistent pairs, count half: a judge that always picks
    one slot scores 0.5; this equals the share of single replies that are right), and Cohen's kappa
    of the outcomes with gold (0 is chance level)."""
    check_column(judged, gold_col, "gold_col", frame_name="judged")
    answered = judged[judged["outcome"].notna()]
    if answered.empty:
        raise ValueError(
            "no pair has an outcome (every reply was unparseable or dropped); "
            "look at reply_ab / reply_ba, or judge with allow_ties / inconsistent='tie'"
        )
    scored = [
        "tie" if outcome == "tie" else "A" if outcome == gold else "B"
        for outcome, gold in zip(answered["outcome"], answered[gold_col])
    ]
    accuracy = win_rate(scored, confidence=confidence)
    return {
        "answered_pairs": len(answered),
        "accuracy": accuracy.rate,
        "low": accuracy.low,
        "high": accuracy.high,
        "correct": accuracy.wins,
        "wrong": accuracy.losses,
        "ties": accuracy.ties,
        "kappa": cohen_kappa(list(answered["outcome"]), list(answered[gold_col]), labels=["A", "B", "tie"]),
    }


def _slotted(rows: list[dict[str, Any]], seed: int) -> pd.DataFrame:
    """Put the gold-preferred text in slot A or B at random (seeded), so gold is balanced over slots."""
    rng = random.Random(seed)
    for row in rows:
        if rng.random() < 0.5:
            row.update(
                system_a=row["system_b"],
                system_b=row["system_a"],
                output_a=row["output_b"],
                output_b=row["output_a"],
                gold="B",
            )
    return pd.DataFrame(rows)


def _sample_texts(texts: Sequence[str], n: int, rng: random.Random, what: str) -> list[str]:
    usable = [text for text in texts if isinstance(text, str) and len(text.split()) >= 4]
    if len(usable) < n:
        raise ValueError(f"{what}: need {n} texts of 4 or more words, have {len(usable)}; lower n")
    return rng.sample(usable, n)


def shuffled_pairs(texts: Sequence[str], n: int, *, seed: int = 0, question: str = COHERENCE_QUESTION) -> pd.DataFrame:
    """``n`` gold pairs for coherence: a real text against the same words in a random order (gold
    prefers the real one; the classic coherence probe of Barzilay & Lapata, 2008, at word level)."""
    rng = random.Random(seed)
    rows = []
    for text in _sample_texts(texts, n, rng, "shuffled_pairs"):
        words = text.split()
        shuffled = words[:]
        while shuffled == words:
            rng.shuffle(shuffled)
        rows.append(
            {
                "question": question,
                "system_a": "real",
                "system_b": "shuffled",
                "output_a": text,
                "output_b": " ".join(shuffled),
                "gold": "A",
            }
        )
    return _slotted(rows, seed)


def sentiment_pairs(
    frame: pd.DataFrame,
    n: int,
    *,
    text_col: str = "text",
    label_col: str = "label",
    positive: str = "positive",
    negative: str = "negative",
    seed: int = 0,
    question: str = SENTIMENT_QUESTION,
) -> pd.DataFrame:
    """``n`` gold pairs for sentiment: a real ``positive`` text against a real ``negative`` one, asking
    which is more positive (gold prefers the positive one)."""
    check_frame(frame, "frame", text_col=text_col, columns={"label_col": label_col})
    rng = random.Random(seed)
    chosen = {
        label: _sample_texts(
            frame.loc[frame[label_col] == label, text_col].tolist(),
            n,
            rng,
            f"sentiment_pairs ({label_col} == {label!r})",
        )
        for label in (positive, negative)
    }
    rows = [
        {
            "question": question,
            "system_a": positive,
            "system_b": negative,
            "output_a": good,
            "output_b": bad,
            "gold": "A",
        }
        for good, bad in zip(chosen[positive], chosen[negative])
    ]
    return _slotted(rows, seed)


def round_robin(outputs: Mapping[str, Sequence[str | None]], questions: str | Sequence[str]) -> pd.DataFrame:
    """Every two systems' outputs for the same item as a pair: ``outputs`` maps a system name to its
    outputs, aligned by item (output ``i`` of every system answers item ``i``); ``questions`` is one
    question for all items or one per item. Which system sits in slot A alternates over items. Pairs
    with a missing or empty output (a failed generation) are skipped with a warning that counts them."""
    if len(outputs) < 2:
        raise ValueError(f"a tournament needs at least two systems; got {list(outputs)}")
    sizes = {name: len(texts) for name, texts in outputs.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every system needs one output per item, aligned by item; got sizes {sizes}")
    n_items = next(iter(sizes.values()))
    asked = [questions] * n_items if isinstance(questions, str) else list(questions)
    if len(asked) != n_items:
        raise ValueError(f"questions has {len(asked)} entries for {n_items} items; give one or one per item")
    rows, skipped = [], 0
    for item in range(n_items):
        for number, (first, second) in enumerate(itertools.combinations(outputs, 2)):
            if (item + number) % 2:
                first, second = second, first
            texts = outputs[first][item], outputs[second][item]
            if not all(isinstance(text, str) and text.strip() for text in texts):
                skipped += 1
                continue
            rows.append(
                {
                    "item": item,
                    "question": asked[item],
                    "system_a": first,
                    "system_b": second,
                    "output_a": texts[0],
                    "output_b": texts[1],
                }
            )
    if skipped:
        warnings.warn(
            f"round_robin skipped {skipped} pair(s) with a missing or empty output (failed generations)",
            UserWarning,
            stacklevel=2,
        )
    if not rows:
        raise ValueError("round_robin has no pair left: every pair had a missing output")
    return pd.DataFrame(rows)
