"""Per-source settings: one home for variables, defaults and the secret list."""

from __future__ import annotations

import pytest
from dagster import EnvVar

from connectors.hubspot import defaults
from core.settings import SettingsError
from core.source_settings import HubSpotSettings
from core.sources import SECRET_ENV_VARS, SOURCES, is_secret_env
from orchestration.resources import HubSpotResource, resource_config


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HubSpotSettings.model_fields:
        monkeypatch.delenv(HubSpotSettings.env_name(name), raising=False)


def test_defaults_are_the_connectors() -> None:
    s = HubSpotSettings.from_env()
    assert (s.base_url, s.rate_limit_per_10s, s.search_rate_per_s) == (
        defaults.BASE_URL,
        defaults.RATE_LIMIT_PER_10S,
        defaults.SEARCH_RATE_PER_S,
    )
    assert not s.is_configured
    # the Dagster resource's own defaults agree with the settings' (no second home)
    assert HubSpotResource().rate_limit_per_10s == s.rate_limit_per_10s
    assert HubSpotResource().full_sweep_hours == s.full_sweep_hours


def test_environment_overrides_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_RATE_LIMIT_PER_10S", "off")
    monkeypatch.setenv("HUBSPOT_SEARCH_RATE_PER_S", "2.5")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-abc")
    s = HubSpotSettings.from_env()
    assert s.rate_limit_per_10s is None and s.search_rate_per_s == 2.5 and s.is_configured
    assert "pat-na1-abc" not in repr(s) and "pat-na1-abc" not in str(s.model_dump())


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_BACKOFF_BASE_S", "soon")
    with pytest.raises(SettingsError, match="HUBSPOT_BACKOFF_BASE_S"):
        HubSpotSettings.from_env()


def test_secrets_derive_from_settings_and_reach_dagster_as_env_var_names(monkeypatch: pytest.MonkeyPatch) -> None:
    for source in SOURCES:
        for name in source.settings.secret_env():
            assert name in SECRET_ENV_VARS
    assert "HUBSPOT_ACCESS_TOKEN" in SECRET_ENV_VARS and is_secret_env("SOME_NEW_API_TOKEN")
    assert not is_secret_env("HUBSPOT_BASE_URL")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-abc")
    config = resource_config(HubSpotSettings)
    assert isinstance(config["access_token"], EnvVar)
    assert "pat-na1-abc" not in [v for v in config.values() if isinstance(v, str)]


def test_ad_sources_settings_secrets_and_shared_start_date(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.source_settings import GoogleAdsSettings, MetaSettings
    from orchestration.resources import GoogleAdsResource

    for cls in (GoogleAdsSettings, MetaSettings):
        for name in cls.model_fields:
            monkeypatch.delenv(cls.env_name(name), raising=False)
    assert not GoogleAdsSettings.from_env().is_configured and not MetaSettings.from_env().is_configured
    assert set(GoogleAdsSettings.secret_env()) == {
        "GOOGLE_ADS_DEVELOPER_TOKEN",
        "GOOGLE_ADS_CLIENT_SECRET",
        "GOOGLE_ADS_REFRESH_TOKEN",
    } and MetaSettings.secret_env() == ("META_ACCESS_TOKEN",)
    assert {"GOOGLE_ADS_REFRESH_TOKEN", "META_ACCESS_TOKEN"} <= set(SECRET_ENV_VARS)
    monkeypatch.setenv("ADS_START_DATE", "2024-02-01")
    monkeypatch.setenv("META_ACCESS_TOKEN", "EAAsecret123456")
    monkeypatch.setenv("META_AD_ACCOUNT_IDS", "act_1")
    assert GoogleAdsSettings.env_name("start_date") == "ADS_START_DATE"
    assert GoogleAdsSettings.from_env().start_date == MetaSettings.from_env().start_date == "2024-02-01"
    config = resource_config(MetaSettings)
    assert isinstance(config["access_token"], EnvVar)
    assert MetaSettings.from_env().is_configured
    assert GoogleAdsResource().reread_days == GoogleAdsSettings.from_env().reread_days == 30
