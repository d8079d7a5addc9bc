"""The simulator's network side: Bybit v5 REST and WebSocket on one aiohttp port, with faults."""
