"""Profiles: the packaged ones load, bad ones are refused naming the key, an override wins."""

import pytest

from strategy_service import profile

pytestmark = pytest.mark.unit


def test_the_three_packaged_profiles_load_and_differ_in_risk():
    loaded = {n: profile.load(n) for n in profile.available()}
    assert set(loaded) == {"conservative", "balanced", "aggressive"}
    risk = [loaded[n].risk.risk_per_trade_pct for n in ("conservative", "balanced", "aggressive")]
    assert risk == sorted(risk) and len(set(risk)) == 3


@pytest.mark.parametrize(("text", "names"), [
    ('name = "x"\nversion = 1\n[risk]\nmax_open_positions = 0', "$.risk.max_open_positions"),
    ('name = "x"\nversion = 1\n[risk]\nmax_opne_positions = 2', "max_opne_positions"),
    ('name = "x"\nversion = 0', "$.version"),
    ('name = "x"\nversion = 1\n[scoring]\nwatch_score = 3.0\nentry_score = 2.0', "exit_score < watch_score"),
    ('name = "x"\nversion = 1\n[features]\nwindow_bars = 10\nmomentum_bars = 10', "features.momentum_bars"),
    ('name = "x"\nversion = 1\n[orders]\nentry_type = "Stop"', "$.orders.entry_type"),
    ('name = "x"\nversion = ', "not valid TOML"),
])
def test_invalid_profiles_are_refused_naming_the_key(text, names):
    with pytest.raises(profile.ProfileError) as err:
        profile.parse(text, source="x.toml")
    assert names in str(err.value) and "x.toml" in str(err.value)


def test_an_override_file_wins_and_must_carry_its_own_name(tmp_path):
    (tmp_path / "balanced.toml").write_text('name = "balanced"\nversion = 7\n')
    assert profile.load("balanced", override_dir=tmp_path).version == 7
    (tmp_path / "balanced.toml").write_text('name = "other"\nversion = 7\n')
    with pytest.raises(profile.ProfileError, match="declares name 'other'"):
        profile.load("balanced", override_dir=tmp_path)
    with pytest.raises(profile.ProfileError, match="no such profile"):
        profile.load("nope", override_dir=tmp_path)
    with pytest.raises(profile.ProfileError, match="not a profile name"):
        profile.load("../etc/passwd")


def test_a_profile_scoring_more_book_levels_than_market_book_carries_is_refused(tmp_path):
    (tmp_path / "deep.toml").write_text('name = "deep"\nversion = 1\n[features]\nbook_levels = 20\n')
    assert profile.load("deep", override_dir=tmp_path, feed_levels=20).features.book_levels == 20
    with pytest.raises(profile.ProfileError, match="features.book_levels = 20 .* 10 levels market.book"):
        profile.load("deep", override_dir=tmp_path, feed_levels=10)
