"""DeepSpeed ZeRO distillation of students on the curated shards: data, recipes (SFT, DPO), launch, export.

Importing this package is cheap; torch, deepspeed and transformers are imported inside the functions that use them.
"""

from train.stage import run_train

__all__ = ["run_train"]
