"""sources.toml values are checked when the file is read (issue 15, item 7): one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from factcheck.errors import InvalidInput
from factcheck.fetch import FetchConfig
from factcheck.sources import get_sources, list_sources, load_config


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("setting, message", [
    ('delay = "fast"', "delay must be a number, 0 or more, not 'fast'"),
    ("delay = -1", "delay must be a number, 0 or more, not -1"),
    ("retries = -1", "retries must be a whole number, 0 or more, not -1"),
    ("retries = 2.5", "retries must be a whole number"),
    ("timeout = -3", "timeout must be a number, above 0"),
    ("timeout = 0", "timeout must be a number, above 0"),
    ("delay = nan", "delay must be a number"),
    ('allowed_hosts = "127.0.0.1"', 'allowed_hosts must be a list of host names such as ["127.0.0.1"]'),
    ("allowed_hosts = [1]", "allowed_hosts must be a list of host names"),
    ('obey_robots = "no"', "obey_robots must be true or false"),
    ('user_agent = ""', "user_agent must be a non-empty string"),
])
def test_bad_fetch_values_are_one_line_config_errors(tmp_path: Path, setting: str, message: str) -> None:
    path = _config(tmp_path, f"[fetch]\n{setting}\n")
    with pytest.raises(InvalidInput) as caught:
        load_config(path)
    text = str(caught.value)
    assert message in text and str(path) in text and "\n" not in text
    assert caught.value.exit_code == 2


def test_good_fetch_values_are_kept() -> None:
    config = FetchConfig.from_mapping({"delay": 0, "retries": 0, "timeout": 5,
                                       "allowed_hosts": ["127.0.0.1", "LocalHost"]})
    assert config.delay == 0.0 and isinstance(config.delay, float) and config.retries == 0
    assert config.allowed_hosts == frozenset({"127.0.0.1", "localhost"})


def test_cli_refresh_with_a_bad_value_is_exit_2_and_creates_nothing(tmp_path: Path) -> None:
    path = _config(tmp_path, '[fetch]\ndelay = "fast"\n')
    index = tmp_path / "idx"
    result = CliRunner().invoke(cli, ["--index", str(index), "refresh", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert "delay must be a number" in result.output and not index.exists()
    result = CliRunner().invoke(cli, ["--index", str(index), "sources", "--config", str(path)])
    assert result.exit_code == 2


@pytest.mark.parametrize("table, message", [
    ('[sources.menpan]\nenabled = "yes"\n', "enabled must be true or false"),
    ('[sources.x]\ntype = "rss"\n', "type must be one of"),
    ("[refresh]\nbatch = 0\n", "batch must be a positive integer"),
])
def test_bad_source_and_refresh_values_are_config_errors(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_config(_config(tmp_path, table))


def test_bad_source_option_is_an_error_not_a_silently_dropped_source(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, '[sources.menpan]\nmax_pages = "x"\n'))
    with pytest.raises(InvalidInput, match="max_pages must be a whole number"):
        get_sources(config=config)


def test_readme_source_type_urls_is_accepted(tmp_path: Path) -> None:
    for kind in ("urls", "urllist"):
        config = load_config(_config(
            tmp_path, f'[sources.mine]\ntype = "{kind}"\nurls = ["https://example.org/a"]\n'))
        [source] = get_sources(["mine"], config=config)
        assert source.name == "mine"
        assert any(info.name == "mine" and info.enabled for info in list_sources(config))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "`urllist`" in readme
