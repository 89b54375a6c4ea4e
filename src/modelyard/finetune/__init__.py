"""Fine-tuning: the request's knobs (``spec``), their meaning (``build``), the data
(``data``), the training run (``runner``), and the job around it (``service``, ``job``).

Only the light parts are re-exported here: importing the package must not import
torch. The job imports :func:`modelyard.finetune.runner.train` when it trains.
"""

from modelyard.finetune.spec import ResolvedSpec, TrainSpec, resolve

__all__ = ["ResolvedSpec", "TrainSpec", "resolve"]
