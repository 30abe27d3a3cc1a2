"""A local OpenAI `/v1/files`: the uploads and downloads of the Batch API (openai.md §4).

Multipart upload with `purpose` and `file` (a `.jsonl` name for `purpose=batch`, else the
documented 400), retrieve, content download and delete. Files live in memory. Batch
output and error files are added by the batch simulator through `FileStore.add`.
Faults for crash tests: `download_delay_ms` slows every content download, and the first
`error_file_resets` downloads of error files lose their connection.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from frontscan.simulator.stats import SimStats

PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})
BATCH_FILE_TTL = 30 * 86_400  # purpose=batch files expire after 30 days by default
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # OpenAI's per-file upload limit


@dataclass(slots=True)
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int
    expires_at: int | None

    def body(self) -> dict[str, object]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": self.expires_at,
            "status_details": None,
        }


def error_response(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return web.json_response(body, status=status)


def no_such_file(file_id: str) -> web.Response:
    return error_response(404, f"No such File object: {file_id}", param="id")


class FileStore:
    """Every file the simulator holds, by id; `clock` gives the simulated Unix time."""

    def __init__(
        self,
        clock: Callable[[], float],
        stats: SimStats,
        *,
        download_delay_ms: float = 0.0,
        error_file_resets: int = 0,
    ) -> None:
        self.files: dict[str, StoredFile] = {}
        self._clock = clock
        self._stats = stats
        self._delay = download_delay_ms / 1000
        self._resets_left = error_file_resets

    def add(
        self, filename: str, purpose: str, content: bytes, ttl: int | None = None
    ) -> StoredFile:
        now = int(self._clock())
        stored = StoredFile(
            f"file-{secrets.token_hex(11)}",
            filename,
            purpose,
            content,
            now,
            now + ttl if ttl is not None else None,
        )
        self.files[stored.id] = stored
        return stored

    async def upload(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        purpose, upload = form.get("purpose"), form.get("file")
        if not isinstance(upload, web.FileField):
            return error_response(
                400,
                "Missing required parameter: 'file'.",
                code="missing_required_parameter",
                param="file",
            )
        if not isinstance(purpose, str) or purpose not in PURPOSES:
            return error_response(
                400,
                f"{purpose!r} is not one of {sorted(PURPOSES)} - 'purpose'",
                code="invalid_value" if purpose else "missing_required_parameter",
                param="purpose",
            )
        filename = upload.filename or "upload"
        if purpose == "batch" and not filename.endswith(".jsonl"):
            return error_response(400, "Invalid file format for Batch API. Must be .jsonl")
        ttl = _expires_after(form) if "expires_after[seconds]" in form else None
        if isinstance(ttl, web.Response):
            return ttl
        if ttl is None and purpose == "batch":
            ttl = BATCH_FILE_TTL
        stored = self.add(filename, purpose, upload.file.read(), ttl)
        return web.json_response(stored.body())

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return no_such_file(request.match_info["file_id"])
        return web.json_response(stored.body())

    async def delete(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        if self.files.pop(file_id, None) is None:
            return no_such_file(file_id)
        return web.json_response({"id": file_id, "object": "file", "deleted": True})

    async def content(self, request: web.Request) -> web.StreamResponse:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            return no_such_file(request.match_info["file_id"])
        if self._delay:
            await asyncio.sleep(self._delay)
        if stored.filename.endswith("_error.jsonl") and self._resets_left > 0:
            self._resets_left -= 1
            self._stats.faults["download_reset"] += 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never delivered: the socket is gone
        return web.Response(body=stored.content, content_type="application/octet-stream")


def _expires_after(form: MultiDictProxy[Any]) -> int | web.Response:
    raw = form.get("expires_after[seconds]")
    anchor = form.get("expires_after[anchor]")
    seconds = int(raw) if isinstance(raw, str) and raw.isdigit() else -1
    if anchor != "created_at" or not 3600 <= seconds <= 2_592_000:
        return error_response(
            400,
            "expires_after must have anchor 'created_at' and seconds from 3600 to 2592000.",
            code="invalid_value",
            param="expires_after",
        )
    return seconds


def add_file_routes(app: web.Application, store: FileStore) -> None:
    app.router.add_post("/v1/files", store.upload)
    app.router.add_get("/v1/files/{file_id}", store.retrieve)
    app.router.add_delete("/v1/files/{file_id}", store.delete)
    app.router.add_get("/v1/files/{file_id}/content", store.content)
