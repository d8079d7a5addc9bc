"""A Bybit v5 compatible simulated exchange."""
