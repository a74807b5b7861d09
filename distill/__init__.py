"""empathy-distill: seed dialogues -> teacher LLM on Ray -> curated empathetic dialogues -> distilled students."""

__version__ = "0.1.0"
