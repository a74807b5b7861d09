"""Record filters (`name` + `__call__(record) -> bool | (False, reason)`) and the loop that applies them."""

from distill.filters.base import Filter, apply_filters, drop, verdict

__all__ = ["Filter", "apply_filters", "drop", "verdict"]
