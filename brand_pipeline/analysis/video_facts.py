"""Exact facts about a video, measured with PyAV (FFmpeg): no model, no guessing."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import av
from PIL import ImageChops, ImageStat
from pydantic import BaseModel

from brand_pipeline.analysis.media_shape import Orientation, aspect_ratio, orientation

FACTS_VERSION = "video-facts-1"

# Mean absolute difference (0-255) between consecutive 32x18 grey thumbnails above which we call
# it a hard cut. Motion inside a shot stays well below; a scene change lands far above.
CUT_THRESHOLD = 30.0
_THUMB = (32, 18)


class VideoFacts(BaseModel):
    duration_s: float
    width: int
    height: int
    aspect_ratio: str
    orientation: Orientation
    fps: float
    frames: int
    video_codec: str
    has_audio: bool
    audio_codec: str | None
    cuts: int
    cut_times_s: list[float]
    average_shot_s: float
    pace: Literal["fast", "medium", "slow"]


class MediaDecodeError(ValueError):
    """The file is not a decodable video or image."""


def video_facts(path: Path) -> VideoFacts:
    """Decode every frame once to measure duration, frame rate, cuts and audio."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise MediaDecodeError("the file has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            audio = container.streams.audio[0] if container.streams.audio else None
            previous = None
            cut_times: list[float] = []
            frames = 0
            first_time = last_time = None
            for frame in container.decode(stream):
                frames += 1
                time = float(frame.time or 0.0)
                first_time = time if first_time is None else first_time
                last_time = time
                thumb = frame.to_image(width=_THUMB[0], height=_THUMB[1]).convert("L")
                if previous is not None:
                    difference = ImageStat.Stat(ImageChops.difference(thumb, previous)).mean[0]
                    if difference > CUT_THRESHOLD:
                        cut_times.append(round(time, 3))
                previous = thumb
            if frames == 0:
                raise MediaDecodeError("no frame could be decoded")
            fps = float(stream.average_rate or stream.guessed_rate or 0) or frames / max(last_time - first_time, 1e-6)
            duration = _duration(container, stream, frames, fps, first_time, last_time)
            width, height = stream.codec_context.width, stream.codec_context.height
            video_codec = stream.codec_context.name
            audio_codec = audio.codec_context.name if audio else None
    except av.error.FFmpegError as error:
        raise MediaDecodeError(f"FFmpeg could not decode the video: {error}") from error
    shots = len(cut_times) + 1
    average_shot = duration / shots
    return VideoFacts(
        duration_s=round(duration, 3),
        width=width,
        height=height,
        aspect_ratio=aspect_ratio(width, height),
        orientation=orientation(width, height),
        fps=round(fps, 3),
        frames=frames,
        video_codec=video_codec,
        has_audio=audio is not None,
        audio_codec=audio_codec,
        cuts=len(cut_times),
        cut_times_s=cut_times,
        average_shot_s=round(average_shot, 3),
        pace="fast" if average_shot < 1.5 else "medium" if average_shot < 4 else "slow",
    )


def _duration(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    frames: int,
    fps: float,
    first: float | None,
    last: float | None,
) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    if first is not None and last is not None and fps:
        return last - first + 1 / fps
    return frames / fps if fps else 0.0
