"""The marketers' numbers: periods and buckets, topic tagging, the roll-up tables kept
up to date after each change (write side), the report (read side) and its exports.

May import the shared modules and service.reading.
"""
