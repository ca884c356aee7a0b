"""Offline runs: replay, rescore, reports and batches over recorded frame sets."""
