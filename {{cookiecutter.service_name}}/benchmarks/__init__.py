"""Benchmarks: figures to read, not tests that pass or fail (`make bench`)."""
