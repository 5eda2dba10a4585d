"""Pages of the brokers app."""
