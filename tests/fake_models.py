"""A small fake chat model for fast unit tests (never used by notebooks or the demo)."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class EchoSeedModel(BaseChatModel):
    """Answers ``"<last message> #<seed>"``; raises when the last message contains ``FAIL``."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "echo-seed"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.calls += 1
        text = str(messages[-1].content)
        if "FAIL" in text:
            raise RuntimeError(f"model failed on {text!r}")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=f"{text} #{kwargs.get('seed')}"))])


class SleepyEchoModel(EchoSeedModel):
    """:class:`EchoSeedModel` that sleeps ``delay`` seconds in every call, so that a kill lands mid-run."""

    delay: float = 0.02

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        time.sleep(self.delay)
        return super()._generate(messages, stop, run_manager, **kwargs)


class ScriptedModel(BaseChatModel):
    """Answers ``answers[key]`` for the first ``key`` found in the last message (else ``default``),
    so the answer does not depend on the order of the calls."""

    answers: dict[str, str]
    default: str = "no idea"

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        text = str(messages[-1].content)
        answer = next((value for key, value in self.answers.items() if key in text), self.default)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])
