"""Tests that prove the reliability promises of README's "Security and reliability" section (issue 12)."""
