"""Scraping at scale; run it with ``python -m benchmarks.scrape_scale`` (see ``__main__``)."""
