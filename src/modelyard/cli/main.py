"""The `modelyard` command."""

from __future__ import annotations

import typer

from modelyard.cli.admin import keys_app, tenants_app
from modelyard.cli.audit import audit_app, outbound_app
from modelyard.cli.chat import chat
from modelyard.cli.demo import demo_app
from modelyard.cli.evals import eval_app
from modelyard.cli.files import files_app
from modelyard.cli.finetune import finetune_app
from modelyard.cli.models import models_app
from modelyard.cli.quotas import quotas_app
from modelyard.cli.serve import serve
from modelyard.cli.usage import usage
from modelyard.cli.worker import worker
from modelyard.config import apply_offline_environment

__all__ = ["app"]

app = typer.Typer(help="modelyard: a self-hosted Model-as-a-Service platform.", no_args_is_help=True)


@app.callback()
def _offline() -> None:
    # Before any command imports the Hugging Face libraries.
    apply_offline_environment()


app.command("serve")(serve)
app.command("worker")(worker)
app.command("chat")(chat)
app.command("usage")(usage)
app.add_typer(models_app, name="models")
app.add_typer(tenants_app, name="tenants")
app.add_typer(keys_app, name="keys")
app.add_typer(files_app, name="files")
app.add_typer(finetune_app, name="finetune")
app.add_typer(eval_app, name="eval")
app.add_typer(demo_app, name="demo")
app.add_typer(audit_app, name="audit")
app.add_typer(outbound_app, name="outbound")
app.add_typer(quotas_app, name="quotas")

if __name__ == "__main__":
    app()
