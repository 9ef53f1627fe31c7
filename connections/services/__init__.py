"""Writes of the connections app: `connections` (a customer's authorization of an app, from consent to
revocation) and `applications` (developers' apps and the bank's policy for them). Every write runs
in one transaction with its audit event."""
