"""A host process on the tiny model answers exactly as the same model in process does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from modelyard.backends import BackendContext, ModelSpec, StreamChunk, Usage
from modelyard.backends.transformers import TransformersBackend
from modelyard.errors import AuthenticationFailed, InvalidRequest, UnsupportedParameter
from modelyard.hosts import AdapterRef, HostClient, HostHandle
from modelyard.prompting import Message
from tests.unit.hosts.conftest import GREEDY, run

MESSAGES = [Message("system", "You are terse."), Message("user", "What is the capital of France?")]
PROMPT = "The quick"


def _in_process(spec: ModelSpec, tmp_path: Path) -> TransformersBackend:
    context = BackendContext(models_dir=tmp_path / "models", torch_dtype="float32", default_max_tokens=16)
    return TransformersBackend(spec, context)


def _base_spec(tiny_model_dir: Path) -> ModelSpec:
    return ModelSpec(id="tiny", backend="transformers", task="chat", source={"path": str(tiny_model_dir)})


def _adapter(tiny_model_dir: Path, folder: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    # init_lora_weights=False: random B, so the adapter visibly changes the output.
    config = LoraConfig(r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(folder, safe_serialization=True)
    return folder


async def _joined(stream: AsyncIterator[StreamChunk | Usage]) -> tuple[str, Usage, list[object]]:
    items = [item async for item in stream]
    text = "".join(item.text for item in items if isinstance(item, StreamChunk))
    assert isinstance(items[-1], Usage) and not any(isinstance(i, Usage) for i in items[:-1])
    return text, items[-1], items


def test_greedy_answers_equal_the_in_process_backend(
    tiny_host: HostHandle, tiny_model_dir: Path, tmp_path: Path
) -> None:
    local = _in_process(_base_spec(tiny_model_dir), tmp_path)

    async def both() -> None:
        client = HostClient(tiny_host)
        try:
            for remote, here in [
                (await client.chat(MESSAGES, GREEDY), await local.chat(MESSAGES, GREEDY)),
                (await client.complete(PROMPT, GREEDY), await local.complete(PROMPT, GREEDY)),
            ]:
                assert remote == here  # choices (text, finish reason) and usage
                assert remote.choices[0].text and remote.usage.completion_tokens > 0
        finally:
            await client.close()
            await local.close()

    run(both())


def test_stream_pieces_join_to_the_same_text(tiny_host: HostHandle) -> None:
    async def compare() -> None:
        client = HostClient(tiny_host)
        try:
            whole = await client.chat(MESSAGES, GREEDY)
            text, usage, items = await _joined(client.stream_chat(MESSAGES, GREEDY))
            assert (text, usage) == (whole.choices[0].text, whole.usage)
            assert len(items) > 2  # pieces, not one blob
            whole = await client.complete(PROMPT, GREEDY)
            text, usage, _ = await _joined(client.stream_complete(PROMPT, GREEDY))
            assert (text, usage) == (whole.choices[0].text, whole.usage)
        finally:
            await client.close()

    run(compare())


@pytest.mark.parametrize("header", [None, "Bearer wrong-secret-of-some-length", "wrong", "Bearer"])
@pytest.mark.parametrize(("method", "path"), [("GET", "/health"), ("POST", "/v1/complete")])
def test_a_request_without_the_secret_is_401(
    tiny_host: HostHandle, header: str | None, method: str, path: str
) -> None:
    headers = {} if header is None else {"Authorization": header}
    body = {"prompt": PROMPT, "params": {"max_tokens": 2}}
    response = httpx.request(method, tiny_host.address + path, headers=headers, json=body, trust_env=False)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_a_near_miss_secret_is_401_through_the_client(tiny_host: HostHandle) -> None:
    class Near:
        address = tiny_host.address
        secret = tiny_host.secret[:-1] + ("A" if tiny_host.secret[-1] != "A" else "B")

    async def call() -> None:
        client = HostClient(Near())
        try:
            with pytest.raises(AuthenticationFailed):
                await client.complete(PROMPT, GREEDY)
            with pytest.raises(AuthenticationFailed):
                await _joined(client.stream_complete(PROMPT, GREEDY))
        finally:
            await client.close()

    run(call())


def test_the_secret_and_the_spec_stay_off_the_command_line(
    tiny_host: HostHandle, tiny_model_dir: Path
) -> None:
    cmdline = Path(f"/proc/{tiny_host.pid}/cmdline").read_bytes().decode()
    assert tiny_host.secret not in cmdline and str(tiny_model_dir) not in cmdline
    assert "modelyard.hosts.server" in cmdline


def test_an_adapter_reference_runs_that_adapter_on_the_shared_base(
    tiny_host: HostHandle, tiny_model_dir: Path, tmp_path: Path, adapter_root: Path
) -> None:
    folder = _adapter(tiny_model_dir, adapter_root / "a", seed=1)
    base_spec = _base_spec(tiny_model_dir)
    adapter_spec = replace(
        base_spec, id="ft:a", source={**base_spec.source, "adapter": str(folder), "base_model": "tiny"}
    )
    context = BackendContext(models_dir=tmp_path / "models", torch_dtype="float32", default_max_tokens=16)
    local_base = TransformersBackend(base_spec, context)
    local_adapter = TransformersBackend(adapter_spec, context)

    async def compare() -> None:
        base = HostClient(tiny_host)
        tuned = base.with_adapter(AdapterRef(id="ft:a", path=str(folder)))
        try:
            expected = (await local_adapter.complete(PROMPT, GREEDY)).choices[0].text
            expected_base = (await local_base.complete(PROMPT, GREEDY)).choices[0].text
            assert expected != expected_base  # the adapter changes the answer
            assert (await tuned.complete(PROMPT, GREEDY)).choices[0].text == expected
            text, _, _ = await _joined(tuned.stream_complete(PROMPT, GREEDY))
            assert text == expected
            assert (await base.complete(PROMPT, GREEDY)).choices[0].text == expected_base
            assert "ft:a" in (await base.health())["adapters"]
        finally:
            await base.close()
            await local_adapter.close()
            await local_base.close()

    run(compare())


def test_adapters_outside_the_hosts_folder_and_bad_requests_are_400(
    tiny_host: HostHandle, tmp_path: Path
) -> None:
    async def refused() -> None:
        client = HostClient(tiny_host)
        outside = client.with_adapter(AdapterRef(id="ft:x", path=str(tmp_path)))
        try:
            with pytest.raises(InvalidRequest) as caught:
                await outside.complete(PROMPT, GREEDY)
            assert caught.value.param == "adapter"
            with pytest.raises(UnsupportedParameter) as caught:  # raised again with its class and param
                await client.complete(PROMPT, replace(GREEDY, extra={"logprobs": 1}))
            assert caught.value.param == "logprobs"
            with pytest.raises(InvalidRequest):
                await _joined(client.stream_chat([Message("robot", "hi")], GREEDY))
        finally:
            await client.close()

    run(refused())
