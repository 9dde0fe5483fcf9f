"""The three invented brands of the sample, in the order they are generated (their index seeds the ad ids)."""

from brand_pipeline.sample.brands.cairnpeak import CAIRNPEAK
from brand_pipeline.sample.brands.dewveil import DEWVEIL
from brand_pipeline.sample.brands.lumen_hollow import LUMEN_HOLLOW
from brand_pipeline.sample.specs import BrandSpec

BRANDS: tuple[BrandSpec, ...] = (LUMEN_HOLLOW, CAIRNPEAK, DEWVEIL)
