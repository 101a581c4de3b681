"""The LLM reasoner: a chat model proposes, the verifier checks, failures are fed back, bounded retries.

Three kinds of chat model are used, and each test says which and why:

* :class:`ScriptedChatModel`, a real LangChain ``BaseChatModel`` subclass that answers from a script. It
  stands in for a capable LLM (a large local model or a remote server) that cannot run here, so that the
  feedback loop can be driven through chosen right and wrong answers;
* a tiny randomly initialised Llama built from a config with a tokenizer trained offline with ``tokenizers``,
  saved with ``save_pretrained`` and loaded through :class:`groundsight.reasoning.llm.TransformersChatModel`'s own
  ``from_pretrained`` path: it answers garbage, which the reasoner must survive;
* ``langchain_openai.ChatOpenAI`` (:func:`groundsight.reasoning.llm.openai_chat_model`) against a real HTTP server on
  127.0.0.1 that answers in the OpenAI chat-completions format. It stands in for a vLLM server, which cannot
  run here (no GPU, no weights).

Everything else is real: the knowledge base, the rules reasoner's resolution and planning, the verifier.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from groundsight.knowledge import KnowledgeBase
from groundsight.perception.objects import Percept
from groundsight.reasoning.llm import (
    EXAMPLE_ANSWER,
    LLMProposal,
    LLMReasoner,
    TransformersChatModel,
    binding_keys,
    first_json_object,
    make_llm_reasoner,
    openai_chat_model,
    parse_proposal,
)
from groundsight.reasoning.logical_form import NounPhrase, Program, Put, Stack
from groundsight.reasoning.verifier import Verifier, decide
from tests.conftest import make_object

INSTRUCTION = "Put the red block in the blue bowl."


def proposal(obj: list[str], target: list[str], *, obj_color: str = "red", rationale: str = "") -> str:
    """A 'put the <obj_color> block inside the blue bowl' answer claiming ``obj`` and ``target``, as JSON text."""
    return json.dumps(
        {
            "program": {
                "steps": [
                    {
                        "kind": "put",
                        "object": {"noun": "block", "color": obj_color, "text": f"the {obj_color} block"},
                        "relation": "inside",
                        "target": {"noun": "bowl", "color": "blue", "text": "the blue bowl"},
                    }
                ]
            },
            "bindings": {"step1.object": obj, "step1.target": target},
            "rationale": [rationale or f"The {obj_color} block is {', '.join(obj)}."],
        }
    )


RIGHT = proposal(["red_block"], ["blue_bowl"])
WRONG = proposal(["green_block"], ["blue_bowl"], rationale="The red block is green_block.")


class ScriptedChatModel(BaseChatModel):
    """Answers the k-th reply of a conversation with ``script[k]`` (the last one again when it runs out).

    Stands in for a real LLM, which cannot run here. The answer depends only on the conversation (how many
    assistant turns it already has), so it is as deterministic as greedy decoding. Every conversation it
    is given is kept in :attr:`seen`.
    """

    script: list[str]
    _seen: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def seen(self) -> list[list[BaseMessage]]:
        return self._seen

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self._seen.append(list(messages))
        turn = sum(isinstance(m, AIMessage) for m in messages)
        text = self.script[min(turn, len(self.script) - 1)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


@pytest.fixture()
def percept() -> Percept:
    return Percept(
        objects=[
            make_object("red_block", "block", "red", 0.45, 0.12),
            make_object("green_block", "block", "green", 0.40, -0.05),
            make_object("blue_bowl", "bowl", "blue", 0.58, -0.15),
        ],
        cameras=["top"],
        perceiver="test",
    )


def _reasoner(kb: KnowledgeBase, script: list[str], max_attempts: int = 3) -> tuple[LLMReasoner, ScriptedChatModel]:
    model = ScriptedChatModel(script=script)
    return make_llm_reasoner(kb, Verifier(kb), chat_model=model, max_attempts=max_attempts), model


def _llm_steps(thought) -> list[str]:
    return [s.text for s in thought.steps if s.kind == "llm"]


# ---------------------------------------------------------------- parsing and prompt


def test_example_in_the_prompt_is_a_valid_proposal() -> None:
    """The worked example the system prompt shows must itself pass validation."""
    p, error = parse_proposal(EXAMPLE_ANSWER)
    assert error is None and p is not None
    assert p.bindings == {"step1.object": ["obj_3"], "step1.target": ["obj_1"]}


def test_first_balanced_object_ignores_braces_in_strings_and_chatter() -> None:
    text = 'Sure! Here it is: ```json\n{"a": "a } brace", "b": {"c": [1, 2]}}\n``` and {"second": 1}'
    assert json.loads(first_json_object(text)) == {"a": "a } brace", "b": {"c": [1, 2]}}
    assert first_json_object('{"a": {"b": 1}') is None
    assert first_json_object("no json") is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("I think the red block goes in the bowl.", "no JSON object in the answer"),
        ('{"program": {"steps": [', "no complete JSON object"),
        ('{"program": 1,}', "invalid JSON"),
        ('{"program": {"steps": []}, "bindings": {}}', "program.steps: List should have at least 1 item"),
        (RIGHT.replace('"inside"', '"into"'), "program.steps.0.put.relation: Input should be"),
        (RIGHT.replace("step1.target", "step1.bowl"), "bindings: missing step1.target; unknown step1.bowl"),
    ],
)
def test_invalid_answers_give_one_line_errors(text: str, error: str) -> None:
    p, got = parse_proposal(text)
    assert p is None and got is not None and error in got and "\n" not in got


def test_binding_keys_follow_the_rules_reasoner() -> None:
    phrase = NounPhrase(noun="block")
    put = Put(object=phrase, relation="on", target=NounPhrase(noun="plate"))
    program = Program(steps=[put, Stack(order=[phrase, phrase, phrase])])
    assert binding_keys(program) == ["step1.object", "step1.target", "step2.order1", "step2.order2", "step2.order3"]


def test_messages_list_objects_relations_and_instruction(kb, percept) -> None:
    """Scripted model (stands in for a real LLM): only the messages are looked at here."""
    reasoner, _ = _reasoner(kb, [RIGHT])
    messages = reasoner.messages(INSTRUCTION, percept, [("red_block", "on", "blue_bowl")], {"step1.target": ["b"]})
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]
    system, user = messages[0].content, messages[1].content
    assert '"LLMProposal"' not in system and "step1.order1" in system and "Example." in system
    assert "- green_block: block, green, unknown size, x=0.40, y=-0.05" in user
    assert "Relations: red_block on blue_bowl" in user and "step1.target means: b" in user
    assert user.endswith(f"Instruction: {INSTRUCTION}")
    again = reasoner.messages(INSTRUCTION, percept, [("red_block", "on", "blue_bowl")], {"step1.target": ["b"]})
    assert again == messages


# ---------------------------------------------------------------- the feedback loop (scripted model)


def test_wrong_claim_is_fed_back_and_corrected(kb, percept) -> None:
    """Scripted model (stands in for a real LLM): wrong object first, right one after the feedback."""
    reasoner, model = _reasoner(kb, [WRONG, RIGHT])
    thought = reasoner.think(INSTRUCTION, percept)
    checks = Verifier(kb).check(thought, percept)
    assert decide(checks) is None, [c.line() for c in checks if not c.passed]
    assert any(c.name == "claim_matches" and c.passed for c in checks)
    assert [s.text for s in thought.plan] == ["pick(red_block)", "place(red_block, inside, blue_bowl)"]
    assert len(model.seen) == 2
    feedback = model.seen[1][-1]
    assert isinstance(feedback, HumanMessage) and "check claim_matches failed" in feedback.content
    assert "red_block" in feedback.content  # the reason says what resolution chose
    steps = _llm_steps(thought)
    assert len(steps) == 2 and steps[0].startswith("Attempt 1:") and steps[1].startswith("Attempt 2:")
    first = next(s for s in thought.steps if s.kind == "llm")
    assert [c.name for c in first.checks] == ["claim_matches"]
    kinds = [s.kind for s in thought.steps]
    assert kinds[:3] == ["describe", "llm", "llm"] and kinds[3] == "parse" and kinds[-1] == "plan"


def test_always_wrong_ends_failing_claim_matches(kb, percept) -> None:
    """Scripted model (stands in for a real LLM) that insists on the wrong object: the verifier still refuses."""
    reasoner, model = _reasoner(kb, [WRONG], max_attempts=3)
    thought = reasoner.think(INSTRUCTION, percept)
    failed = decide(Verifier(kb).check(thought, percept))
    assert failed is not None and failed.name == "claim_matches" and failed.on_fail == "refuse"
    assert "green_block" in failed.reason
    assert len(model.seen) == 3
    steps = [s for s in thought.steps if s.kind == "llm"]
    assert len(steps) == 3 and all(s.checks and s.checks[0].name == "claim_matches" for s in steps)


def test_broken_json_then_valid_recovers(kb, percept) -> None:
    """Scripted model (stands in for a real LLM) whose first answer is cut-off JSON."""
    reasoner, model = _reasoner(kb, [RIGHT[:40], "Here you go:\n```json\n" + RIGHT + "\n```"])
    thought = reasoner.think(INSTRUCTION, percept)
    assert decide(Verifier(kb).check(thought, percept)) is None
    feedback = model.seen[1][-1].content
    assert feedback.startswith("Your answer was not valid: no complete JSON object")
    assert feedback.endswith("Answer with the JSON object only.")
    steps = _llm_steps(thought)
    assert len(steps) == 2 and "not valid" in steps[0]


def test_ambiguity_is_asked_at_once_never_retried(kb) -> None:
    """Scripted model (stands in for a real LLM) that picks one of two blue bowls: the person must settle it."""
    percept = Percept(
        objects=[
            make_object("red_block", "block", "red", 0.40, 0.0),
            make_object("blue_bowl_1", "bowl", "blue", 0.60, 0.17),
            make_object("blue_bowl_2", "bowl", "blue", 0.60, -0.17),
        ],
        cameras=["top"],
        perceiver="test",
    )
    reasoner, model = _reasoner(kb, [proposal(["red_block"], ["blue_bowl_1"]), RIGHT])
    thought = reasoner.think(INSTRUCTION, percept)
    failed = decide(Verifier(kb).check(thought, percept))
    assert failed is not None and failed.name == "referent_unique" and failed.on_fail == "ask"
    assert set(failed.candidates) == {"blue_bowl_1", "blue_bowl_2"}
    assert len(model.seen) == 1 and len(_llm_steps(thought)) == 1
    # the person's answer reaches the model and the binding; the same claim now passes
    answered = reasoner.think(INSTRUCTION, percept, answers={"step1.target": ["blue_bowl_1"]})
    assert "step1.target means: blue_bowl_1" in model.seen[-1][1].content
    assert decide(Verifier(kb).check(answered, percept)) is None


def test_unknown_object_id_fails_claim_matches(kb, percept) -> None:
    """Scripted model (stands in for a real LLM) that names an object nobody saw."""
    reasoner, _ = _reasoner(kb, [proposal(["purple_unicorn"], ["blue_bowl"])], max_attempts=1)
    failed = decide(Verifier(kb).check(reasoner.think(INSTRUCTION, percept), percept))
    assert failed is not None and failed.name == "claim_matches" and "purple_unicorn" in failed.reason


def test_never_valid_sets_parse_error(kb, percept) -> None:
    """Scripted model (stands in for a real LLM) that never answers JSON: the instruction counts as not understood."""
    reasoner, model = _reasoner(kb, ["I would rather not."], max_attempts=2)
    thought = reasoner.think(INSTRUCTION, percept)
    assert thought.program is None and len(model.seen) == 2
    assert thought.parse_error == "the language model gave no valid answer in 2 attempts: no JSON object in the answer"
    failed = decide(Verifier(kb).check(thought, percept))
    assert failed is not None and failed.name == "instruction_understood"
    assert len(_llm_steps(thought)) == 2


def test_model_exception_is_recorded_not_raised(kb, percept) -> None:
    """A chat model that raises (as a dead server or a CUDA error would) ends as a recorded failure."""

    class Broken(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            raise RuntimeError("CUDA error: device-side assert triggered\nmore detail")

    reasoner = LLMReasoner(kb, Verifier(kb), Broken(script=[]))
    thought = reasoner.think(INSTRUCTION, percept)
    assert thought.parse_error == (
        "the language model gave no valid answer in 1 attempt: "
        "the model failed: RuntimeError: CUDA error: device-side assert triggered"
    )
    assert decide(Verifier(kb).check(thought, percept)).name == "instruction_understood"


def test_valid_then_garbage_keeps_the_refusable_thought(kb, percept) -> None:
    """Scripted model (stands in for a real LLM): a wrong but valid answer, then garbage; the wrong one is refused."""
    reasoner, _ = _reasoner(kb, [WRONG, "{oops"], max_attempts=2)
    thought = reasoner.think(INSTRUCTION, percept)
    assert thought.program is not None
    assert decide(Verifier(kb).check(thought, percept)).name == "claim_matches"
    steps = _llm_steps(thought)
    assert len(steps) == 2 and "not valid" in steps[1]


def test_same_inputs_same_thought(kb, percept) -> None:
    """Scripted model (stands in for a real LLM): determinism of the loop itself."""
    a, ma = _reasoner(kb, [WRONG, RIGHT])
    b, mb = _reasoner(kb, [WRONG, RIGHT])
    assert a.think(INSTRUCTION, percept) == b.think(INSTRUCTION, percept)
    assert ma.seen == mb.seen


def test_replan_delegates_to_the_rules_reasoner(kb, percept) -> None:
    """Scripted model (stands in for a real LLM); replanning does not call it."""
    reasoner, model = _reasoner(kb, [RIGHT])
    thought = reasoner.think(INSTRUCTION, percept)
    again = reasoner.replan(thought, percept, holding=None)
    assert [s.text for s in again.plan] == [s.text for s in thought.plan] and len(model.seen) == 1


# ---------------------------------------------------------------- make_llm_reasoner


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give exactly one of chat_model, model (a local model) or base_url (a server); got none"),
        ({"model": "x", "base_url": "http://h/v1"}, "got model and base_url"),
        ({"base_url": "http://h/v1"}, "needs llm_model"),
        ({"model": "x", "llm_model": "y"}, "needs base_url"),
        ({"chat_model": ScriptedChatModel(script=["{}"]), "max_attempts": 0}, "max_attempts must be at least 1"),
    ],
)
def test_bad_options_are_one_line(kb, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^llm: ") as err:
        make_llm_reasoner(kb, Verifier(kb), **options)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unloadable_local_model_is_one_line(kb, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^llm: cannot load model .*nowhere") as err:
        make_llm_reasoner(kb, Verifier(kb), model=str(tmp_path / "nowhere"))
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- a tiny random local model

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_llama(path: Path, *, chat_template: bool = True) -> None:
    """Save a tiny random Llama causal LM and a word-level tokenizer trained offline on our JSON vocabulary."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [EXAMPLE_ANSWER, RIGHT, WRONG, INSTRUCTION, "user: assistant: system: 0123456789 {}[]"]
    special = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=special))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-llama")
    build_tiny_llama(path)
    return path


def test_tiny_random_model_fails_gracefully(kb, percept, tiny_llama: Path) -> None:
    """Tiny random Llama loaded through from_pretrained: it answers garbage, which ends as a recorded failure."""
    reasoner = make_llm_reasoner(kb, Verifier(kb), model=str(tiny_llama), max_new_tokens=12, max_attempts=2)
    assert isinstance(reasoner.chat_model, TransformersChatModel)
    thought = reasoner.think(INSTRUCTION, percept)
    assert thought.program is None
    assert thought.parse_error.startswith("the language model gave no valid answer in 2 attempts: ")
    assert len(_llm_steps(thought)) == 2
    assert decide(Verifier(kb).check(thought, percept)).name == "instruction_understood"
    answers = [m.content for m in reasoner.last_messages if isinstance(m, AIMessage)]
    assert len(answers) == 2
    again = reasoner.think(INSTRUCTION, percept)  # greedy decoding: the same garbage again
    assert again == thought


def test_tiny_model_prompt_uses_the_chat_template(kb, tiny_llama: Path) -> None:
    """Tiny random Llama: the chat template when the tokenizer has one, plain 'role: text' lines otherwise."""
    model = TransformersChatModel(model=str(tiny_llama), max_new_tokens=4)
    messages = [SystemMessage(content="Be brief."), HumanMessage(content="Hi")]
    assert model.prompt(messages) == "<|system|> Be brief.\n<|user|> Hi\n<|assistant|>"
    model._tokenizer.chat_template = None
    assert model.prompt(messages) == "system: Be brief.\nuser: Hi\nassistant:"
    reply = model.invoke(messages)  # generation works on the plain prompt as well
    assert isinstance(reply, AIMessage) and isinstance(reply.content, str)


# ---------------------------------------------------------------- an OpenAI-compatible server


class _FakeServer:
    """A real HTTP server on 127.0.0.1 answering POST /v1/chat/completions from a script.

    It stands in for a vLLM server (``vllm serve``), which cannot run here. Like the scripted model, it answers
    the k-th assistant turn of a conversation with ``script[k]``; every request body is kept.
    """

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, **body})
                turn = sum(m["role"] == "assistant" for m in body["messages"])
                content = server.script[min(turn, len(server.script) - 1)]
                reply = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture()
def free_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield port


def test_openai_compatible_server_round_trip(kb, percept) -> None:
    """ChatOpenAI against a local HTTP server that stands in for vLLM: structured output and feedback work."""
    # the second answer has chatter around the JSON: the structured parser fails, the raw text is recovered
    with _FakeServer([WRONG, "Sure! " + RIGHT + " Hope this helps."]) as server:
        reasoner = make_llm_reasoner(kb, Verifier(kb), base_url=server.url, llm_model="tiny", max_new_tokens=64)
        thought = reasoner.think(INSTRUCTION, percept)
    assert decide(Verifier(kb).check(thought, percept)) is None
    assert len(server.requests) == 2 and all(r["path"] == "/v1/chat/completions" for r in server.requests)
    first = server.requests[0]
    assert first["model"] == "tiny" and first["temperature"] == 0
    assert first.get("max_completion_tokens", first.get("max_tokens")) == 64
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["name"] == "LLMProposal"
    assert [m["role"] for m in server.requests[1]["messages"]] == ["system", "user", "assistant", "user"]
    assert "check claim_matches failed" in server.requests[1]["messages"][-1]["content"]
    assert len(_llm_steps(thought)) == 2


def test_nothing_listening_is_a_recorded_failure(kb, percept, free_port: int) -> None:
    """ChatOpenAI at a URL where nothing listens (a vLLM server that is down): a recorded failure, no traceback."""
    model = openai_chat_model(f"http://127.0.0.1:{free_port}/v1", "tiny", timeout=2.0, max_retries=0)
    thought = LLMReasoner(kb, Verifier(kb), model).think(INSTRUCTION, percept)
    assert thought.program is None
    assert thought.parse_error.startswith("the language model gave no valid answer in 1 attempt: the model failed: ")
    assert "Connection" in thought.parse_error
    assert decide(Verifier(kb).check(thought, percept)).name == "instruction_understood"


def test_proposal_schema_round_trips() -> None:
    p = LLMProposal.model_validate_json(RIGHT)
    assert LLMProposal.model_validate_json(p.model_dump_json()) == p


# ---------------------------------------------------------------- end to end


def test_episode_end_to_end_with_scripted_llm(tmp_path: Path) -> None:
    """Scripted model (stands in for a real LLM) through the whole agent: graph, simulator, oracle perception.

    The first answer claims the wrong block, the verifier's feedback corrects it, and the robot then does it.
    """
    from groundsight.agent.loop.runner import RunConfig, run_episode
    from groundsight.agent.tasks.scenario import load_scenario

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "scenarios" / "pick_place" / "red_block_in_blue_bowl.yaml")
    scripted = ScriptedChatModel(script=[WRONG, RIGHT])
    summary = run_episode(
        scenario,
        RunConfig(seed=0, reasoner="llm", reasoner_options={"chat_model": scripted}, perception="oracle"),
        tmp_path,
    )
    assert summary.passed, summary.reason
    assert summary.status == "succeeded" and summary.reasoner == "llm"
    trace = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    reason = next(r for r in trace if r["node"] == "reason")
    llm = [s for s in reason["thought"]["steps"] if s["kind"] == "llm"]
    assert len(llm) == 2 and llm[0]["checks"][0]["name"] == "claim_matches"
