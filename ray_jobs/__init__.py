"""Thin `ray job submit` entrypoints: `python -m ray_jobs.<stage> --config X.yaml [key=value ...]`.

Each one parses the config, calls the library, and turns the outcome into an exit code. Nothing imports
this package; it only sits on top of `distill` and `train`.
"""
