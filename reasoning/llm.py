"""The LLM reasoner: a LangChain chat model proposes what an instruction means and which objects it refers to.

Nothing the model claims is acted on before the verifier has checked it. One attempt is:

1. the model answers an :class:`LLMProposal` (a :class:`~reasoning.logical_form.Program`, the objects it
   claims each phrase denotes, and a short rationale) as JSON;
2. :meth:`groundsight.reasoning.reasoner.RulesReasoner.think_program` resolves the program over the percept itself,
   records the model's claims on the bindings, grounds the goal and plans;
3. :meth:`groundsight.reasoning.verifier.Verifier.check` checks everything, including ``claim_matches`` (the model's
   objects are the ones resolution chose).

An invalid answer (broken JSON, a field the schema does not allow, a binding key the program does not have)
or a check that would refuse is fed back to the model as a message, and it tries again, at most
``max_attempts`` times (closed-loop feedback, as in Inner Monologue). A failed check whose outcome is to
*ask* the person ends the loop at once: which object was meant is the person's to settle, never the
model's; so does one whose outcome is to *look again*, which is perception's. After the last attempt the
last thought is returned as it is, and the graph's verify node refuses and names the failed check. Every
attempt is a ``ThoughtStep(kind="llm")`` in the thought, with its failed checks.

Tools: given LangChain tools (``tools``: a list, or a function of the percept and its relations that returns
the tools bound to that scene, as :func:`agent.loop.tools.llm_tools` does) and a chat model that can call tools
(``bind_tools`` does not raise ``NotImplementedError``), each attempt first lets the model call them: every
requested call is run and its result (or its one-line error) goes back as a ``ToolMessage``, at most
``max_tool_rounds`` rounds; the model's first reply without a tool call is its answer, read from the text
(structured output is not combined with tool calling). When the rounds run out the model is told so and asked
for the answer as usual. Every call and its result is a ``ThoughtStep(kind="llm")``.

Chat models: :class:`TransformersChatModel` (any local transformers causal LM, greedy decoding) and
:func:`openai_chat_model` (any OpenAI-compatible server, e.g. vLLM), or any LangChain chat model.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.colors import COLOR_NAMES
from groundsight.perception.objects import Percept
from groundsight.perception.validation import error_line, one_line
from groundsight.reasoning.language import InstructionError
from groundsight.reasoning.logical_form import HandOver, Lift, Program, Put, Shift, Sort, Stack
from groundsight.reasoning.reasoner import Relations, RulesReasoner
from groundsight.reasoning.thought import CheckResult, Thought, ThoughtStep
from groundsight.reasoning.verifier import Verifier

log = logging.getLogger(__name__)

WHO = "llm"
"""How this backend names itself in errors."""

Tools = Sequence[BaseTool] | Callable[[Percept, Relations], Sequence[BaseTool]]
"""Tools offered to the model: fixed, or made for each scene (bound to the percept and relations)."""


def binding_keys(program: Program) -> list[str]:
    """The binding keys :class:`~reasoning.reasoner.RulesReasoner` makes for ``program``, in order."""
    keys: list[str] = []
    for i, cmd in enumerate(program.steps, start=1):
        if isinstance(cmd, Put):
            keys += [f"step{i}.object", f"step{i}.target"]
        elif isinstance(cmd, HandOver | Lift | Shift):
            keys.append(f"step{i}.object")
        elif isinstance(cmd, Stack):
            keys += [f"step{i}.order{j}" for j in range(1, len(cmd.order) + 1)]
        elif isinstance(cmd, Sort):
            keys += [f"step{i}.objects", f"step{i}.containers"]
    return keys


class LLMProposal(BaseModel):
    """What the language model must answer, as one JSON object."""

    model_config = ConfigDict(title="LLMProposal")

    program: Program
    bindings: dict[str, list[str]] = Field(
        description="binding key -> ids of the perceived objects the phrase denotes: 'step1.object', "
        "'step1.target' (put), 'step1.object' (handover, lift, shift), "
        "'step1.order1'..'step1.orderN' (stack, bottom first), "
        "'step1.objects', 'step1.containers' (sort); [] when nothing fits"
    )
    rationale: list[str] = Field(default_factory=list, description="the reasoning, in short sentences")

    @model_validator(mode="after")
    def _keys_match_program(self) -> LLMProposal:
        expected = binding_keys(self.program)
        missing = [k for k in expected if k not in self.bindings]
        unknown = sorted(k for k in self.bindings if k not in expected)
        if missing or unknown:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown {', '.join(unknown)}"] if unknown else []
            )
            raise ValueError(f"bindings: {'; '.join(parts)} (this program's keys: {', '.join(expected)})")
        return self


# ---- prompt --------------------------------------------------------------------------------------------------

EXAMPLE_OBJECTS = (
    "- obj_1: bowl, blue, medium, x=0.60, y=-0.10\n"
    "- obj_2: plate, green, large, x=0.45, y=+0.20\n"
    "- obj_3: block, red, small, x=0.40, y=+0.05"
)
EXAMPLE_INSTRUCTION = "Put the red block in the blue bowl."
EXAMPLE_ANSWER = (
    '{"program": {"steps": [{"kind": "put", "object": {"noun": "block", "color": "red", "text": "the red block"}, '
    '"relation": "inside", "target": {"noun": "bowl", "color": "blue", "text": "the blue bowl"}}]}, '
    '"bindings": {"step1.object": ["obj_3"], "step1.target": ["obj_1"]}, '
    '"rationale": ["The red block is obj_3.", "The blue bowl is obj_1.", "In a bowl means inside it."]}'
)


def _strip_titles(node: Any) -> Any:
    """A JSON schema without its ``title`` keys (the prompt only needs the structure)."""
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def proposal_schema() -> dict[str, Any]:
    """The JSON schema of :class:`LLMProposal`, as sent for structured output."""
    return LLMProposal.model_json_schema()


def system_prompt(nouns: Sequence[str]) -> str:
    """The system message: the task, the answer's compact JSON schema, the binding keys and a worked example."""
    schema = json.dumps(_strip_titles(proposal_schema()), separators=(",", ":"))
    return (
        "You control a robot arm over a table. You are given the objects a camera sees and an instruction. "
        "Answer what the instruction means, as a program of commands, and which seen objects each of its noun "
        "phrases refers to. A verifier checks every claim against the scene before the robot moves.\n"
        "Answer with one JSON object only, no other text, following this JSON schema:\n"
        f"{schema}\n"
        "Binding keys: for command N (from 1) of program.steps, 'stepN.object' and 'stepN.target' (put), "
        "'stepN.object' (handover, lift, shift), 'stepN.order1'..'stepN.orderK' (stack, bottom first), "
        "'stepN.objects' and "
        "'stepN.containers' (sort). Give every key of your program, no other. Each value lists object ids from "
        "the scene: [] if nothing fits the phrase, every object that fits if the instruction does not say which.\n"
        f"Nouns: {', '.join(nouns)}. Colours: {', '.join(COLOR_NAMES)}. "
        "Left is +y, right is -y, in front of is toward the robot (smaller x), behind is larger x.\n"
        f"Example. Objects:\n{EXAMPLE_OBJECTS}\nInstruction: {EXAMPLE_INSTRUCTION}\nAnswer: {EXAMPLE_ANSWER}"
    )


def user_prompt(
    instruction: str, percept: Percept, relations: Relations = (), answers: Mapping[str, list[str]] | None = None
) -> str:
    """The user message: the perceived objects and their on/inside relations, answers given, the instruction."""
    lines = ["Objects (id: type, colour, size, x, y in metres):"]
    lines += [
        f"- {o.id}: {o.type}, {o.color}, {o.size or 'unknown size'}, x={o.position[0]:.2f}, y={o.position[1]:+.2f}"
        for o in percept.objects
    ] or ["- none"]
    rel = [f"{a} {r} {b}" for a, r, b in relations if r in ("on", "inside")]
    lines.append(f"Relations: {'; '.join(rel) if rel else 'none'}")
    for key, ids in sorted((answers or {}).items()):
        lines.append(f"The person said {key} means: {', '.join(ids)}")
    lines.append(f"Instruction: {instruction}")
    return "\n".join(lines)


# ---- parsing -------------------------------------------------------------------------------------------------


def first_json_object(text: str) -> str | None:
    """The first balanced ``{...}`` in ``text`` (braces inside JSON strings do not count), or None."""
    start = text.find("{")
    while start != -1:
        depth, in_string, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return text[start : i + 1]
        return None  # unbalanced from the first brace on: nothing later can close it either
    return None


def parse_proposal(text: str) -> tuple[LLMProposal | None, str | None]:
    """The proposal in a model's text answer (its first balanced JSON object), or None and a one-line error."""
    block = first_json_object(text)
    if block is None:
        return None, "no complete JSON object in the answer" if "{" in text else "no JSON object in the answer"
    try:
        data = json.loads(block)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return validate_proposal(data)


def validate_proposal(data: Any) -> tuple[LLMProposal | None, str | None]:
    """Validate already decoded JSON as a proposal."""
    try:
        return LLMProposal.model_validate(data), None
    except ValidationError as exc:
        return None, error_line(exc)


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)


def _exception_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return one_line(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


# ---- the reasoner --------------------------------------------------------------------------------------------


class _Answer(BaseModel):
    """One model answer: its text (for the conversation) and the proposal in it, or why there is none."""

    text: str
    proposal: LLMProposal | None = None
    error: str | None = None


class LLMReasoner:
    """A chat model proposes the program and the objects it means; the verifier checks; failures are fed back."""

    name = "llm"

    def __init__(
        self,
        kb: KnowledgeBase,
        verifier: Verifier,
        chat_model: BaseChatModel,
        max_attempts: int = 3,
        tools: Tools = (),
        max_tool_rounds: int = 3,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"{WHO}: max_attempts must be at least 1, not {max_attempts}")
        if max_tool_rounds < 1:
            raise ValueError(f"{WHO}: max_tool_rounds must be at least 1, not {max_tool_rounds}")
        self.tools = tools
        self.max_tool_rounds = max_tool_rounds
        self.kb = kb
        self.verifier = verifier
        self.chat_model = chat_model
        self.max_attempts = max_attempts
        self.rules = RulesReasoner(kb)
        self.nouns = sorted(set(kb.type_words().values()) | set(kb.class_words().values()))
        self._structured = self._structured_model(chat_model)
        self.last_messages: list[BaseMessage] = []
        """The conversation of the last :meth:`think` (for traces and tests)."""

    @staticmethod
    def _structured_model(chat_model: BaseChatModel) -> Any:
        """The model with JSON-schema structured output (raw answer kept), or None when it has none."""
        try:
            return chat_model.with_structured_output(proposal_schema(), method="json_schema", include_raw=True)
        except (NotImplementedError, ValueError, TypeError):
            return None

    def messages(
        self,
        instruction: str,
        percept: Percept,
        relations: Relations = (),
        answers: Mapping[str, list[str]] | None = None,
    ) -> list[BaseMessage]:
        """The opening conversation: the system prompt and the scene with the instruction."""
        return [
            SystemMessage(content=system_prompt(self.nouns)),
            HumanMessage(content=user_prompt(instruction, percept, relations, answers)),
        ]

    def _with_tools(self, percept: Percept, relations: Relations) -> tuple[Any, dict[str, BaseTool]] | None:
        """The chat model with this scene's tools bound, and the tools by name; None without tools or support."""
        tools = list(self.tools(percept, relations) if callable(self.tools) else self.tools)
        if not tools:
            return None
        try:
            return self.chat_model.bind_tools(tools), {t.name: t for t in tools}
        except NotImplementedError:
            log.info("llm: %s cannot call tools; they are not offered", type(self.chat_model).__name__)
            return None

    def _tool_rounds(
        self, tooling: tuple[Any, dict[str, BaseTool]], messages: list[BaseMessage], steps: list[ThoughtStep], n: int
    ) -> BaseMessage | None:
        """Let the model call tools, at most ``max_tool_rounds`` rounds; its first reply without a call, or None."""
        model, tools = tooling
        for _ in range(self.max_tool_rounds):
            reply = model.invoke(messages)
            calls = list(getattr(reply, "tool_calls", None) or [])
            invalid = list(getattr(reply, "invalid_tool_calls", None) or [])
            if not calls and not invalid:
                return reply
            messages.append(reply)
            for call in calls:
                args = json.dumps(call["args"], sort_keys=True)
                tool = tools.get(call["name"])
                if tool is None:
                    result = f"error: unknown tool {call['name']!r} (tools: {', '.join(sorted(tools))})"
                else:
                    try:
                        out = tool.invoke(call["args"])
                        result = out if isinstance(out, str) else json.dumps(out, default=str)
                    except Exception as exc:  # noqa: BLE001 - a tool's failure is reported to the model
                        result = f"error: {_exception_line(exc)}"
                messages.append(ToolMessage(content=result, tool_call_id=call["id"] or "", name=call["name"]))
                steps.append(
                    ThoughtStep(kind="llm", text=f"Attempt {n}: tool {call['name']}({args}) -> {one_line(result)}")
                )
            for bad in invalid:
                result = f"error: the call could not be read: {one_line(bad.get('error') or bad.get('args'))}"
                messages.append(
                    ToolMessage(content=result, tool_call_id=bad.get("id") or "", name=bad.get("name") or "")
                )
                steps.append(ThoughtStep(kind="llm", text=f"Attempt {n}: tool {bad.get('name')}: {result}"))
        messages.append(
            HumanMessage(
                content=f"No more tool calls ({self.max_tool_rounds} rounds). Answer with the JSON object only."
            )
        )
        return None

    def _ask(
        self,
        messages: list[BaseMessage],
        tooling: tuple[Any, dict[str, BaseTool]] | None = None,
        steps: list[ThoughtStep] | None = None,
        attempt: int = 1,
    ) -> _Answer:
        """One answer (after tool rounds, given ``tooling``); exceptions propagate to :meth:`think`, which records."""
        if tooling is not None:
            reply = self._tool_rounds(tooling, messages, steps if steps is not None else [], attempt)
            if reply is not None:
                proposal, error = parse_proposal(_text(reply))
                return _Answer(text=_text(reply), proposal=proposal, error=error)
        if self._structured is not None:
            out = self._structured.invoke(messages)
            raw = out.get("raw")
            text = _text(raw) if isinstance(raw, BaseMessage) else ""
            if out.get("parsed") is not None and out.get("parsing_error") is None:
                proposal, error = validate_proposal(out["parsed"])
                if proposal is not None:
                    return _Answer(text=text, proposal=proposal)
                # the JSON decoded but does not fit: the text parser cannot do better
                return _Answer(text=text, error=error)
            proposal, error = parse_proposal(text)  # recover what the structured parser could not
            return _Answer(text=text, proposal=proposal, error=error)
        text = _text(self.chat_model.invoke(messages))
        proposal, error = parse_proposal(text)
        return _Answer(text=text, proposal=proposal, error=error)

    def think(
        self,
        instruction: str,
        percept: Percept,
        relations: Relations = (),
        answers: Mapping[str, list[str]] | None = None,
        holding: str | None = None,
    ) -> Thought:
        """Ask, verify, feed back, at most ``max_attempts`` times; see the module docstring."""
        describe = self.rules.describe(percept, relations)
        messages = self.messages(instruction, percept, relations, answers)
        try:  # where the grammar can read the instruction too, the verifier holds the model to that reading
            reading: Program | None = self.rules.parse(instruction)
        except InstructionError:
            reading = None
        history: list[ThoughtStep] = []  # the llm steps of the attempts that came to nothing
        last: Thought | None = None  # the last thought a valid proposal gave
        last_seen = 0  # how many history steps that thought already holds
        last_error = "no answer"
        attempt = 0
        tooling = self._with_tools(percept, relations)
        for attempt in range(1, self.max_attempts + 1):
            try:
                answer = self._ask(messages, tooling, history, attempt)
            except Exception as exc:  # noqa: BLE001 - a model failure is recorded, never raised
                last_error = f"the model failed: {_exception_line(exc)}"
                log.warning("llm attempt %d: %s", attempt, last_error)
                history.append(ThoughtStep(kind="llm", text=f"Attempt {attempt}: {last_error}."))
                break  # a connection or device error does not heal with feedback
            messages.append(AIMessage(content=answer.text))
            if answer.proposal is None:
                last_error = answer.error or "no answer"
                text = f"Attempt {attempt}: the answer was not valid: {last_error}."
                history.append(ThoughtStep(kind="llm", text=text))
                messages.append(
                    HumanMessage(content=f"Your answer was not valid: {last_error}. Answer with the JSON object only.")
                )
                continue
            scene = (percept, relations, answers, holding)
            thought, failed = self._try(attempt, answer.proposal, describe, history, reading, *scene)
            last = thought
            if not any(c.on_fail == "refuse" for c in failed) or any(c.on_fail == "ask" for c in failed):
                self.last_messages = messages
                return thought
            history.append(thought.steps[len(history) + 1])  # this attempt's llm step, now with its checks
            last_seen = len(history)
            if attempt < self.max_attempts:
                feedback = "\n".join(f"check {c.name} failed: {c.reason}" for c in failed)
                messages.append(
                    HumanMessage(
                        content=f"The verifier rejected your answer:\n{feedback}\n"
                        "Correct the program or the object ids. Answer with the JSON object only."
                    )
                )
        self.last_messages = messages
        if last is not None:  # the verifier will refuse it; later invalid answers are added to its record
            return last.model_copy(update={"steps": [*last.steps, *history[last_seen:]]})
        plural = "s" if attempt != 1 else ""
        error = f"the language model gave no valid answer in {attempt} attempt{plural}: {last_error}"
        why = ThoughtStep(kind="parse", text=f"I cannot understand the instruction: {error}.")
        return Thought(steps=[describe, *history, why], parse_error=error)

    def _try(
        self,
        attempt: int,
        proposal: LLMProposal,
        describe: ThoughtStep,
        history: list[ThoughtStep],
        reading: Program | None,
        percept: Percept,
        relations: Relations,
        answers: Mapping[str, list[str]] | None,
        holding: str | None,
    ) -> tuple[Thought, list[CheckResult]]:
        """Ground one proposal with the rules reasoner and check it; returns the thought and its failed checks."""
        claims = "; ".join(f"{k} = {', '.join(v) or 'nothing'}" for k, v in proposal.bindings.items())
        rationale = " ".join(s.strip() for s in proposal.rationale if s.strip()) or "(no rationale given)"
        step = ThoughtStep(kind="llm", text=f"Attempt {attempt}: {rationale} Claims: {claims}.")
        start = Thought(steps=[describe, *history, step], reading=reading)
        claimed = proposal.bindings
        thought = self.rules.think_program(
            proposal.program, percept, relations, thought=start, claims=claimed, answers=answers, holding=holding
        )
        failed = [c for c in self.verifier.check(thought, percept) if not c.passed]
        if failed:
            index = len(history) + 1
            verdicts = " ".join(f"Check {c.name} failed: {c.reason}." for c in failed)
            steps = list(thought.steps)
            steps[index] = step.model_copy(update={"text": f"{step.text} {verdicts}", "checks": failed})
            thought = thought.model_copy(update={"steps": steps})
        return thought, failed

    def replan(
        self, thought: Thought, percept: Percept, relations: Relations = (), holding: str | None = None
    ) -> Thought:
        """Plan again from the current scene to the thought's (already verified) goal: the rules reasoner's job."""
        return self.rules.replan(thought, percept, relations, holding)


# ---- chat models ---------------------------------------------------------------------------------------------


_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class TransformersChatModel(BaseChatModel):
    """A LangChain chat model over a local transformers causal LM (a folder or hub id), decoding greedily.

    The prompt is the tokenizer's chat template when it has one, else plain ``role: text`` lines ending in
    ``assistant:``. Loading failures are one line (``llm: cannot load model 'PATH': ...``).
    """

    model: str = Field(description="local folder or hub id of a causal LM")
    device: str = "cpu"
    dtype: str = Field("auto", description="float32, bfloat16, float16, or auto (bfloat16 on cuda, else float32)")
    max_new_tokens: int = Field(512, ge=1)

    _tokenizer: Any = PrivateAttr(None)
    _lm: Any = PrivateAttr(None)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # loaded after validation, so that a loading error stays one line (pydantic would wrap it)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from groundsight.perception.perceivers.boxes import load_pretrained

        dtype = None if self.dtype == "auto" else self.dtype
        loaded = load_pretrained(AutoTokenizer, AutoModelForCausalLM, self.model, self.device, dtype, WHO)
        self._tokenizer, self._lm = loaded

    @property
    def _llm_type(self) -> str:
        return "transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "device": self.device, "dtype": self.dtype, "max_new_tokens": self.max_new_tokens}

    def prompt(self, messages: Sequence[BaseMessage]) -> str:
        """The text the model continues."""
        chat = [{"role": _ROLES.get(m.type, m.type), "content": _text(m)} for m in messages]
        if getattr(self._tokenizer, "chat_template", None):
            return self._tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        return "\n".join(f"{m['role']}: {m['content']}" for m in chat) + "\nassistant:"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        import torch

        tok = self._tokenizer
        templated = bool(getattr(tok, "chat_template", None))
        inputs = tok(self.prompt(messages), return_tensors="pt", add_special_tokens=not templated).to(self.device)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        with torch.inference_mode():
            out = self._lm.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad, num_beams=1
            )
        text = tok.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        for s in stop or ():
            text = text.split(s, 1)[0]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def openai_chat_model(
    base_url: str,
    model: str,
    api_key: str | None = None,
    *,
    max_tokens: int | None = None,
    timeout: float = 60.0,
    max_retries: int = 2,
) -> BaseChatModel:
    """``langchain_openai.ChatOpenAI`` at temperature 0 for an OpenAI-compatible server (e.g. vLLM's
    ``vllm serve MODEL``, base_url ``http://HOST:8000/v1``). Without ``api_key``, ``OPENAI_API_KEY`` or
    ``EMPTY`` (what vLLM accepts) is used."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
        temperature=0,
        max_tokens=max_tokens,
        timeout=timeout,
        max_retries=max_retries,
    )


def make_llm_reasoner(
    kb: KnowledgeBase,
    verifier: Verifier,
    *,
    model: str | None = None,
    base_url: str | None = None,
    llm_model: str | None = None,
    api_key: str | None = None,
    device: str = "cpu",
    dtype: str = "auto",
    max_attempts: int = 3,
    max_new_tokens: int = 512,
    chat_model: BaseChatModel | None = None,
    tools: Tools = (),
    max_tool_rounds: int = 3,
) -> LLMReasoner:
    """An :class:`LLMReasoner` over exactly one source: ``chat_model`` (any LangChain chat model), ``model``
    (a local transformers causal LM: folder or hub id) or ``base_url`` with ``llm_model`` (an OpenAI-compatible
    server). ``tools`` are offered to a model that can call them. Bad options raise one-line :class:`ValueError`s."""
    given = [n for n, v in (("chat_model", chat_model), ("model", model), ("base_url", base_url)) if v is not None]
    if len(given) != 1:
        what = f"got {' and '.join(given)}" if given else "got none"
        raise ValueError(f"{WHO}: give exactly one of chat_model, model (a local model) or base_url (a server); {what}")
    if base_url is not None and not llm_model:
        raise ValueError(f"{WHO}: base_url {base_url!r} needs llm_model, the name of the model the server serves")
    if llm_model is not None and base_url is None:
        raise ValueError(f"{WHO}: llm_model {llm_model!r} needs base_url (for a local model use model)")
    if chat_model is None:
        if model is not None:
            chat_model = TransformersChatModel(model=model, device=device, dtype=dtype, max_new_tokens=max_new_tokens)
        else:
            assert base_url is not None and llm_model is not None
            chat_model = openai_chat_model(base_url, llm_model, api_key, max_tokens=max_new_tokens)
    return LLMReasoner(
        kb, verifier, chat_model, max_attempts=max_attempts, tools=tools, max_tool_rounds=max_tool_rounds
    )
