"""Ruleset test cases (``*_test.yaml`` beside each ruleset) run as pytest items."""

from gridcore.rules.pytest_plugin import pytest_collect_file  # noqa: F401
