"""LangChain's standard tests for chat models, run on ChatLocalLlama: the unit tests, and the
integration tests against the real embedded model."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from synthlab.llm.local import ChatLocalLlama


class _LocalModelCapabilities:
    """What ChatLocalLlama supports, and why each capability it lacks is skipped."""

    @property
    def chat_model_class(self) -> type[ChatLocalLlama]:
        return ChatLocalLlama

    @property
    def chat_model_params(self) -> dict:
        # No cache in the standard tests: they check what the model itself does.
        return {"temperature": 0.7, "seed": 0, "cache": False}

    @property
    def has_tool_calling(self) -> bool:
        # SmolLM2-135M's chat template has no tool-calling format and the model was not
        # trained for it; structured output covers schema-shaped answers instead.
        return False

    @property
    def has_structured_output(self) -> bool:
        # with_structured_output is enforced by llama.cpp's JSON-schema grammar.
        return True

    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "json_schema"}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        # A text-only model: no image, audio, video or PDF inputs (the defaults say the same).
        return False


class TestChatLocalLlamaUnit(_LocalModelCapabilities, ChatModelUnitTests):
    pass


@pytest.mark.integration
class TestChatLocalLlamaIntegration(_LocalModelCapabilities, ChatModelIntegrationTests):
    pass
