"""Tests that prove the promises of README's "Security and reliability" section (issue 12)."""
