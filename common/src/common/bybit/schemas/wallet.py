"""Wallet: GET /v5/account/wallet-balance (UNIFIED) and the private `wallet` topic."""

from __future__ import annotations

import builtins

import msgspec


class WalletCoin(msgspec.Struct, kw_only=True):
    coin: str
    equity: str
    walletBalance: str
    unrealisedPnl: str
    cumRealisedPnl: str
    totalPositionIM: str
    totalOrderIM: str
    availableToWithdraw: str = ""
    usdValue: str = ""
    locked: str = "0"


class WalletAccount(msgspec.Struct, kw_only=True):
    accountType: str  # UNIFIED
    totalEquity: str
    totalWalletBalance: str
    totalAvailableBalance: str
    totalPerpUPL: str
    totalInitialMargin: str
    coin: list[WalletCoin]
    totalMarginBalance: str = ""
    totalMaintenanceMargin: str = ""


class WalletResult(msgspec.Struct, kw_only=True):
    list: builtins.list[WalletAccount]  # Bybit names the field `list`, shadowing the builtin here
