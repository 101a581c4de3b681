"""``vlm-server``: perception through any OpenAI-compatible chat-completions endpoint with image input.

Many users serve a vision-language model with vLLM, SGLang, llama.cpp, Ollama or a hosted API and never load
weights in-process. This perceiver sends each frame as a base64 PNG data URL in one user turn (the image, then
the model family's prompt) to ``{base_url}/chat/completions`` and reads the answer with the family's parser
and coordinate transform (:mod:`~perception.vlm.families`); lifting, duplicate removal and camera fusion are
the ``vlm`` perceiver's.

- ``base_url``: the API root, e.g. ``http://localhost:8000/v1``; ``model``: the served model's name.
- ``family``: the answer format; default: guessed from the model name (:func:`family_from_name`), else the
  ``generic`` JSON prompt.
- API key: environment variable ``GROUNDSIGHT_VLM_API_KEY``, else ``OPENAI_API_KEY``; none: no header.
- ``timeout`` seconds per request; ``retries`` more tries after a connection error, a timeout, HTTP 429 or a
  5xx answer (backing off 0.5 s, 1 s, 2 s ...). Other HTTP errors fail at once.

A server that cannot be reached (or keeps failing) raises :class:`PerceptionError` with one line naming the
URL and the cause; an answer that does not parse is recorded in ``last_errors`` like the ``vlm`` perceiver's.
For families whose coordinates are special tokens (Qwen2-VL, PaliGemma, Florence-2) the request asks the
server to keep them (``skip_special_tokens: false``, a vLLM extension other servers ignore).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from groundsight.perception.frame import Frame
from groundsight.perception.perceivers.base import PerceptionError
from groundsight.perception.vlm.families import family_for, family_from_name
from groundsight.perception.vlm.perceiver import VLMConfig, VLMPerceiver

log = logging.getLogger(__name__)

API_KEY_ENV = ("GROUNDSIGHT_VLM_API_KEY", "OPENAI_API_KEY")
"""Environment variables read for the API key, first found wins."""
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ServerConfig(BaseModel):
    """Where and how :class:`VLMServerPerceiver` asks."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    model: str
    family: str | None = None
    timeout: float = Field(60.0, gt=0)
    retries: int = Field(2, ge=0)
    max_tokens: int = Field(512, ge=1)


def api_key() -> str | None:
    """The API key from the environment (:data:`API_KEY_ENV`), or None."""
    for name in API_KEY_ENV:
        if os.environ.get(name):
            return os.environ[name]
    return None


def data_url(rgb: np.ndarray) -> str:
    """An RGB image as a ``data:image/png;base64,...`` URL."""
    import cv2

    ok, png = cv2.imencode(".png", np.ascontiguousarray(rgb[..., :3][..., ::-1]))
    if not ok:
        raise PerceptionError("vlm-server: cannot encode the frame as PNG")
    return "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")


def _content(reply: Any) -> str:
    """The text of a chat-completions reply (a string, or a list of text parts)."""
    content = reply["choices"][0]["message"]["content"]
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


class VLMServerPerceiver(VLMPerceiver):
    """The ``vlm`` perceiver with generation delegated to an OpenAI-compatible server; see the module's docs.

    Args:
        base_url: the API root (``http://host:port/v1``).
        model: the served model's name.
        family: the answer format (a family name or model type); None: from the model name.
        timeout: seconds per request.
        retries: further tries after a transient failure.
        config: the ``vlm`` perceiver's lifting and fusion options (its ``model``/``family`` are replaced).

    Raises:
        PerceptionError: bad options (an unknown family, an empty URL or model name), or, in ``perceive``, a
            server that cannot be reached.
    """

    name = "vlm-server"

    def __init__(
        self,
        base_url: str,
        model: str,
        family: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        config: VLMConfig | None = None,
    ) -> None:
        if not base_url or not model:
            raise PerceptionError("vlm-server: needs a base URL (--vlm-base-url) and a model name (--vlm-model)")
        chosen = family or family_from_name(model)
        self.server = ServerConfig(base_url=base_url.rstrip("/"), model=model, family=chosen, timeout=timeout,
                                   retries=retries)  # fmt: skip
        self.config = (config or VLMConfig()).model_copy(update={"model": model, "family": chosen})
        try:
            self.family = family_for(None, chosen)
        except ValueError as exc:
            raise PerceptionError(f"vlm-server: {exc}") from None
        self.last_errors: list[str] = []
        self.last_answers: list[str] = []
        self.requests = 0
        """Requests sent so far (retries included)."""

    def _body(self, frame: Frame) -> bytes:
        k = frame.intrinsics
        text = self.family.prompt(k.width, k.height, self.config.prompt)
        body: dict[str, Any] = {
            "model": self.server.model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": data_url(frame.rgb)}},
                        {"type": "text", "text": text},
                    ],
                }
            ],
            "max_tokens": self.server.max_tokens,
            "temperature": 0,
        }
        if self.family.keep_special_tokens:
            body["skip_special_tokens"] = False
        return json.dumps(body).encode()

    def _post(self, body: bytes) -> str:
        """One request with retries; the answer's text. Raises PerceptionError (one line) when it gives up."""
        url = f"{self.server.base_url}/chat/completions"
        headers = {"Content-Type": "application/json"}
        if key := api_key():
            headers["Authorization"] = f"Bearer {key}"
        why = "no try"
        for attempt in range(self.server.retries + 1):
            if attempt:
                time.sleep(0.5 * 2 ** (attempt - 1))
            self.requests += 1
            try:
                request = urllib.request.Request(url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=self.server.timeout) as response:  # noqa: S310
                    return _content(json.loads(response.read().decode("utf-8")))
            except urllib.error.HTTPError as exc:
                why = f"HTTP {exc.code} {exc.reason}"
                if exc.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                why = f"unreachable ({reason})" if not isinstance(reason, TimeoutError) else "timed out"
                if "timed out" in str(reason):
                    why = f"timed out after {self.server.timeout:g} s"
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                why = f"not a chat-completions answer ({type(exc).__name__}: {str(exc)[:60]})"
                break
        tries = attempt + 1
        raise PerceptionError(f"vlm-server: {url}: {why} after {tries} tr{'y' if tries == 1 else 'ies'}")

    def generate(self, frames: Sequence[Frame]) -> list[str]:
        """The server's answer for each frame (one request per frame)."""
        return [self._post(self._body(frame)) for frame in frames]
