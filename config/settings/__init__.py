"""Settings split by environment: base, local, test, production. Everything comes from the environment."""
