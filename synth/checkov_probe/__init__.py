"""Builds the verify gate's inventory probe: an external checks directory passed to Checkov.

Checkov imports every module in this directory as a check; keep nothing else here.
"""
