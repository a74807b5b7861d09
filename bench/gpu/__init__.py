"""Benchmarks for a machine with one GPU: SFT speed of the train/ recipe, EPITOME classifier fit and scoring
(`run.sh`)."""
