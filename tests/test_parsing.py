from __future__ import annotations

import pandas as pd
import pytest

from synthlab.core.parsing import (
    clean_text,
    parse_json,
    parse_list,
    parse_title,
    reparse,
    strip_chatter,
)
from synthlab.llm.generate import generate
from tests.fake_models import EchoSeedModel


@pytest.mark.parametrize(
    "output, expected",
    [
        ('Sure! Here is a review:\n"A warm, funny film."', "A warm, funny film."),
        (
            'I\'m happy to provide a review! Here it is:\n\n"Dull and slow." I hope this helps.',
            "Dull and slow.",
        ),
        (
            "Certainly. Movie Review: The plot drags but the cast shines.",
            "The plot drags but the cast shines.",
        ),
        ('{"review": "A tender, well-acted drama."}', "A tender, well-acted drama."),
        (
            'Here\'s a negative review: "The jokes fall flat and the ending is a mess." Let me know if you want more.',
            "The jokes fall flat and the ending is a mess.",
        ),
        ("The acting is wooden.\n\nI hope you enjoyed this review!", "The acting is wooden."),
        ("A plain review with no chatter at all.", "A plain review with no chatter at all."),
        ("\u201cQuoted.\u201d", "Quoted."),
        # content that merely looks like chatter or contains a quote is kept whole
        ("Great acting and a sharp script.", "Great acting and a sharp script."),
        (
            "I'm happy to report that the film was a great choice for my family!",
            "I'm happy to report that the film was a great choice for my family!",
        ),
        (
            'The movie is not bad. "The Nightmare has a decent visual style, but it is hard to watch and far too '
            'long."',
            'The movie is not bad. "The Nightmare has a decent visual style, but it is hard to watch and far too '
            'long."',
        ),
    ],
)
def test_clean_text_keeps_only_the_text(output, expected):
    assert clean_text(output) == expected
    assert strip_chatter(output) == {"text": expected}


@pytest.mark.parametrize("output", ["", "   ", "Sure!", '""', "Sure! Here is a review:\n\n", "{}"])
def test_nothing_usable_is_a_value_error(output):
    with pytest.raises(ValueError, match="nothing usable|expected a string"):
        clean_text(output)


def test_parse_list_survives_small_model_lists():
    answer = (
        "Sure! Here is a list of 10 different movie genres:\n\n1. Action - War, Battle, Action\n"
        "2. Adventure - Adventure, Adventure\n3. **Drama**\n4. comedy\n5. Comedy (funny films)\n"
        "6. A very long explanation that is surely not a genre at all"
    )
    assert parse_list(answer) == ["Action", "Adventure", "Drama", "comedy"]
    assert parse_list("Genres: horror, romance and thriller.") == ["horror", "romance", "thriller"]
    assert parse_list("- sarcastic\n* poetic\n\u2022 blunt", max_items=2) == ["sarcastic", "poetic"]
    assert parse_list("I cannot help with that.") == []


def test_parse_title():
    assert parse_title('Title: "Echoes of Faith"\nA film about...') == {"text": "Echoes of Faith"}
    with pytest.raises(ValueError, match="not a title"):
        parse_title("This film is a long sentence that goes on and on about everything it has in its plot")


def test_generate_records_parse_failures_on_the_row():
    prompts = ["Sure!", "Write a good review."]

    class Fixed(EchoSeedModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            result = super()._generate(messages, stop, run_manager, **kwargs)
            result.generations[0].message.content = str(messages[-1].content)
            return result

    records = generate(Fixed(), prompts, parse=strip_chatter, progress=False)
    assert records["error"].iloc[0].startswith("ValueError: nothing usable")
    assert records["text"].iloc[1] == "Write a good review."


def test_reparse_applies_a_new_parser_to_raw():
    frame = pd.DataFrame(
        {
            "text": ["x", "y", None],
            "raw": ['Sure! "A fine film."', "Sure!", None],
            "error": [None, None, "RuntimeError: down"],
        }
    )
    out = reparse(frame, strip_chatter)
    assert out["text"].iloc[0] == "A fine film." and pd.isna(out["error"].iloc[0])
    assert pd.isna(out["text"].iloc[1]) and out["error"].iloc[1].startswith("ValueError")
    assert out["error"].iloc[2] == "RuntimeError: down"
    with pytest.raises(KeyError, match="raw"):
        reparse(frame.drop(columns="raw"))


def test_json_replies_become_row_fields():
    assert parse_json('{"review": "Warm.", "sentiment": "positive"}', text_key="review") == {
        "text": "Warm.",
        "sentiment": "positive",
    }
    for bad in ['{"review": "cut sho', "[1, 2]", '{"sentiment": "positive"}', '{"review": "  "}']:
        with pytest.raises(ValueError, match="JSON|no non-empty"):
            parse_json(bad, text_key="review")
