"""Custom Checkov policies for the Azure stack, one per file."""
