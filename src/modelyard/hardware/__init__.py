"""This machine's CPU, and the number formats and threads that are fastest on it."""

from modelyard.hardware.choice import FormatChoice, choose
from modelyard.hardware.cpu import CpuIdentity, available_cores, describe_cpu
from modelyard.hardware.formats import NumberFormats, apply_threads

__all__ = [
    "CpuIdentity",
    "FormatChoice",
    "NumberFormats",
    "apply_threads",
    "available_cores",
    "choose",
    "describe_cpu",
]
