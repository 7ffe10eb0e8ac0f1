# -*- test-case-name: tests.observability.test_site -*-
"""C{/ui/}: the web UI's static files, shipped in the package (no build step, no CDN).

The page (C{ui/index.html}, C{ui/app.js}, C{ui/style.css}) draws everything
from the JSON API with C{textContent}, never as markup; the
Content-Security-Policy header lets it load and fetch only from this
listener.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.web.static import File

#: The directory of the UI's files.
UI_DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ui")

_POLICY = b"default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'"


class UiResource(File):
    """The UI's directory, served with a strict content security policy and no listing."""

    def __init__(self, path: str = UI_DIRECTORY) -> None:
        super().__init__(path)
        self.contentTypes = dict(self.contentTypes, **{".js": "text/javascript; charset=utf-8",
                                                         ".css": "text/css; charset=utf-8",
                                                         ".html": "text/html; charset=utf-8"})

    def render_GET(self, request: Any) -> Any:
        """Serve the file with the security headers."""
        request.setHeader(b"content-security-policy", _POLICY)
        request.setHeader(b"x-content-type-options", b"nosniff")
        return super().render_GET(request)

    def directoryListing(self) -> Any:
        """No directory listings: only the UI's own files are served."""
        return self.forbidden

    def createSimilarFile(self, path: str) -> File:
        """Children are served the same way."""
        child = UiResource(path)
        child.processors = self.processors
        return child
