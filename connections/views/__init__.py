"""The connections app's views, by who uses them: `oauth` (the authorization server's endpoints and
the consent screen, for apps and the customers they send), `connections` (the customer's My app
connections pages), `developers` (a customer's own OAuth applications)."""
