"""The bank's own pages, by who uses them: `customer` (home, profile, settings, security),
`approvals` (the customer's acts on money that others asked for), `public` (help, health)."""
