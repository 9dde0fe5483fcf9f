"""The domain core: brands, ads and their media, analysis kinds and outcomes, personas and evidence.

Everything else in the project speaks in these types. This package imports nothing of the project
(a layering test enforces it), so a source, a store or a model adapter can change without the
others noticing.
"""
