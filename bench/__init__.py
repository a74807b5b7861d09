"""Benchmarks: each module measures side by side in one run and writes its figures with the command used."""
