"""Video creatives: scene frames drawn with Pillow, encoded to H.264/AAC mp4 with PyAV, byte for byte reproducibly."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

from brand_pipeline.sample.drawing import default_font, gradient, ink, text_block
from brand_pipeline.sample.specs import BrandSpec, VideoSpec

_Y_LUT = [16 + (v * 219 + 127) // 255 for v in range(256)]  # full -> limited ("tv") range
_C_LUT = [16 + (v * 224 + 127) // 255 for v in range(256)]
_AUDIO_RATE = 22050
# Determinism: bit-exact muxing and encoding, and x264 on one thread with CPU-independent maths.
_CONTAINER_OPTIONS = {"fflags": "+bitexact"}
_X264_OPTIONS = {
    "preset": "medium",
    "crf": "30",
    "flags": "+bitexact",
    "x264-params": "threads=1:lookahead-threads=1:cpu-independent=1",
}


def _render_scene(brand: BrandSpec, size: tuple[int, int], scene: tuple[int, int, str]) -> Image.Image:
    """The still background of one video scene: flat or gradient colour, caption, brand name."""
    top, bottom = brand.palette[scene[0]], brand.palette[scene[1]]
    w, h = size
    img = gradient(size, top, bottom) if top != bottom else Image.new("RGB", size, top)
    d = ImageDraw.Draw(img)
    text_block(d, scene[2], (w // 10, h * 3 // 5, w - w // 10, h * 4 // 5), max(14, w // 11), ink(top, bottom))
    d.text((6, 6), brand.name, font=default_font(11), fill=ink(top))
    return img


def _frames(brand: BrandSpec, spec: VideoSpec) -> Iterator[Image.Image]:
    """All frames: scenes with hard cuts between them, a ball sliding across so that frames differ."""
    w, h = spec.size
    total = round(spec.seconds * spec.fps)
    r = w // 10
    for s, scene in enumerate(spec.scenes):
        background = _render_scene(brand, spec.size, scene)
        ball = brand.palette[0] if 3 in scene[:2] else brand.palette[3]
        for i in range(total * s // len(spec.scenes), total * (s + 1) // len(spec.scenes)):
            frame = background.copy()
            x = r + (w - 2 * r) * i // (total - 1)
            y = h * 2 // 5 + (h // 40) * (abs(i % 24 - 12) - 6)
            ImageDraw.Draw(frame).ellipse((x - r, y - r, x + r, y + r), fill=ball, outline=brand.palette[2], width=2)
            yield frame


def _yuv_frame(img: Image.Image) -> av.VideoFrame:
    """RGB -> yuv420p with Pillow's integer maths (swscale's SIMD paths may differ between CPUs)."""
    y, cb, cr = img.convert("YCbCr").split()
    planes = (y.point(_Y_LUT), cb.reduce(2).point(_C_LUT), cr.reduce(2).point(_C_LUT))
    frame = av.VideoFrame(img.width, img.height, "yuv420p")
    for plane, channel in zip(frame.planes, planes, strict=True):
        raw, width = channel.tobytes(), channel.width
        if plane.line_size != width:
            pad = bytes(plane.line_size - width)
            raw = b"".join(raw[row * width : (row + 1) * width] + pad for row in range(channel.height))
        plane.update(raw)
    return frame


def _tone(start: int, count: int, hz: int) -> bytes:
    """`count` float32 samples of a quiet sine tone starting at sample `start`."""
    samples = (
        0.2 * math.sin(2 * math.pi * ((i * hz) % _AUDIO_RATE) / _AUDIO_RATE) for i in range(start, start + count)
    )
    return struct.pack(f"<{count}f", *samples)


def write_video(path: Path, brand: BrandSpec, spec: VideoSpec) -> None:
    """Encode the video of `spec` to an mp4 at `path`: H.264, plus a mono AAC tone unless it is silent."""
    with av.open(str(path), "w", format="mp4", container_options=_CONTAINER_OPTIONS) as out:
        video = out.add_stream("libx264", rate=spec.fps, options=_X264_OPTIONS)
        video.width, video.height = spec.size
        video.pix_fmt = "yuv420p"
        video.codec_context.thread_count = 1
        audio = None
        if spec.tone_hz:
            audio = out.add_stream("aac", rate=_AUDIO_RATE, layout="mono", options={"flags": "+bitexact"})
            audio.bit_rate = 32000
        _mux_video(out, video, brand, spec)
        if audio is not None:
            _mux_tone(out, audio, spec)


def _mux_video(out: av.container.OutputContainer, video: av.VideoStream, brand: BrandSpec, spec: VideoSpec) -> None:
    for i, image in enumerate(_frames(brand, spec)):
        frame = _yuv_frame(image)
        frame.pts, frame.time_base = i, Fraction(1, spec.fps)
        out.mux(video.encode(frame))
    out.mux(video.encode(None))


def _mux_tone(out: av.container.OutputContainer, audio: av.AudioStream, spec: VideoSpec) -> None:
    total, chunk = round(spec.seconds * _AUDIO_RATE), audio.codec_context.frame_size
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        data = _tone(start, count, spec.tone_hz)
        frame.planes[0].update(data + bytes(frame.planes[0].buffer_size - len(data)))
        frame.sample_rate, frame.pts, frame.time_base = _AUDIO_RATE, start, Fraction(1, _AUDIO_RATE)
        out.mux(audio.encode(frame))
    out.mux(audio.encode(None))
