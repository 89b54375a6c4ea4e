"""`modelyard serve`: the API (and, later, its job worker) in one process."""

from __future__ import annotations

import logging
import threading

import typer

from modelyard.backends.readiness import ModelState, Readiness
from modelyard.config import Settings
from modelyard.errors import ModelyardError
from modelyard.hardware import NumberFormats
from modelyard.home import exposure_warning

__all__ = ["serve"]

log = logging.getLogger("modelyard")


def _prepare_in_background(
    settings: Settings, formats: NumberFormats, import_builtins: bool, readiness: Readiness
) -> None:
    """Measure the number formats (logged; cached per machine), then convert gemma-3-270m
    once, so the first chat waits for neither. One after the other: the measurement would
    be disturbed by the conversion's load. The model is "importing" from the start (queued
    behind the measurement) until converted, in the API and the console."""
    from modelyard.backends.transformers import builtin_model_ready, ensure_builtin_model

    name = "gemma-3-270m"
    pending = import_builtins and not builtin_model_ready(name, settings.resolved_models_dir)
    if pending:
        readiness.report(name, ModelState("importing", phase="queued", progress=0.0))

    def run() -> None:
        if "auto" in (settings.torch_dtype, settings.train_dtype):
            try:
                formats.choice()
            except Exception:  # noqa: BLE001 - measured again on first use
                log.exception("measuring the number formats failed")
        if not pending:
            return
        try:
            ensure_builtin_model(name, settings.resolved_models_dir, readiness.importer(name))
        except Exception as exc:  # noqa: BLE001 - a failed import must not stop the server
            log.exception("importing gemma-3-270m failed; it will be retried on first use")
            reason = (
                exc.message if isinstance(exc, ModelyardError) else "the import failed; see the server log"
            )
            readiness.report(name, ModelState("failed", reason=f"{reason} (retried on the next call)"))

    threading.Thread(target=run, name="prepare-models", daemon=True).start()


def serve(
    host: str | None = typer.Option(None, "--host", help="Default 127.0.0.1 (MODELYARD_HOST)."),
    port: int | None = typer.Option(None, "--port", help="Default 8600 (MODELYARD_PORT)."),
    import_builtins: bool = typer.Option(
        True, "--import-builtins/--no-import-builtins", help="Convert gemma-3-270m at start if needed."
    ),
    with_worker: bool = typer.Option(True, "--worker/--no-worker", help="Also run a job worker process."),
) -> None:
    """Start the platform with its embedded defaults (SQLite and folders under MODELYARD_HOME)."""
    import uvicorn

    from modelyard.app import create_app
    from modelyard.jobs.supervisor import WorkerSupervisor
    from modelyard.services import build_services

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    services = build_services(settings)
    exposed = exposure_warning(settings.home)
    if exposed:
        log.warning(exposed)
    issued = services.tenancy.ensure_admin_key(settings.admin_key_file)
    if issued is not None:
        services.audit.admin("bootstrap_admin_key", detail={"key_id": issued.id, "tenant": issued.tenant})
        typer.echo(f"Created the platform admin key; it is in {settings.admin_key_file} (mode 600).")
    typer.echo(f"modelyard {settings.resolved_base_url}  home={settings.home}")
    _prepare_in_background(
        settings,
        services.pool.context.number_formats,
        import_builtins and settings.builtin_models,
        services.pool.readiness,
    )
    supervisor = WorkerSupervisor() if with_worker else None
    if supervisor:
        supervisor.start()
    try:
        uvicorn.run(
            create_app(settings, services),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
        )
    finally:
        if supervisor:
            supervisor.stop()
