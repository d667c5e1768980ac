"""Groundwork's custom Checkov policies; the verify gate passes this directory to Checkov.

Checkov imports every module below as a check (a module's name is its file name, so file
names are unique across clouds: `aws_*.py`); YAML files are graph policies.
"""
