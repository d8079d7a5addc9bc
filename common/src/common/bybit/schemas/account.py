"""Account settings: GET /v5/account/info and GET /v5/user/query-api, which clients read to learn the
account type (unified or classic) and what the key may do."""

from __future__ import annotations

import msgspec


class AccountInfo(msgspec.Struct, kw_only=True):
    """https://bybit-exchange.github.io/docs/v5/account/account-info."""

    unifiedMarginStatus: int  # 1 classic, 3 UTA1.0, 4 UTA1.0 Pro, 5 UTA2.0, 6 UTA2.0 Pro
    marginMode: str  # ISOLATED_MARGIN | REGULAR_MARGIN | PORTFOLIO_MARGIN
    isMasterTrader: bool = False
    spotHedgingStatus: str = "OFF"
    updatedTime: str = ""
    dcpStatus: str = "OFF"
    timeWindow: int = 0
    smpGroup: int = 0


class ApiKeyInfo(msgspec.Struct, kw_only=True):
    """https://bybit-exchange.github.io/docs/v5/user/apikey-info (the fields clients read)."""

    id: str
    note: str
    apiKey: str
    readOnly: int  # 0 read and write
    secret: str = ""  # always empty
    permissions: dict[str, list[str]]
    ips: list[str]
    type: int  # 1 personal
    deadlineDay: int = -1
    expiredAt: str = ""
    createdAt: str = ""
    unified: int = 0  # 1: unified margin account (the old one)
    uta: int = 1  # 1: unified trading account
    userID: int = 0
    inviterID: int = 0
    vipLevel: str = "No VIP"
    mktMakerLevel: str = "0"
    affiliateID: int = 0
    rsaPublicKey: str = ""
    isMaster: bool = True
    parentUid: str = "0"
