"""The authorization server's machinery on top of the toolkit and oauthlib: the hardened validator
and the server class (`validator`)."""
