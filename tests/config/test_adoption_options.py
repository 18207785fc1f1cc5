"""The noise controls for adoption: each key read, validated and off (clippy's behaviour) by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from safety_ls.config.loader import ConfigError, load_settings
from safety_ls.core.settings import Settings


def settings_from(tmp_path: Path, text: str) -> Settings:
    (tmp_path / "safety-ls.toml").write_text(text, encoding="utf-8")
    return load_settings(tmp_path)


def test_defaults_keep_clippy_behaviour(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")
    assert (settings.cast_policy, settings.tests, settings.placement.group_annotations, settings.send_sync_pair) == (
        "all",
        True,
        False,
        False,
    )


def test_every_option_is_read(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        'cast-policy = "lossy"\ntests = false\ngroup-annotations = true\nsend-sync-pair = true\n'
        "[placement]\naccept-comment-above-attributes = false\n",
    )
    assert (settings.cast_policy, settings.tests, settings.send_sync_pair) == ("lossy", False, True)
    assert settings.placement.group_annotations and not settings.placement.accept_comment_above_attributes


@pytest.mark.parametrize(
    ("text", "key"),
    [('cast-policy = "some"\n', "cast-policy"), ('tests = "no"\n', "tests"), ("group-annotations = 1\n", "group-annotations")],
)
def test_bad_values_name_the_key_and_line(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, "# adoption\n" + text)
    assert (raised.value.key, raised.value.line) == (key, 2)
