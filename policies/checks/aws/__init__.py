"""Custom Checkov policies for the AWS stack, one per file."""
