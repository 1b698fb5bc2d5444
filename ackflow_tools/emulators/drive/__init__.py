"""A local stand-in for the Google Drive API v3 (shared drives, folders, files, uploads, copies),
speaking Drive's REST shapes so the official client runs unchanged. See docs/emulators.md."""

from .api import build_app
from .service import DriveService

__all__ = ["DriveService", "build_app"]
