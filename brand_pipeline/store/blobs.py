"""``LocalBlobStore``: creatives in a local folder, content-addressed by sha256."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


class LocalBlobStore:
    """``<root>/<sha[:2]>/<sha><ext>``; writes are atomic renames, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def staging_dir(self) -> Path:
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        return staging

    async def put_file(self, source: Path, sha256: str, extension: str) -> str:
        blob_path = f"{sha256[:2]}/{sha256}{extension}"
        target = self.root / blob_path

        def move() -> None:
            if target.exists():
                source.unlink(missing_ok=True)  # same bytes already stored
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)

        await asyncio.to_thread(move)
        return blob_path

    async def exists(self, blob_path: str) -> bool:
        return await asyncio.to_thread((self.root / blob_path).is_file)

    @asynccontextmanager
    async def local_path(self, blob_path: str) -> AsyncIterator[Path]:
        path = self.root / blob_path
        if not path.is_file():
            raise FileNotFoundError(f"creative blob {blob_path} is missing from {self.root}")
        yield path
