"""One msgspec Struct per Bybit v5 wire message, one module per message family.

Field names are Bybit's own; prices and sizes stay `str` as on the wire. Unknown fields are
ignored on decode, so a field Bybit adds never breaks a client.
"""
