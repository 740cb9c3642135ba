"""Guanxi: an open-source CRM with customer-value analytics built in."""

__version__ = "0.1.0"
