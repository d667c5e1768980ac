"""Custom Checkov policies for the GCP stack, one per file."""
