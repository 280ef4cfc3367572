"""The hub: the server that looks after a fleet of stations."""
