"""The packaged scenario suites: one folder per family, one YAML file per scenario.

Shipped in the wheel as ``groundsight.scenarios``; ``groundsight run FAMILY/NAME`` finds them from any directory.
"""
