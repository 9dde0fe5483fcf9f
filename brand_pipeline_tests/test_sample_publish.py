"""Publishing the sample: an up-to-date set is reused untouched, a stale one is replaced whole, concurrent
callers never leave a half-written or extra folder behind, and folders that are not ours are left alone."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from brand_pipeline.sample import GENERATOR_VERSION, SampleManifest, ensure_sample, generate_sample


def test_ensure_sample_skips_an_up_to_date_sample(generated: tuple[Path, SampleManifest], tmp_path: Path) -> None:
    dest = tmp_path / "sample"
    shutil.copytree(generated[0], dest)
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*")}

    def fail(_: Path) -> SampleManifest:
        raise AssertionError("regenerated an up-to-date sample")

    assert ensure_sample(dest, generate=fail) == generated[1]
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*")} == before


def test_ensure_sample_regenerates_on_version_change(
    generated: tuple[Path, SampleManifest], tmp_path: Path, folder_hashes: Callable[[Path], dict[str, str]]
) -> None:
    dest = tmp_path / "sample"
    shutil.copytree(generated[0], dest)
    old = json.loads((dest / "manifest.json").read_text())
    old["generator_version"] = "0-old"
    (dest / "manifest.json").write_text(json.dumps(old))
    (dest / "media" / "leftover.jpg").write_bytes(b"stale")
    manifest = ensure_sample(dest)
    assert manifest.generator_version == GENERATOR_VERSION
    assert folder_hashes(dest) == folder_hashes(generated[0])
    assert [p.name for p in tmp_path.iterdir()] == ["sample"]  # no temp folders left behind


@pytest.mark.parametrize("state", ["missing", "stale"])
def test_ensure_sample_concurrent_callers(
    generated: tuple[Path, SampleManifest], tmp_path: Path, state: str, folder_hashes: Callable[[Path], dict[str, str]]
) -> None:
    """Two callers generate at once (a fake, fast generator) and race to publish: one set wins, whole."""
    source, manifest = generated
    dest = tmp_path / "parent" / "sample"
    if state == "stale":
        shutil.copytree(source, dest)
        (dest / "manifest.json").write_text('{"generator_version": "0-old"}')
    both_generated = threading.Barrier(2, timeout=10)

    def fake_generate(target: Path) -> SampleManifest:
        shutil.copytree(source, target, dirs_exist_ok=True)
        both_generated.wait()  # publish only once both have a complete set
        return manifest

    results: list[object] = []

    def run() -> None:
        try:
            results.append(ensure_sample(dest, generate=fake_generate))
        except BaseException as exc:  # reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [manifest, manifest]
    assert folder_hashes(dest) == folder_hashes(source)
    assert [p.name for p in dest.parent.iterdir()] == ["sample"]  # no temp or stale folders left


def test_foreign_or_non_empty_folders_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        ensure_sample(tmp_path)
    with pytest.raises(FileExistsError):
        generate_sample(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
