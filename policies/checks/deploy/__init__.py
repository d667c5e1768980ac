"""Deployability policies (DEPLOY-1..6) that hold on every cloud, one per file."""
