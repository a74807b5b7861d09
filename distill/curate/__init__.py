"""The curate stage: filters, scorers, global dedup, sample windows, preference pairs, dataset card."""

from distill.curate.stage import run_curate

__all__ = ["run_curate"]
