"""Chat models and calls: ``get_chat_model`` (the embedded model, OpenAI-compatible servers, Ollama) behind
LangChain's ``BaseChatModel``, the local llama.cpp backend with continuous batching, the call cache, batch
generation with seeds, retries and checkpoints, and the loopback server. Imports only :mod:`synthlab.core`.
"""
