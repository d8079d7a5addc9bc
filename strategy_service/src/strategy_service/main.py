"""The strategy service's entry point: profile -> engine -> rebuilt state -> consumers.

Reads market.trades and market.book, publishes scored signals to strategy.signals and order intents
to exec.intents, follows its positions on exec.events, and obeys sys.control (safe mode, profile
switch and reload).
"""

import logging

from common import constants as c
from common.lifecycle import Runtime, run_service
from common.schemas import Severity
from strategy_service import profile as profiles
from strategy_service.engine import Engine
from strategy_service.service import StrategyService

log = logging.getLogger(__name__)


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value
    name = (await rt.bus.redis.get(c.STRATEGY_PROFILE_KEY) or profiles.DEFAULT_PROFILE.encode()).decode()
    try:
        active = profiles.load(name, override_dir=rt.settings.data_dir / "profiles",
                               feed_levels=rt.settings.market_publish_levels)
    except profiles.ProfileError as e:
        log.error("profile_rejected", extra={"ctx": {"error": str(e), "fallback": profiles.DEFAULT_PROFILE}})
        await rt.bus.alert(key="strategy:profile", severity=Severity.WARN,
                           title=f"strategy: profile {name!r} rejected, using {profiles.DEFAULT_PROFILE}",
                           detail=str(e))
        active = profiles.load(profiles.DEFAULT_PROFILE)
    strategy = StrategyService(rt, Engine(active))
    await strategy.restore()
    strategy.register()


def main() -> None:
    run_service("strategy", setup, dist="scalper-strategy")
