from __future__ import annotations

import pytest

from synthlab.generation.tasks import ATTRIBUTES, generate_reviews, review_prompts
from tests.fake_models import EchoSeedModel


def test_prompts_are_balanced_and_attributes_are_seeded():
    prompts, labels, conditions = review_prompts(6)
    assert labels.count("positive") == labels.count("negative") == 3
    assert conditions[1] == {"label": "negative"}
    _, _, first = review_prompts(8, attributes=True, seed=1)
    _, _, again = review_prompts(8, attributes=True, seed=1)
    assert first == again and all(c["genre"] in ATTRIBUTES["genre"] for c in first)
    assert len({c["aspect"] for c in first}) > 1
    with pytest.raises(ValueError, match="n must be >= 1"):
        review_prompts(0)


def test_records_carry_the_conditions():
    records = generate_reviews(EchoSeedModel(), 4, attributes=True, progress=False)
    assert records["method"].eq("reviews:attributes").all()
    assert records["params"].iloc[0]["genre"] in ATTRIBUTES["genre"]
    assert "movie" in records["prompt"].iloc[0]
