"""Seed loaders: EmpatheticDialogues, ESConv, PsyQA/SoulChat single-turn, SoulChat transcripts, generic chat.

`iter_source` streams one configured source as Seed-or-Reject outcomes; `load_seeds` runs the stage
into a run folder; `summarize` counts without writing (for `distill seeds inspect`).
"""
