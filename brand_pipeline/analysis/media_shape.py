"""Aspect ratio and orientation, shared by image and video facts."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

# Ratios ad platforms ask for; a creative within 3 % of one is reported by its name.
_COMMON_RATIOS = {
    "9:16": 9 / 16,
    "4:5": 4 / 5,
    "2:3": 2 / 3,
    "1:1": 1.0,
    "4:3": 4 / 3,
    "3:2": 3 / 2,
    "16:9": 16 / 9,
    "1.91:1": 1.91,
}

Orientation = Literal["vertical", "square", "horizontal"]


def aspect_ratio(width: int, height: int) -> str:
    ratio = width / height
    name, value = min(_COMMON_RATIOS.items(), key=lambda item: abs(item[1] - ratio))
    if abs(value - ratio) / value <= 0.03:
        return name
    exact = Fraction(width, height).limit_denominator(32)
    return f"{exact.numerator}:{exact.denominator}"


def orientation(width: int, height: int) -> Orientation:
    ratio = width / height
    if ratio < 0.95:
        return "vertical"
    if ratio > 1.05:
        return "horizontal"
    return "square"
