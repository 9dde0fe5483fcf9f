"""What the scrape benchmark scrapes: distinct small creatives, Apify-style items, a file export."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image

from brand_pipeline_tests.fakes.apify import actor_item
from brand_pipeline_tests.fakes.cdn import FakeCDN

SHARED_MEDIA = 5  # creatives the memory runs' ads share (file export and Apify)


def creative_files(count: int) -> list[tuple[bytes, str, str]]:
    """``count`` distinct small images (body, content type, extension): every third a PNG, the rest JPEG."""
    files = []
    for i in range(count):
        colour = ((i * 37) % 256, (i * 91) % 256, (i // 7 * 53) % 256)
        image = Image.new("RGB", (48, 48), colour)
        image.putpixel((i % 48, i // 48 % 48), (255 - colour[0], i % 256, 0))  # distinct even if colours repeat
        buffer = io.BytesIO()
        png = i % 3 == 0
        image.save(buffer, format="PNG" if png else "JPEG", quality=85)
        files.append((buffer.getvalue(), "image/png" if png else "image/jpeg", "png" if png else "jpg"))
    return files


def serve_creatives(cdn: FakeCDN, count: int, prefix: str) -> list[str]:
    """Signed-looking URLs (as Meta's CDN hands them out) of ``count`` distinct creatives on ``cdn``."""
    urls = []
    for i, (body, content_type, extension) in enumerate(creative_files(count)):
        urls.append(cdn.serve(f"{prefix}/{i}.{extension}", body, content_type) + f"?oe=ffffffff&_nc_sig={i:08x}")
    return urls


def apify_item(ad_id: str, media_urls: list[str]) -> dict[str, Any]:
    """An item as the Ad Library actor returns it, with the fields a real one carries (~1.5 KB)."""
    return actor_item(
        ad_id,
        endDate=1_769_904_000,
        publisherPlatform=["FACEBOOK", "INSTAGRAM", "AUDIENCE_NETWORK", "MESSENGER"],
        collationID=f"c{ad_id}",
        collationCount=1,
        adLibraryURL=f"https://www.facebook.com/ads/library/?id={ad_id}",
        snapshot={
            "pageProfileUri": "https://www.facebook.com/acmecoffee/",
            "pageProfilePictureUrl": "https://scontent.xx.fbcdn.net/v/t39.30808-1/profile.jpg?oe=ffffffff",
            "pageCategories": ["Coffee shop", "Kitchen/cooking"],
            "pageLikeCount": 48211,
            "body": {"text": f"Hot coffee for 6 hours, cold brew for 24. Ad {ad_id}. Free shipping over $40. Shop now"},
            "title": "The mug that keeps it hot",
            "caption": "acme.example",
            "ctaText": "Shop now",
            "ctaType": "SHOP_NOW",
            "linkUrl": f"https://acme.example/shop?utm_source=facebook&utm_campaign=spring&utm_content={ad_id}",
            "linkDescription": "Double-walled steel, 12 oz, dishwasher safe",
            "displayFormat": "IMAGE" if media_urls else "TEXT",
            "images": [{"originalImageUrl": url, "resizedImageUrl": url} for url in media_urls],
            "videos": [],
            "cards": [],
            "extraTexts": [{"text": "Limited edition colours"}, {"text": "30-day returns"}],
            "extraLinks": ["https://acme.example/returns"],
            "brandedContent": None,
            "disclaimerLabel": None,
        },
    )


def write_export(folder: Path, slug: str, ads: int, first_id: int) -> None:
    """``<slug>.json``: a JSON array of ``ads`` Apify items sharing a few creatives kept next to it."""
    media = folder / "media"
    if not media.exists():
        media.mkdir(parents=True)
        for i, (body, _, extension) in enumerate(creative_files(SHARED_MEDIA)):
            (media / f"s{i}.{extension}").write_bytes(body)
    names = sorted(p.name for p in media.iterdir())
    with (folder / f"{slug}.json").open("w") as export:  # written item by item: the export can be large
        export.write("[\n")
        for n in range(ads):
            item = apify_item(str(first_id + n), [f"media/{names[n % len(names)]}"])
            export.write(("," if n else "") + json.dumps(item) + "\n")
        export.write("]\n")
