"""Policies that hold on every cloud and judge any resource type, one per file."""
