"""Deadline and reporting-obligation scheduler for government action plans."""

__version__ = "0.1.0"
