"""Recorded runs: the model calls of one notebook (or of the demo), stored in the repository, so that replaying
them gives the notebook's own numbers on any machine.

llama.cpp's arithmetic differs between CPUs (AVX2, AVX-512, ARM), so one seed samples different text on
another machine; the cache key does not (model file name and size, messages, parameters, seed). A recording is
the cache entries one run used, one gzipped JSON Lines file per run under ``notebooks/recordings/`` (a header
line saying when, with which llama-cpp-python, model file and CPU it was made, then one entry per call, sorted
by key, so a re-recording rewrites one file and its diff is readable with ``zcat``). The mode comes from
``$SYNTHLAB_REPLAY``:

- ``replay`` (default): recorded calls come from the recording; a call it lacks goes to the model (through the
  usual cache), and the first such call warns, naming the recording;
- ``strict`` (CI): a call the recording lacks raises :class:`RecordingMissing`, naming the run and the prompt, so
  a stale recording fails the moment a prompt changes;
- ``off``: no recording, the usual cache (a cold run when the cache is empty);
- ``record``: every call goes to the model and is written down (``python -m synthlab record``).

Only cached calls are recorded: a model made with ``seed=None`` or ``cache=False`` always calls the model.

>>> use_recording("00_quickstart")                                         # doctest: +SKIP
>>> get_chat_model("local").invoke("Hi").content   # from notebooks/recordings/00_quickstart.jsonl.gz  # doctest: +SKIP
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import platform
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core._api.beta_decorator import LangChainBetaWarning
from langchain_core.caches import BaseCache
from langchain_core.load import dumps, loads
from langchain_core.outputs import Generation

from synthlab.llm.cache import CacheStats, SQLiteCache, cache_key, get_cache

__all__ = [
    "AUDIT_ENV_VAR",
    "DIR_ENV_VAR",
    "MODE_ENV_VAR",
    "MODES",
    "NAME_ENV_VAR",
    "RecordedCache",
    "RecordingMissing",
    "active_recording",
    "call_parameters",
    "compact_recording",
    "iter_calls",
    "read_recording",
    "recorded_cache",
    "recording_mode",
    "recording_path",
    "recording_summary",
    "recordings_dir",
    "use_recording",
]

MODE_ENV_VAR = "SYNTHLAB_REPLAY"
NAME_ENV_VAR = "SYNTHLAB_RECORDING"
DIR_ENV_VAR = "SYNTHLAB_RECORDINGS"
AUDIT_ENV_VAR = "SYNTHLAB_RECORDING_AUDIT"  # a folder: replayed keys are listed in <name>.used (dead-weight check)
MODES = ("replay", "strict", "off", "record")


class RecordingMissing(LookupError):
    """Strict replay met a model call that the run's recording does not hold."""


def recording_mode() -> str:
    """The mode in ``$SYNTHLAB_REPLAY`` (``replay`` when unset); an unknown value raises ``ValueError``."""
    mode = os.environ.get(MODE_ENV_VAR, "replay").strip().lower() or "replay"
    if mode not in MODES:
        raise ValueError(f"{MODE_ENV_VAR}={mode!r} is not a mode; use one of {', '.join(MODES)}")
    return mode


def recordings_dir() -> Path:
    """Where recordings live: ``$SYNTHLAB_RECORDINGS`` or the repository's ``notebooks/recordings``."""
    configured = os.environ.get(DIR_ENV_VAR)
    return (
        Path(configured).expanduser()
        if configured
        else Path(__file__).resolve().parents[2] / "notebooks" / "recordings"
    )


def recording_path(name: str) -> Path:
    """The file of the recording ``name`` (a notebook's file name without ``.ipynb``, or ``demo``)."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(
            f"a recording name is a notebook's file name without .ipynb, such as '00_quickstart'; got {name!r}"
        )
    return recordings_dir() / f"{name}.jsonl.gz"


def _partial_path(name: str) -> Path:
    return recordings_dir() / f"{name}.partial.jsonl"


def use_recording(name: str | None) -> None:
    """Make ``name`` the recording of this process (and of the processes it starts, such as Ray workers): the chat
    models made afterwards with the shared cache replay, check or record its calls, as ``$SYNTHLAB_REPLAY`` says.
    ``None`` stops using one."""
    if name is None:
        os.environ.pop(NAME_ENV_VAR, None)
        return
    recording_path(name)  # checks the name
    os.environ[NAME_ENV_VAR] = name


def active_recording() -> str | None:
    """The recording this process uses (see :func:`use_recording`), or None."""
    return os.environ.get(NAME_ENV_VAR) or None


def _loads(value: str) -> Sequence[Generation]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LangChainBetaWarning)  # we only read back what dumps() wrote
        return loads(value, allowed_objects="core")


def read_recording(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """A recording's header and its entries by key (each with ``prompt``, ``llm_string`` and ``value``)."""
    with gzip.open(path, "rt", encoding="utf-8") as file:
        lines = file.read().splitlines()
    if not lines or not lines[0].startswith('{"synthlab_recording"'):
        raise ValueError(
            f"{path} is not a synthlab recording (no header line); re-make it with python -m synthlab record"
        )
    header = json.loads(lines[0])
    entries = {}
    for entry in map(json.loads, lines[1:]):
        entries[entry["key"]] = entry
    return header, entries


def llama_kernels() -> list[str]:
    """The CPU kernels this llama.cpp build uses (``AVX2``, ``AVX512``, ``NEON``, ...): they decide the sampled
    text, so two builds with the same kernels sample the same text for the same call (an AVX-512 and an AVX2 build
    do not)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode().replace("CPU :", "|")
    flags = [part.split("=") for part in info.split("|") if part.count("=") == 1]
    return [name.strip() for name, on in flags if on.strip() == "1" and name.strip().isupper()]


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import llama_cpp

    return {
        "cpu": cpu,
        "machine": platform.machine(),
        "llama_cpp_python": llama_cpp.__version__,
        "kernels": llama_kernels(),
    }


def compact_recording(name: str, *, seconds: float | None = None) -> Path:
    """Turn the entries that ``record`` mode appended for ``name`` into its recording file (sorted by key, one
    header line), replacing the old one, and remove the appended file. Returns the recording's path."""
    partial = _partial_path(name)
    entries: dict[str, dict[str, str]] = {}
    if partial.exists():
        for line in partial.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by a killed process: that call is simply not recorded
            entries[entry["key"]] = entry
    models = sorted({str(call_parameters(entry["llm_string"]).get("model")) for entry in entries.values()})
    header = {
        "synthlab_recording": 1,
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **_machine(),
        "model_files": models,
        "calls": len(entries),
        "seconds": None if seconds is None else round(seconds, 1),
    }
    path = recording_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as file:
        file.write((json.dumps(header) + "\n").encode())
        for key in sorted(entries):
            file.write((json.dumps(entries[key], sort_keys=True) + "\n").encode())
    temporary.replace(path)
    partial.unlink(missing_ok=True)
    return path


def call_parameters(llm_string: str) -> dict[str, Any]:
    """The parameters in a cache entry's llm string (the embedded model's: ``model``, ``seed``, ``temperature``,
    ...; empty for an llm string of another form)."""
    try:
        return dict(ast.literal_eval(llm_string.split("---")[0]))
    except (ValueError, SyntaxError, TypeError):
        return {}


@dataclass
class _Counts:
    replayed: int = 0
    missing: int = 0
    recorded: int = 0


class RecordedCache(BaseCache):
    """The shared cache seen through one recording, in one of :data:`MODES` (see the module docstring). Its
    ``stats`` count hits (replayed or cached) and misses (model calls) like :class:`SQLiteCache`'s."""

    def __init__(self, name: str, mode: str, inner: SQLiteCache) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
        self.name, self.mode, self.inner = name, mode, inner
        self.path = recording_path(name)
        self.entries: dict[str, dict[str, str]] = {}
        if mode in ("replay", "strict"):
            if self.path.exists():
                _, self.entries = read_recording(self.path)
            elif mode == "strict":
                raise RecordingMissing(
                    f"strict replay: there is no recording {self.path}; make it with python -m synthlab record {name}"
                )
        self.counts = _Counts()
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._used: set[str] = set()
        self._made: dict[str, str] = {}  # record mode: the calls made so far in this process

    def lookup(self, prompt: str, llm_string: str) -> Sequence[Generation] | None:
        key = cache_key(prompt, llm_string)
        entry = self.entries.get(key)
        if entry is not None:
            with self._lock:
                self.counts.replayed += 1
                self.stats.hits += 1
                if key not in self._used:
                    self._used.add(key)
                    self._audit(key)
            return _loads(entry["value"])
        if self.mode == "strict":
            raise RecordingMissing(
                f"strict replay: the recording {self.path.name} has no call for this prompt and these parameters; "
                f"re-record it (python -m synthlab record {self.name}) or run with {MODE_ENV_VAR}=replay. "
                f"Prompt: {_excerpt(prompt)}; parameters: {llm_string[:200]}"
            )
        if self.mode == "record":
            with self._lock:
                made = self._made.get(key)
                if made is None:
                    self.stats.misses += 1
                    return None  # cold: every call of a recording is made by the model, once
                self.stats.hits += 1
            return _loads(made)
        found = self.inner.lookup(prompt, llm_string)
        with self._lock:
            if self.mode == "replay":
                self.counts.missing += 1
                first = self.counts.missing == 1
            if found is None:
                self.stats.misses += 1
            else:
                self.stats.hits += 1
        if self.mode == "replay" and first and self.path.exists():
            warnings.warn(
                f"the recording {self.path.name} has no entry for a model call; calls it lacks go to the model, "
                f"so this run's numbers may differ from the notebook's text (re-record with python -m synthlab "
                f"record {self.name})",
                UserWarning,
                stacklevel=2,
            )
        return found

    def update(self, prompt: str, llm_string: str, return_val: Sequence[Generation]) -> None:
        self.inner.update(prompt, llm_string, return_val)
        if self.mode != "record":
            return
        key = cache_key(prompt, llm_string)
        value = dumps(list(return_val))
        with self._lock:
            if key in self._made:
                return
            self._made[key] = value
            self.counts.recorded += 1
            line = json.dumps({"key": key, "prompt": prompt, "llm_string": llm_string, "value": value})
            partial = _partial_path(self.name)
            partial.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "a", encoding="utf-8") as file:  # one write per line: safe across processes
                file.write(line + "\n")

    def _audit(self, key: str) -> None:
        folder = os.environ.get(AUDIT_ENV_VAR)
        if folder:
            with open(Path(folder) / f"{self.name}.used", "a", encoding="utf-8") as file:
                file.write(key + "\n")

    def clear(self, **kwargs: Any) -> None:
        self.inner.clear(**kwargs)

    def reset_stats(self) -> None:
        """Start counting hits and misses from zero."""
        self.stats = CacheStats()


def _excerpt(prompt: str) -> str:
    try:
        messages = _loads(prompt)
        text = " | ".join(str(getattr(message, "content", message)) for message in messages)
    except Exception:  # noqa: BLE001 - an excerpt of the raw prompt will do
        text = prompt
    return repr(text[:160] + ("..." if len(text) > 160 else ""))


_recorded_caches: dict[tuple[str, str], RecordedCache] = {}
_recorded_lock = threading.Lock()


def recorded_cache(name: str, mode: str | None = None) -> BaseCache:
    """The shared cache seen through recording ``name`` (one object per name and mode in a process); the plain
    shared cache when the mode is ``off``."""
    mode = mode or recording_mode()
    if mode == "off":
        return get_cache()
    with _recorded_lock:
        if (name, mode) not in _recorded_caches:
            _recorded_caches[(name, mode)] = RecordedCache(name, mode, get_cache())
        return _recorded_caches[(name, mode)]


def recording_summary(name: str) -> str:
    """One line for a notebook's setup cell: the mode, the recording and how many calls it holds."""
    cache = recorded_cache(name)
    if not isinstance(cache, RecordedCache):
        return f"model calls: {MODE_ENV_VAR}=off, recording {name} not used (the model, through the cache)"
    if cache.mode == "record":
        return f"model calls: recording into {cache.path.name} (every call runs on the model)"
    held = f"{len(cache.entries)} calls" if cache.entries else "none made yet: calls go to the model"
    how = "replay" if cache.mode == "replay" else f"{cache.mode} replay"
    return f"model calls: {how} of {cache.path.name} ({held})"


def iter_calls(path: str | os.PathLike[str]) -> Iterator[tuple[list[Any], dict[str, Any], str]]:
    """The calls of a recording as ``(messages, parameters, text)``: what a test needs to make them again."""
    _, entries = read_recording(path)
    for entry in entries.values():
        yield list(_loads(entry["prompt"])), call_parameters(entry["llm_string"]), _loads(entry["value"])[0].text
