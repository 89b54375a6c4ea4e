"""OpenAI's fine-tuning jobs API, plus pause and resume, estimates, and publishing a checkpoint."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Response

from modelyard.api.deps import AuthenticatedRouter, PrincipalDep, ServicesDep
from modelyard.finetune.estimate import estimate
from modelyard.finetune.protocol import CreateJobIn, checkpoint_object, event_object, job_object
from modelyard.finetune.publishing import checkpoint_model_name, publish_checkpoint
from modelyard.finetune.service import FineTuningService

__all__ = ["router"]

router: APIRouter = AuthenticatedRouter(scope="fine_tuning", prefix="/v1/fine_tuning", tags=["fine-tuning"])


async def _service(services: ServicesDep) -> FineTuningService:
    return services.fine_tuning


FineTuningDep = Annotated[FineTuningService, Depends(_service)]
Limit = Annotated[int, Query(ge=1, le=100)]


def _page(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


@router.post("/jobs", status_code=200)
def create_job(body: CreateJobIn, principal: PrincipalDep, jobs: FineTuningDep) -> dict[str, Any]:
    return job_object(jobs.create(body, principal))


@router.get("/jobs")
def list_jobs(
    principal: PrincipalDep, jobs: FineTuningDep, after: str | None = None, limit: Limit = 20
) -> dict[str, Any]:
    rows, has_more = jobs.list(principal, after=after, limit=limit)
    phases = jobs.phases(rows)
    return _page([job_object(j) | {"phase": phases[j.id]} for j in rows], has_more)


@router.get("/jobs/{job_id}")
def get_job(job_id: str, principal: PrincipalDep, jobs: FineTuningDep) -> dict[str, Any]:
    job = jobs.get(job_id, principal)
    # Our addition to OpenAI's object: what an active job is doing (see PHASES).
    return job_object(job) | {"phase": jobs.phase(job)}


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, principal: PrincipalDep, jobs: FineTuningDep) -> dict[str, Any]:
    return job_object(jobs.cancel(job_id, principal))


@router.post("/jobs/{job_id}/pause")
def pause_job(job_id: str, principal: PrincipalDep, jobs: FineTuningDep) -> dict[str, Any]:
    return job_object(jobs.pause(job_id, principal))


@router.post("/jobs/{job_id}/resume")
def resume_job(job_id: str, principal: PrincipalDep, jobs: FineTuningDep) -> dict[str, Any]:
    return job_object(jobs.resume(job_id, principal))


@router.get("/jobs/{job_id}/events")
def list_events(
    job_id: str, principal: PrincipalDep, jobs: FineTuningDep, after: str | None = None, limit: Limit = 20
) -> dict[str, Any]:
    rows, has_more = jobs.events(job_id, principal, after=after, limit=limit)
    return _page([event_object(e) for e in rows], has_more)


@router.get("/jobs/{job_id}/checkpoints")
def list_checkpoints(
    job_id: str, principal: PrincipalDep, jobs: FineTuningDep, limit: Limit = 10
) -> dict[str, Any]:
    job, rows, has_more = jobs.checkpoints(job_id, principal, limit=limit)
    names = {c.step: checkpoint_model_name(job, principal.tenant_name, c.step) for c in rows}
    published = jobs.existing_models(list(names.values()))
    return _page(
        [checkpoint_object(c, job, names[c.step], names[c.step] in published) for c in rows], has_more
    )


@router.post("/jobs/{job_id}/checkpoints/{step}/publish")
async def publish_job_checkpoint(
    job_id: str,
    step: Annotated[int, Path(ge=1, le=10_000_000)],
    principal: PrincipalDep,
    services: ServicesDep,
) -> dict[str, Any]:
    """Publish a stored checkpoint of a finished or cancelled job as a model of the tenant
    (billing: see modelyard.finetune.publishing)."""
    name = await anyio.to_thread.run_sync(publish_checkpoint, services, job_id, step, principal)
    return {
        "object": "fine_tuning.job.checkpoint.published",
        "fine_tuning_job_id": job_id,
        "step_number": step,
        "model": name,
    }


@router.post("/estimates")
async def estimate_job(body: CreateJobIn, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """Trained tokens, time on this machine and cost of the job ``body`` would create."""
    result = await anyio.to_thread.run_sync(estimate, services, body, principal)
    return result.to_dict()


@router.get("/jobs/{job_id}/adapter", response_class=Response)
def download_adapter(job_id: str, principal: PrincipalDep, jobs: FineTuningDep) -> Response:
    """The tenant's own LoRA adapter as a zip of its safetensors weights and config."""
    model, files = jobs.adapter(job_id, principal)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)  # bare names: where it is stored stays private
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", model) + ".zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
