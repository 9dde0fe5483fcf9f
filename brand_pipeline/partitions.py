"""One partition per brand, keyed by the brand's slug."""

import dagster as dg

brands_partitions = dg.DynamicPartitionsDefinition(name="brands")
