"""Plumbing that every layer of both apps may use: the domain error types and their codes
(`errors`), the audit record (`audit`), transactions that retry on deadlock (`transactions`), and
the HTTP helpers shared by pages and API (`http`: the 303 redirect, the authenticated request type,
problem details, the 404 and 500 handlers). Nothing here knows about connections or the web layer
above it."""
