"""Lumen Hollow Coffee: a coffee roaster's copy, creatives and ads (NDJSON export, snake_case keys)."""

from brand_pipeline.sample.specs import AdCopy, AdSpec, BrandSpec, ImageSpec, VideoSpec

LUMEN_HOLLOW = BrandSpec(
    slug="lumen-hollow",
    name="Lumen Hollow Coffee",
    page_id="990000000000101",
    domain="lumenhollow.example",
    category="Coffee shop",
    likes=18_430,
    palette=((59, 36, 26), (196, 132, 72), (244, 231, 211), (38, 110, 108)),
    keys="snake",
    export_format="ndjson",
    copy={
        "burnt": AdCopy(
            "Why does your morning coffee taste burnt? ☕\n\nMost supermarket beans were roasted months "
            "before they hit the shelf. Ours ship within 48 hours of roasting, so you taste chocolate and "
            "cherry, not bitterness.\n\n👉 20% off your first bag with code MORNING20.",
            "Coffee that tastes like coffee",
            "Roasted to order. Ships in 48 hours.",
            "SHOP_NOW",
            "/shop",
        ),
        "crash": AdCopy(
            "Join 40,000+ coffee drinkers who quit the 3pm crash. 🙌\n\nOur low-acid Daybreak blend is "
            "gentle on your stomach and smooth enough to drink black. No jitters, no heartburn, just a "
            "clean, steady lift.\n\nFree shipping on orders over $50.",
            "Low-acid. Full flavour.",
            "Gentle on your stomach",
            "SHOP_NOW",
            "/daybreak",
        ),
        "pods": AdCopy(
            "3 reasons our subscribers never went back to pods:\n\n1️⃣ Roasted fresh every single week\n"
            "2️⃣ Skip, swap or cancel in two clicks\n3️⃣ 100% compostable bags ♻️\n\nStart your "
            "subscription today and your first bag is on us.",
            "Your first bag is on us",
            "Flexible coffee subscription",
            "SUBSCRIBE",
            "/subscribe",
        ),
        "coldbrew": AdCopy(
            "The smoothest cold brew you'll ever make at home. Period.\n\nSteep our coarse-ground Night "
            "Shift blend for 12 hours, pour over ice, done. 🧊\n\nBuy 2 bags, get the 3rd free. This "
            "week only.",
            "Buy 2, get 1 free",
            "Night Shift cold brew blend",
            "SHOP_NOW",
            "/night-shift",
        ),
        "cafe": AdCopy(
            "Spending $6 a day at the café? That's $2,190 a year. 😬\n\nBrew barista-quality coffee at "
            "home for under $1 a cup, with fresh beans delivered on your schedule.",
            "Café taste. Home price.",
            "Under $1 a cup",
            "LEARN_MORE",
            "/how-it-works",
        ),
        "review": AdCopy(
            '"I honestly didn\'t know coffee could taste like this." (Maya R., verified subscriber) '
            "⭐⭐⭐⭐⭐\n\nNot sure where to start? The Origins Sampler: 4 single-origin coffees, one box, "
            "free shipping.",
            "Try the Origins Sampler",
            "4 coffees, 1 box",
            "ORDER_NOW",
            "/sampler",
        ),
        "microlot": AdCopy(
            "Only 600 bags of our Ethiopia Guji micro-lot this season. 🫐\n\nBlueberry, jasmine, "
            "wildflower honey. Once it's gone, it's gone.",
            "Limited: Ethiopia Guji",
            "Micro-lot, 600 bags only",
            "SHOP_NOW",
            "/guji",
        ),
        "tmpl": AdCopy(
            "Meet {{product.name}}, roasted fresh for you, {{customer.first_name}}! ☕ Order today and "
            "save {{discount}}.",
            "{{product.name}} | Lumen Hollow",
            "Fresh coffee",
            "SHOP_NOW",
            "/shop",
        ),
    },
    cards={
        "hero": ("Daybreak · Low-acid", "Smooth, sweet, easy on the stomach.", "SHOP_NOW"),
        "portrait": ("Night Shift · Cold brew", "Chocolate-forward and built for ice.", "SHOP_NOW"),
        "sampler": ("Origins Sampler", "4 single-origin coffees in one box.", "ORDER_NOW"),
        "banner": ("Free shipping over $50", "On every order, every day.", "SHOP_NOW"),
        "beans": ("Watch the roast", "From green bean to your door in 48 hours.", "LEARN_MORE"),
    },
    images=(
        ImageSpec("hero", "square", "JPEG", "mug", "Roasted 48 hours ago"),
        ImageSpec("portrait", "portrait", "JPEG", "beans", "20% off your first bag"),
        ImageSpec("banner", "landscape", "PNG", "mug", "Free shipping over $50"),
        ImageSpec("sampler", "square", "PNG", "beans", "4 origins. 1 box."),
    ),
    videos=(
        VideoSpec(
            "pour",
            size=(180, 320),
            fps=24,
            seconds=3.0,
            tone_hz=440,
            poster="portrait",
            scenes=((0, 1, "Tired of bitter coffee?"), (2, 2, "Roasted 48 h ago"), (0, 0, "20% off: MORNING20")),
        ),
        VideoSpec(
            "beans",
            size=(240, 240),
            fps=30,
            seconds=2.0,
            tone_hz=0,
            poster="hero",
            scenes=((2, 1, "Low-acid. Full flavour."), (0, 3, "Join 40,000+ drinkers")),
        ),
    ),
    ads=(
        AdSpec("burnt", "IMAGE", ("hero",), "2026-01-06", 132),
        AdSpec("burnt", "VIDEO", ("pour",), "2026-02-02", None),
        AdSpec("crash", "IMAGE", ("portrait", "banner"), "2026-01-15", 45, "FIA"),
        AdSpec("burnt", "IMAGE", ("hero",), "2026-03-10", 3, "F"),
        AdSpec("burnt", "IMAGE", ("hero",), "2026-03-12", 20, bad="missing_ad_id"),
        AdSpec("pods", "VIDEO", ("pour",), "2026-04-01", None),
        AdSpec("coldbrew", "CAROUSEL", ("portrait", "sampler", "banner"), "2026-05-01", None),
        AdSpec("crash", "IMAGE", ("portrait",), "2026-04-11", 9, bad="invalid_json"),
        AdSpec("cafe", "IMAGE", ("banner",), "2026-02-20", 3, "F", markup=True),
        AdSpec("review", "IMAGE", ("sampler",), "2026-02-25", None, bad="invalid_snapshot:missing"),
        AdSpec("review", "DCO", ("sampler", "hero"), "2026-03-01", 60),
        AdSpec("pods", "VIDEO", ("!expired.mp4",), "2026-03-18", 12, bad="broken_media"),
        AdSpec("crash", "VIDEO", ("beans",), "2026-04-18", 14, "I"),
        AdSpec("coldbrew", "VIDEO", ("!truncated.mp4",), "2026-05-09", None, bad="broken_media"),
        AdSpec("cafe", "IMAGE", ("!removed.jpg",), "2026-01-28", 7, bad="missing_media"),
        AdSpec("microlot", "CAROUSEL", ("portrait", "beans"), "2026-05-20", None, "FIM"),
        AdSpec("tmpl", "IMAGE", ("sampler",), "2026-04-27", 5, bad="template_copy"),
    ),
)
