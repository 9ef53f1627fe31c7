"""The staff console for the OAuth side: `connections` (customers' connections, scope requests),
`review` (the queue of applications waiting for the bank's review, and the review page), `oauth`
(the toolkit's own models: applications and, read-only, tokens and codes; the toolkit registers
these itself, with the classes named in OAUTH2_PROVIDER["*_ADMIN_CLASS"])."""

from . import connections, review  # noqa: F401  (register their admins)
