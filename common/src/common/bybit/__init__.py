"""The Bybit v5 connector: wire schemas, signing, the REST and WebSocket clients.

The simulator encodes with the same Structs this package decodes, so the protocol is defined once.
"""
