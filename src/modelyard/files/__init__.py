"""Uploaded files (fine-tuning and evaluation data): storage, validation, splits."""

from modelyard.files.service import FilesService, ModelValidation
from modelyard.files.storage import FileStorage

__all__ = ["FileStorage", "FilesService", "ModelValidation"]
