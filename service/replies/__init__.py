"""Drafting a public reply (sandboxed Jinja2, the review only as data) and the policy
guard that every reply passes before it may be approved or posted.

Pure: no database, no HTTP. May import the shared modules and service.reading.
"""
