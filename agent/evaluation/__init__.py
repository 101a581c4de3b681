"""Evaluation: many episodes into success rates, the worker pool, ablations and reports."""
