"""Cairnpeak Outfitters: an outdoor gear brand's copy, creatives and ads (NDJSON export, camelCase keys)."""

from brand_pipeline.sample.specs import AdCopy, AdSpec, BrandSpec, ImageSpec, VideoSpec

CAIRNPEAK = BrandSpec(
    slug="cairnpeak",
    name="Cairnpeak Outfitters",
    page_id="990000000000202",
    domain="cairnpeak.example",
    category="Outdoor & sporting goods company",
    likes=52_910,
    palette=((28, 64, 48), (74, 98, 118), (238, 242, 244), (232, 116, 38)),
    keys="camel",
    export_format="ndjson",
    copy={
        "hurt": AdCopy(
            "Your pack shouldn't hurt more than the climb. 🏔️\n\nThe Ridgeback 28L carries like half the "
            "weight: ventilated back panel, load lifters, and hip-belt pockets you can actually reach "
            "while walking.\n\nFree shipping + free returns.",
            "The Ridgeback 28L",
            "Carry more. Feel less.",
            "SHOP_NOW",
            "/packs/ridgeback-28",
        ),
        "rain": AdCopy(
            "Rain at 2,000 m? Not your problem anymore. 🌧️\n\nThe Stormline shell is 20K waterproof, "
            "weighs 310 g and packs into its own pocket. Tested over 400+ miles of the Pacific Crest "
            "Trail.",
            "Stormline Shell: 310 g",
            "20K waterproof, packs to fist size",
            "SHOP_NOW",
            "/jackets/stormline",
        ),
        "five": AdCopy(
            "5 things we never hike without:\n\n1. A headlamp (with fresh batteries)\n2. A shell that "
            "actually keeps rain out\n3. Spare socks 🧦\n4. Electrolytes\n5. A pack that doesn't wreck "
            "your shoulders\n\nWe make two of them. Shop the trail kit 👇",
            "The trail kit",
            "Everything for your next day hike",
            "LEARN_MORE",
            "/trail-kit",
        ),
        "repair": AdCopy(
            "Join 25,000+ hikers who switched to gear built to be repaired, not replaced.\n\nLifetime "
            "warranty. Free repairs. Forever. If it breaks on the trail, we fix it: no receipts, no "
            "questions.",
            "Built to be repaired",
            "Lifetime warranty on every pack",
            "LEARN_MORE",
            "/warranty",
        ),
        "sale": AdCopy(
            "END OF SEASON SALE ⏰ Up to 40% off packs, shells and base layers.\n\nEnds Sunday at "
            "midnight. Free shipping over $50.",
            "Up to 40% off, ends Sunday",
            "End of season sale",
            "GET_OFFER",
            "/sale",
        ),
        "cheap": AdCopy(
            "Cheap gear is expensive.\n\nThat $40 jacket leaked on day one and tore on day three. Ours is "
            "guaranteed for life, or we repair it free. Buy once, hike for decades.",
            "Buy once. Hike for decades.",
            "Guaranteed for life",
            "SHOP_NOW",
            "/jackets",
        ),
        "weekend": AdCopy(
            "Weekend plans? Pack light. 🎒\n\nThe Summit Day Kit bundles our 18L pack, insulated bottle "
            "and emergency bivy. Buy 2 items, get the 3rd free.",
            "Buy 2, get the 3rd free",
            "Summit Day Kit",
            "SHOP_NOW",
            "/summit-day-kit",
        ),
        "tmpl": AdCopy(
            "Hey {{first_name}}, your {{product.name}} is still waiting in your cart! 🛒 Complete your "
            "order before {{offer_end_date}}.",
            "{{product.name}}",
            "Complete your order",
            "SHOP_NOW",
            "/cart",
        ),
    },
    cards={
        "hero": ("Ridgeback 28L", "Vented back, load lifters, reachable pockets.", "SHOP_NOW"),
        "shell": ("Stormline Shell", "20K waterproof at 310 g.", "SHOP_NOW"),
        "kit": ("Summit Day Kit", "Pack, bottle and bivy in one bundle.", "SHOP_NOW"),
        "banner": ("Up to 40% off", "End of season. Ends Sunday.", "GET_OFFER"),
        "pack": ("See it packed", "Everything fits. Nothing rattles.", "LEARN_MORE"),
    },
    images=(
        ImageSpec("hero", "square", "JPEG", "mountains", "Carry more. Feel less."),
        ImageSpec("shell", "portrait", "JPEG", "pack", "Waterproof at 310 g"),
        ImageSpec("banner", "landscape", "PNG", "mountains", "Up to 40% off"),
        ImageSpec("kit", "square", "PNG", "pack", "Summit Day Kit"),
        ImageSpec("ridge", "portrait", "JPEG", "mountains", "Lifetime warranty"),
    ),
    videos=(
        VideoSpec(
            "trail",
            size=(180, 320),
            fps=30,
            seconds=4.0,
            tone_hz=330,
            poster="ridge",
            scenes=(
                (0, 1, "Your pack hurts?"),
                (2, 2, "Try the Ridgeback 28L"),
                (0, 0, "Load lifters. Vented back."),
                (2, 3, "Free returns"),
            ),
        ),
        VideoSpec(
            "rain",
            size=(240, 240),
            fps=24,
            seconds=2.5,
            tone_hz=220,
            poster="shell",
            scenes=((1, 0, "Rain at 2,000 m?"), (2, 2, "20K waterproof")),
        ),
        VideoSpec(
            "pack",
            size=(180, 320),
            fps=24,
            seconds=3.0,
            tone_hz=0,
            poster="kit",
            scenes=((2, 2, "Summit Day Kit"), (0, 1, "18L pack + bottle + bivy"), (3, 3, "Buy 2, get 1 free")),
        ),
    ),
    ads=(
        AdSpec("hurt", "VIDEO", ("trail",), "2026-01-12", 140),
        AdSpec("rain", "IMAGE", ("shell",), "2026-03-02", 30, bad="missing_ad_id"),
        AdSpec("hurt", "IMAGE", ("hero",), "2026-02-03", None),
        AdSpec("rain", "VIDEO", ("rain",), "2026-03-03", 21, "FIA"),
        AdSpec("five", "CAROUSEL", ("hero", "shell", "kit", "banner"), "2026-04-05", None),
        AdSpec("sale", "IMAGE", ("banner",), "2026-05-20", 3, bad="invalid_snapshot:null"),
        AdSpec("repair", "IMAGE", ("ridge",), "2026-01-20", None, markup=True),
        AdSpec("cheap", "VIDEO", ("!expired.mp4",), "2026-02-10", 18, bad="broken_media"),
        AdSpec("sale", "IMAGE", ("banner",), "2026-05-22", 3, "F"),
        AdSpec("sale", "IMAGE", ("banner",), "2026-05-22", 3, "I"),
        AdSpec("cheap", "VIDEO", ("trail", "rain"), "2026-02-14", 30),
        AdSpec("weekend", "VIDEO", ("!truncated.mp4",), "2026-04-15", None, bad="broken_media"),
        AdSpec("weekend", "DCO", ("kit", "pack"), "2026-04-20", None, "FIM"),
        AdSpec("rain", "VIDEO", ("!teaser-old.mp4",), "2026-01-30", 6, bad="missing_media"),
        AdSpec("hurt", "VIDEO", ("trail",), "2026-05-02", None, "I"),
        AdSpec("tmpl", "IMAGE", ("kit",), "2026-05-12", None, bad="template_copy"),
    ),
)
