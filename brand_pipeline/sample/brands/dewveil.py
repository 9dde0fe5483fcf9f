"""Dewveil Skin: a skincare brand's copy, creatives and ads (JSON array export, snake_case keys)."""

from brand_pipeline.sample.specs import AdCopy, AdSpec, BrandSpec, ImageSpec, VideoSpec

DEWVEIL = BrandSpec(
    slug="dewveil",
    name="Dewveil Skin",
    page_id="990000000000303",
    domain="dewveil.example",
    category="Health/beauty",
    likes=31_275,
    palette=((84, 42, 74), (186, 160, 220), (250, 226, 222), (120, 170, 140)),
    keys="snake",
    export_format="json",
    copy={
        "tight": AdCopy(
            "Dry, tight skin by noon? 😩 Your moisture barrier is asking for help.\n\nDewveil Barrier Serum "
            "pairs 3 ceramides with 5% niacinamide to lock moisture in, fragrance-free.\n\nVisible "
            "results in 14 days or your money back.",
            "Barrier Serum",
            "Visible results in 14 days",
            "SHOP_NOW",
            "/barrier-serum",
        ),
        "steps": AdCopy(
            "Join 60,000+ people who simplified their routine to 3 steps. ✨\n\nCleanse. Serum. SPF. "
            "That's it. No 10-step routines, no guesswork, just skin that behaves.",
            "The 3-step routine",
            "Cleanse · Serum · SPF",
            "SHOP_NOW",
            "/routine",
        ),
        "derm": AdCopy(
            "Dermatologists told us to keep it simple. So we made 1 serum that does the work of 4.\n\n"
            "Hydrates, calms redness, strengthens your barrier & preps for SPF. 🧴",
            "1 serum. 4 jobs.",
            "Dermatologist-developed",
            "LEARN_MORE",
            "/science",
        ),
        "greasy": AdCopy(
            "Heavy creams breaking you out? Our gel-cream sinks in in 30 seconds and leaves zero greasy "
            "film.\n\n20% off your first order, today only.",
            "20% off your first order",
            "Oil-free gel-cream",
            "GET_OFFER",
            "/gel-cream",
        ),
        "before": AdCopy(
            "Before: flaky, red, irritated. After 4 weeks: calm, dewy, even. 📸\n\nReal customer, no "
            "filter, no retouching. Results vary, but our 60-day guarantee doesn't.",
            "Real results in 4 weeks",
            "60-day money-back guarantee",
            "LEARN_MORE",
            "/reviews",
        ),
        "spf": AdCopy(
            "The sunscreen you'll actually wear every day. ☀️\n\nSPF 50, no white cast, no pilling under "
            "makeup. Free shipping over $50.",
            "SPF 50, no white cast",
            "Daily Veil SPF 50",
            "SHOP_NOW",
            "/daily-veil-spf50",
        ),
        "sensitive": AdCopy(
            "Sensitive skin? Every formula is tested on 100+ volunteers with rosacea- and eczema-prone "
            "skin. 🌿\n\nZero fragrance. Zero essential oils. Buy 2, get 1 free on all moisturisers.",
            "Made for sensitive skin",
            "Buy 2, get 1 free",
            "SHOP_NOW",
            "/sensitive",
        ),
        "tmpl": AdCopy(
            "{{product.name}} is back in stock! Use code {{promo_code}} at checkout for {{discount}} off. 💧",
            "{{product.name}} is back",
            "Back in stock",
            "SHOP_NOW",
            "/restock",
        ),
    },
    cards={
        "hero": ("Barrier Serum", "Ceramides + 5% niacinamide.", "SHOP_NOW"),
        "portrait": ("Week 0 → week 4", "Calm, dewy, even.", "LEARN_MORE"),
        "swatch": ("Gel-cream texture", "Sinks in in 30 seconds.", "SHOP_NOW"),
        "banner": ("Daily Veil SPF 50", "No white cast, no pilling.", "SHOP_NOW"),
        "!removed-card.png": ("Week 8", "Still calm. Still dewy.", "LEARN_MORE"),
    },
    images=(
        ImageSpec("hero", "square", "JPEG", "bottle", "Barrier Serum"),
        ImageSpec("portrait", "portrait", "JPEG", "drops", "Results in 14 days"),
        ImageSpec("banner", "landscape", "PNG", "bottle", "SPF 50 · No white cast"),
        ImageSpec("swatch", "square", "PNG", "drops", "3 steps. That's it."),
    ),
    videos=(
        VideoSpec(
            "routine",
            size=(240, 240),
            fps=24,
            seconds=3.5,
            tone_hz=0,
            poster="hero",
            scenes=((2, 1, "Dry, tight skin?"), (0, 0, "Meet Barrier Serum"), (2, 3, "Results in 14 days")),
        ),
        VideoSpec(
            "glow",
            size=(180, 320),
            fps=30,
            seconds=2.0,
            tone_hz=523,
            poster="portrait",
            scenes=((0, 1, "Cleanse. Serum. SPF."), (2, 2, "Join 60,000+")),
        ),
    ),
    ads=(
        AdSpec("tight", "IMAGE", ("hero",), "2026-01-08", None),
        AdSpec("tight", "VIDEO", ("routine",), "2026-01-11", 128),
        AdSpec("greasy", "IMAGE", ("swatch",), "2026-03-28", None, bad="invalid_snapshot:list"),
        AdSpec("steps", "VIDEO", ("glow",), "2026-03-15", None),
        AdSpec("derm", "IMAGE", ("hero",), "2026-01-25", 3, "F", markup=True),
        AdSpec("greasy", "IMAGE", ("portrait", "swatch"), "2026-04-02", 10, "FIA"),
        AdSpec("steps", "VIDEO", ("!expired.mp4",), "2026-02-06", 40, bad="broken_media"),
        AdSpec("before", "CAROUSEL", ("portrait", "swatch", "hero"), "2026-02-28", None),
        AdSpec("spf", "IMAGE", ("banner",), "2026-05-05", None, bad="missing_ad_id"),
        AdSpec("spf", "IMAGE", ("banner",), "2026-05-05", None),
        AdSpec("before", "VIDEO", ("!truncated.mp4",), "2026-03-02", 25, bad="broken_media"),
        AdSpec("steps", "IMAGE", ("swatch",), "2026-03-20", 45, "I"),
        AdSpec("before", "CAROUSEL", ("portrait", "!removed-card.png"), "2026-04-09", None, bad="missing_media"),
        AdSpec("sensitive", "DCO", ("hero", "banner"), "2026-04-22", None, "FIM"),
        AdSpec("tmpl", "IMAGE", ("hero",), "2026-05-14", 4, bad="template_copy"),
        AdSpec("tight", "VIDEO", ("routine",), "2026-05-28", 3),
    ),
)
