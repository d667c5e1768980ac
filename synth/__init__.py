"""Groundwork's own tooling: the environment schema, provider loading and the verify gate."""
