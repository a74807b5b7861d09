"""The text toolkit filters, scorers, dedup and evaluation share: dialogue views, normalization, cue lexicons, RE2
matching and sentiment. It imports nothing from those packages, so the arrows point one way."""
