"""Benchmarks: run each as ``python -m benchmarks.NAME --help`` from the repository root."""
