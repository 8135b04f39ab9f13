"""``integridad-bot content check``: clean on the shipped content, precise on broken copies."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.content import check_content
from bot.settings import DEFAULT_CONTENT_DIR


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def test_shipped_content_is_clean() -> None:
    assert check_content(DEFAULT_CONTENT_DIR) == []


def test_each_planted_problem_is_reported(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    (content / "templates/general/error.html").write_text("Error <div>x</div>", encoding="utf-8")
    (content / "templates/general/menu.html").write_text("{% if %}", encoding="utf-8")
    (content / "templates/general/help.html").write_text("a & b", encoding="utf-8")
    labels = (content / "labels.yaml").read_text(encoding="utf-8")
    (content / "labels.yaml").write_text(labels + 'empty_one: ""\n', encoding="utf-8")
    commands = (content / "commands.yaml").read_text(encoding="utf-8")
    (content / "commands.yaml").write_text(
        commands.replace("command: perfil", "command: Perfil-Mal"), encoding="utf-8"
    )
    problems = [str(p) for p in check_content(content)]
    joined = "\n".join(problems)
    assert "templates/general/error.html" in joined and "div" in joined
    assert "templates/general/menu.html" in joined
    assert "templates/general/help.html" in joined
    assert "labels.yaml [empty_one]" in joined
    assert "commands.yaml [officer/Perfil-Mal]" in joined
    assert len(problems) == 5


def test_the_calculators_faq_entries_must_exist(tmp_path: Path) -> None:
    content = _copy(tmp_path)
    scale = (content / "icp/scale.yaml").read_text(encoding="utf-8")
    (content / "icp/scale.yaml").write_text(
        scale.replace("entry: icp-aceptable", "entry: icp-aceptble"), encoding="utf-8"
    )
    problems = [str(p) for p in check_content(content)]
    assert problems == ["icp/scale.yaml [Aceptable]: unknown FAQ entry 'icp-aceptble'"]


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["content", "check", "--dir", str(DEFAULT_CONTENT_DIR)])
    assert ok.exit_code == 0, ok.output
    content = _copy(tmp_path)
    (content / "catalog/networks.yaml").write_text("networks: [: nope", encoding="utf-8")
    bad = runner.invoke(app, ["content", "check", "--dir", str(content)])
    assert bad.exit_code == 1
    assert "networks.yaml" in bad.output
