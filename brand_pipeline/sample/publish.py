"""Publishing the sample atomically: reuse an up-to-date set, else generate aside and rename it into place."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from brand_pipeline.sample.generate import generate_sample
from brand_pipeline.sample.manifest import GENERATOR_VERSION, SampleManifest, read_manifest

SampleGenerator = Callable[[Path], SampleManifest]
"""Writes a complete sample set into an empty or missing folder and returns its manifest."""


def ensure_sample(dest: Path, generate: SampleGenerator = generate_sample) -> SampleManifest:
    """Return the sample in `dest`, generating it first if it is missing or from another generator version.

    The set is generated in a temporary folder next to `dest` and renamed into place, so a crash or two
    concurrent callers never leave a half-written set. A non-empty `dest` without manifest.json is not
    ours and is left alone (FileExistsError). `generate` is `generate_sample` except in tests.
    """
    dest = Path(dest)
    current = read_manifest(dest)
    if current is not None and current.generator_version == GENERATOR_VERSION:
        return current
    _check_replaceable(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.new-", dir=dest.parent))
    try:
        manifest = generate(tmp)
        _publish(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # gone already if it was renamed into place
    return read_manifest(dest) or manifest


def _publish(tmp: Path, dest: Path) -> None:
    """Rename `tmp` to `dest`, moving a stale sample aside; accept a current one another caller put there."""
    for _ in range(10):
        try:
            os.rename(tmp, dest)  # atomic; fails while dest is a non-empty folder
            return
        except OSError:
            try:
                is_dir = stat.S_ISDIR(os.stat(dest).st_mode)
            except FileNotFoundError:  # another caller moved it aside meanwhile: try again
                continue
            if not is_dir:
                raise
        existing = read_manifest(dest)
        if existing is not None and existing.generator_version == GENERATOR_VERSION:
            return
        if not dest.exists():  # another caller moved it aside meanwhile: try again
            continue
        _check_replaceable(dest)
        stale = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        with contextlib.suppress(FileNotFoundError):  # another caller may have moved it already
            os.rename(dest, stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    raise RuntimeError(f"could not publish the sample to {dest}")


def _check_replaceable(dest: Path) -> None:
    """Only a missing or empty folder, or one holding a sample (manifest.json), may be replaced."""
    try:
        names = os.listdir(dest)  # one look, so a folder swapped in meanwhile cannot mix answers
    except FileNotFoundError:
        return
    except NotADirectoryError:
        names = [dest.name]
    if names and "manifest.json" not in names:
        raise FileExistsError(f"{dest} exists, is not empty and holds no sample manifest; not replacing it")
