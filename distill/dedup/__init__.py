"""Global dedup staged through files: exact normalized-text hash -> MinHash LSH (verified by exact Jaccard) ->
connected components -> one keeper per cluster (highest empathy, then smallest id) -> semantic pass with MiniLM."""

from distill.dedup.near import Duplicate, find_duplicates

__all__ = ["Duplicate", "find_duplicates"]
