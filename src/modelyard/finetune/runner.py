"""The training run, top to bottom: load, add LoRA, resume, loop, checkpoint, save.

:func:`train` is the whole recipe; the helpers below it each do one step of it. A run is
deterministic on CPU for a given spec, data and dtype: LoRA is initialised from the
seed, the batches of epoch ``e`` come from ``seed + e``, and the dropout masks of step
``s`` from ``(seed, s)``. So a run resumed from a checkpoint continues exactly as the
uninterrupted run would have, with nothing to restore but the step number, the
adapter and AdamW's state.

torch, transformers and PEFT are imported when this module is: only the job that
trains imports it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import torch
import torch.nn.functional as F  # noqa: N812 - the name every PyTorch reader knows

from modelyard.errors import InvalidRequest, ModelyardError
from modelyard.finetune import checkpoints as ckpt
from modelyard.finetune.build import Schedule, adamw_settings, lora_config, schedule
from modelyard.finetune.data import (
    IGNORE_INDEX,
    Batch,
    EncodedSet,
    collate,
    encode_examples,
    epoch_batches,
    micro_batches,
    pad_token_id,
)
from modelyard.finetune.spec import ResolvedSpec
from modelyard.prompting import Message

__all__ = ["TrainHooks", "TrainResult", "train"]

Status = Literal["succeeded", "cancelled", "paused"]
DTYPES = ("float32", "bfloat16")
# Padded tokens per forward pass. A batch is split into length-sorted groups under this
# budget (gradients add up), which wastes less compute on padding than one padded batch.
MICRO_BATCH_TOKENS = 2048
_FORMAT_VERSION = 1


class TrainHooks(Protocol):
    """How the caller (the job) sees and steers a run. Exceptions raised here end it."""

    def on_event(self, event: dict[str, Any]) -> None: ...

    def on_checkpoint(self, step: int, path: Path, metrics: dict[str, Any]) -> None: ...

    def should_stop(self) -> str | None:
        """``"cancel"``, ``"pause"`` or None; asked before every step."""
        ...


def _phase(hooks: TrainHooks, phase: str) -> None:
    """Tell the caller a phase begins (``on_phase`` is optional: not every caller shows them)."""
    on_phase = getattr(hooks, "on_phase", None)
    if on_phase is not None:
        on_phase(phase)


@dataclass(frozen=True, slots=True)
class TrainResult:
    status: Status
    adapter_dir: Path | None  # only when succeeded
    trained_tokens: int  # real tokens of every step so far, across resumes
    steps: int  # the last completed step
    total_steps: int
    train_loss: float | None  # mean over the last epoch's steps
    val_loss: float | None  # at the last checkpoint that measured it
    wall_s: float  # this call only
    resumed_from_step: int | None = None
    dropped_examples: int = 0
    truncated_examples: int = 0


@dataclass(slots=True)
class _Progress:
    """What changes step by step, and what a checkpoint stores besides tensors."""

    step: int = 0
    trained_tokens: int = 0
    epoch_loss_sum: float = 0.0  # of the steps of the current epoch
    epoch_steps: int = 0
    train_loss: float | None = None
    train_accuracy: float | None = None
    val_loss: float | None = None
    val_step: int | None = None  # the step val_loss was measured at


@dataclass(slots=True)
class _Run:
    """Everything fixed once the run has started."""

    spec: ResolvedSpec
    model: Any  # peft.PeftModel
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    data: EncodedSet
    validation: EncodedSet | None
    pad_id: int
    steps_per_epoch: int
    total_steps: int
    fingerprint: str
    checkpoints: Path
    hooks: TrainHooks
    narrow_logits: bool  # the model computes logits for the last few positions only
    dtype: str
    step_times: list[float] = field(default_factory=list)


def train(
    spec: ResolvedSpec,
    *,
    base_model_dir: Path,
    train: Sequence[Sequence[Message]],
    validation: Sequence[Sequence[Message]] | None,
    work_dir: Path,
    hooks: TrainHooks,
    dtype: str = "float32",
) -> TrainResult:
    """Train a LoRA adapter on ``train``; resume from ``work_dir/checkpoints`` if any."""
    started = time.monotonic()
    _phase(hooks, "loading_base")
    model, tokenizer = _load_base_model(base_model_dir, dtype)
    _phase(hooks, "tokenizing")
    data = _encode_training_set(tokenizer, train, spec)
    held_out = encode_examples(tokenizer, validation, spec.max_seq_length) if validation else None
    steps_per_epoch = math.ceil(len(data.examples) / spec.batch_size)
    total_steps = steps_per_epoch * spec.n_epochs

    torch.manual_seed(spec.seed)  # LoRA's initial A matrices come from the seed
    model = _add_lora(model, spec)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, **adamw_settings(spec).as_kwargs())
    run = _Run(
        spec=spec,
        model=model,
        optimizer=optimizer,
        schedule=schedule(spec, total_steps),
        data=data,
        validation=held_out if held_out and held_out.examples else None,
        pad_id=pad_token_id(tokenizer),
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        fingerprint=_fingerprint(spec, dtype, data),
        checkpoints=work_dir / "checkpoints",
        hooks=hooks,
        narrow_logits=_narrow_logits(model),
        dtype=dtype,
    )
    progress, resumed_from = _resume(run)

    _phase(hooks, "training")
    for step in range(progress.step + 1, total_steps + 1):
        stop = hooks.should_stop()
        if stop not in (None, "cancel", "pause"):
            raise ValueError(f"should_stop() answered {stop!r}; expected 'cancel', 'pause' or None")
        if stop == "cancel":
            return _result(run, progress, "cancelled", None, started, resumed_from)
        if stop == "pause":
            if progress.step > 0:  # before step 1 the seed alone recreates the state
                path, metrics = _checkpoint(run, progress, validate=False)
                hooks.on_checkpoint(progress.step, path, metrics)
            return _result(run, progress, "paused", None, started, resumed_from)
        _train_step(run, progress, step)
        _report(run, progress, step)

    _phase(hooks, "saving")
    adapter_dir = ckpt.write_atomically(
        work_dir / "adapter", lambda folder: ckpt.save_adapter(run.model, folder), replace=True
    )
    return _result(run, progress, "succeeded", adapter_dir, started, resumed_from)


# -- setting up --------------------------------------------------------------------------
def _load_base_model(folder: Path, dtype: str) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in DTYPES:
        raise InvalidRequest(f"dtype must be one of {', '.join(DTYPES)}", param="dtype")
    # Local safetensors only, and never code shipped with the weights. The tokenizer is
    # loaded exactly as serving loads it, so prompt token ids are the same.
    safe = {"local_files_only": True, "trust_remote_code": False}
    tokenizer = AutoTokenizer.from_pretrained(folder, **safe)
    model = AutoModelForCausalLM.from_pretrained(
        folder, dtype=getattr(torch, dtype), use_safetensors=True, **safe
    )
    model.config.use_cache = False  # a KV cache only costs memory when training
    return model, tokenizer


def _encode_training_set(
    tokenizer: Any, train: Sequence[Sequence[Message]], spec: ResolvedSpec
) -> EncodedSet:
    data = encode_examples(tokenizer, train, spec.max_seq_length)
    if not data.examples:
        raise InvalidRequest(
            f"no training example fits max_seq_length={spec.max_seq_length}", param="training_file"
        )
    return data


def _add_lora(model: Any, spec: ResolvedSpec) -> Any:
    from peft import get_peft_model

    try:
        wrapped = get_peft_model(model, lora_config(spec))
    except ValueError as exc:  # PEFT's word for "no such target module"
        names = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if _is_linear(m)})
        raise InvalidRequest(
            f"target_modules do not match the model; its linear layers are: {', '.join(names)}",
            param="method.lora.target_modules",
        ) from exc
    wrapped.train()
    return wrapped


def _is_linear(module: torch.nn.Module) -> bool:
    return isinstance(module, torch.nn.Linear)


def _narrow_logits(model: Any) -> bool:
    """Whether the model can compute logits for the last few positions only.

    It slices its hidden states to do that, and a strided input makes a bfloat16
    matmul on CPU ~20x slower (fp32 ~20%) than a contiguous one: the output layer gets
    its input made contiguous first.
    """
    base = model.get_base_model()
    if "logits_to_keep" not in inspect.signature(base.forward).parameters:
        return False
    head = base.get_output_embeddings()
    if head is not None:
        head.register_forward_pre_hook(_contiguous_inputs)
    return True


def _contiguous_inputs(module: torch.nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.contiguous() if isinstance(a, torch.Tensor) else a for a in args)


def _fingerprint(spec: ResolvedSpec, dtype: str, data: EncodedSet) -> str:
    """What a checkpoint must match to be resumed: same spec, dtype and token ids."""
    digest = hashlib.sha256(json.dumps([spec.to_dict(), dtype], sort_keys=True).encode())
    for example in data.examples:
        digest.update(json.dumps([example.prompt_length, example.input_ids]).encode())
    return digest.hexdigest()


def _resume(run: _Run) -> tuple[_Progress, int | None]:
    """Load the latest complete checkpoint, if any; the next step is its step + 1."""
    ckpt.remove_temporaries(run.checkpoints)
    latest = ckpt.latest_checkpoint(run.checkpoints)
    if latest is None:
        return _Progress(), None
    state = ckpt.read_json(latest.path / ckpt.STATE_FILE)
    if state.get("fingerprint") != run.fingerprint or state.get("format_version") != _FORMAT_VERSION:
        raise ModelyardError("the saved checkpoints belong to a different training run")
    ckpt.load_adapter(run.model, latest.path)
    ckpt.load_optimizer(run.optimizer, latest.path, state["optimizer"])
    progress = _Progress(**state["progress"])
    run.hooks.on_event(
        {
            "step": progress.step,
            "epoch": _epoch_of(run, progress.step),
            "total_steps": run.total_steps,
            "resumed_from_step": progress.step,
        }
    )
    return progress, progress.step


# -- one step ----------------------------------------------------------------------------
def _train_step(run: _Run, progress: _Progress, step: int) -> None:
    started = time.monotonic()
    # Dropout masks from (seed, step) alone: a resumed run draws the same ones.
    torch.manual_seed(run.spec.seed * 2**32 + step)
    for group in run.optimizer.param_groups:
        group["lr"] = run.schedule.learning_rate(step)
    examples = [run.data.examples[i] for i in _batch_indices(run, step)]
    n_labels = sum(e.completion_length for e in examples)
    loss_sum = correct = 0.0
    for rows in micro_batches(examples, MICRO_BATCH_TOKENS):
        losses, hits = _loss_and_hits(run, collate(rows, run.pad_id))
        # Divide by the whole batch's label count: the mean over every completion token
        # of the batch, however it was split.
        (losses / n_labels).backward()
        loss_sum, correct = loss_sum + float(losses.detach()), correct + hits
    trainable = [p for p in run.model.parameters() if p.requires_grad]
    torch.nn.utils.clip_grad_norm_(trainable, run.spec.max_grad_norm)
    run.optimizer.step()
    run.optimizer.zero_grad(set_to_none=True)

    if (step - 1) % run.steps_per_epoch == 0:
        progress.epoch_loss_sum, progress.epoch_steps = 0.0, 0
    progress.step = step
    progress.trained_tokens += sum(len(e.input_ids) for e in examples)
    progress.epoch_loss_sum += loss_sum / n_labels
    progress.epoch_steps += 1
    progress.train_loss = loss_sum / n_labels
    progress.train_accuracy = correct / n_labels
    run.step_times.append(time.monotonic() - started)


def _batch_indices(run: _Run, step: int) -> list[int]:
    epoch, index = divmod(step - 1, run.steps_per_epoch)
    return epoch_batches(len(run.data.examples), run.spec.batch_size, run.spec.seed, epoch)[index]


def _loss_and_hits(run: _Run, batch: Batch) -> tuple[torch.Tensor, float]:
    """Summed cross-entropy over the batch's label tokens, and how many argmax got right."""
    inputs = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "position_ids": batch.position_ids,
    }
    if run.narrow_logits:
        logits = run.model(**inputs, logits_to_keep=batch.logits_to_keep).logits
        labels = batch.labels[:, batch.labels.shape[1] - logits.shape[1] + 1 :]
    else:
        logits = run.model(**inputs).logits
        labels = batch.labels[:, 1:]
    logits = logits[:, :-1].float()
    losses = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
    )
    hits = ((logits.argmax(-1) == labels) & (labels != IGNORE_INDEX)).sum()
    return losses, float(hits)


def _evaluate(run: _Run, held_out: EncodedSet) -> tuple[float, float]:
    """Mean loss and token accuracy over every completion token of ``held_out``."""
    run.model.eval()  # no dropout
    loss_sum = hits = 0.0
    with torch.no_grad():
        for rows in micro_batches(held_out.examples, MICRO_BATCH_TOKENS):
            losses, correct = _loss_and_hits(run, collate(rows, run.pad_id))
            loss_sum, hits = loss_sum + float(losses), hits + correct
    run.model.train()
    n_labels = sum(e.completion_length for e in held_out.examples)
    return loss_sum / n_labels, hits / n_labels


# -- reporting and checkpoints -----------------------------------------------------------
def _report(run: _Run, progress: _Progress, step: int) -> None:
    """The step's event (every log_every_steps), and its checkpoint when one is due."""
    at_epoch_end = step % run.steps_per_epoch == 0
    due = step % run.spec.checkpoint_every_steps == 0 or at_epoch_end
    path, metrics = _checkpoint(run, progress, validate=True) if due else (None, {})
    if due or step % run.spec.log_every_steps == 0 or step == run.total_steps:
        run.hooks.on_event(_event(run, progress, step))
    if path is not None:
        run.hooks.on_checkpoint(step, path, metrics)


def _event(run: _Run, progress: _Progress, step: int) -> dict[str, Any]:
    window = run.step_times[-run.spec.log_every_steps :]
    window_tokens = sum(
        len(run.data.examples[i].input_ids)
        for s in range(step - len(window) + 1, step + 1)
        for i in _batch_indices(run, s)
    )
    mean_step = sum(run.step_times) / len(run.step_times)
    event: dict[str, Any] = {
        "step": step,
        "epoch": _epoch_of(run, step),
        "total_steps": run.total_steps,
        "train_loss": progress.train_loss,
        "train_mean_token_accuracy": progress.train_accuracy,
        "learning_rate": run.schedule.learning_rate(step),
        "tokens_per_s": window_tokens / max(sum(window), 1e-9),
        "trained_tokens": progress.trained_tokens,
        "eta_s": mean_step * (run.total_steps - step),
    }
    if progress.val_step == step:
        event["val_loss"] = progress.val_loss
    return event


def _epoch_of(run: _Run, step: int) -> int:
    """1-based epoch of ``step`` (0 before the first step)."""
    return 0 if step == 0 else (step - 1) // run.steps_per_epoch + 1


def _checkpoint(run: _Run, progress: _Progress, *, validate: bool) -> tuple[Path, dict[str, Any]]:
    """Write the checkpoint of ``progress.step`` (measuring the validation set first)."""
    metrics: dict[str, Any] = {
        "step": progress.step,
        "train_loss": progress.train_loss,
        "train_mean_token_accuracy": progress.train_accuracy,
    }
    if validate and run.validation is not None:
        val_loss, val_accuracy = _evaluate(run, run.validation)
        progress.val_loss, progress.val_step = val_loss, progress.step
        # OpenAI's checkpoint metric names; ours is measured on the full validation set.
        metrics |= {
            "valid_loss": val_loss,
            "valid_mean_token_accuracy": val_accuracy,
            "full_valid_loss": val_loss,
            "full_valid_mean_token_accuracy": val_accuracy,
        }

    def fill(folder: Path) -> None:
        ckpt.save_adapter(run.model, folder)
        optimizer_scalars = ckpt.save_optimizer(run.optimizer, folder)
        ckpt.write_json(folder / ckpt.STATE_FILE, _state(run, progress, optimizer_scalars, metrics))

    path = ckpt.write_atomically(ckpt.checkpoint_dir(run.checkpoints, progress.step), fill)
    return path, metrics


def _state(
    run: _Run, progress: _Progress, optimizer: dict[str, Any], metrics: dict[str, Any]
) -> dict[str, Any]:
    epoch, position = divmod(progress.step, run.steps_per_epoch)
    return {
        "format_version": _FORMAT_VERSION,
        "fingerprint": run.fingerprint,
        # A resume trains on in this format, whatever "auto" would choose today.
        "dtype": run.dtype,
        "progress": asdict(progress),
        # For people reading the file: resuming derives all of these from the step.
        "epoch": epoch,
        "batches_done_in_epoch": position,
        "total_steps": run.total_steps,
        "rng": {"scheme": "torch.manual_seed(seed * 2**32 + step) before each step", "seed": run.spec.seed},
        "learning_rate": run.schedule.learning_rate(max(progress.step, 1)),
        "spec": run.spec.to_dict(),
        "metrics": metrics,
        "optimizer": optimizer,
    }


def _result(
    run: _Run,
    progress: _Progress,
    status: Status,
    adapter_dir: Path | None,
    started: float,
    resumed_from: int | None,
) -> TrainResult:
    last_epoch_loss = progress.epoch_loss_sum / progress.epoch_steps if progress.epoch_steps else None
    return TrainResult(
        status=status,
        adapter_dir=adapter_dir,
        trained_tokens=progress.trained_tokens,
        steps=progress.step,
        total_steps=run.total_steps,
        train_loss=last_epoch_loss,
        val_loss=progress.val_loss,
        wall_s=time.monotonic() - started,
        resumed_from_step=resumed_from,
        dropped_examples=run.data.dropped,
        truncated_examples=run.data.truncated,
    )
