"""The console command as an administrator runs it (a real process, a real SQLite file)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

BIN = [sys.executable, "-m", "bot.cli"]


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "ADMIN_"))}
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    clean.update(env)
    return subprocess.run(BIN + args, capture_output=True, text=True, cwd=tmp_path, env=clean,
                          timeout=120, check=False)


def test_run_without_token_says_one_line_and_exits_2(tmp_path: Path) -> None:
    result = _run(["run"], tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "TELEGRAM_BOT_TOKEN" in lines[0]


def test_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = _run(["run"], tmp_path, TELEGRAM_BOT_TOKEN="1:x", ADMIN_TELEGRAM_IDS="ana")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "ADMIN_TELEGRAM_IDS" in result.stderr


def test_db_upgrade_creates_the_default_folder(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "sqlite+aiosqlite:///./data/integridad.db"}
    result = _run(["db", "upgrade"], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "integridad.db").exists()
    again = _run(["db", "upgrade"], tmp_path, **env)
    assert again.returncode == 0 and "agregadas: 0" in again.stdout


HEADER = "codigo,nombre,siglas,nivel,red,alias\n"


def test_entities_import_is_idempotent_and_reports(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    good = tmp_path / "entidades.csv"
    good.write_text(
        HEADER
        + "hnal,Hospital Nacional Arzobispo Loayza,HNAL,Poder Ejecutivo,"
        + "Red de Integridad de Salud,Hospital Loayza\n"
        + "minsa,Ministerio de Salud (nombre actualizado),MINSA,poder-ejecutivo,red-salud,\n",
        encoding="utf-8",
    )
    first = _run(["entities", "import", str(good)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 agregadas, 1 actualizadas" in first.stdout
    second = _run(["entities", "import", str(good)], tmp_path)
    assert "0 agregadas, 0 actualizadas, 2 sin cambios" in second.stdout


def test_bad_file_never_half_imports(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    bad = tmp_path / "malo.csv"
    bad.write_text(
        HEADER
        + "nueva-1,Entidad Nueva Uno,,poder-ejecutivo,red-salud,\n"
        + "nueva-2,Entidad Nueva Dos,,Poder Ejectivo,red-salud,\n"
        + ",Sin Código,,poder-ejecutivo,red-salud,\n",
        encoding="utf-8",
    )
    result = _run(["entities", "import", str(bad)], tmp_path)
    assert result.returncode == 1
    assert "línea 3" in result.stdout and "línea 4" in result.stdout
    again = tmp_path / "ok.csv"
    again.write_text(HEADER + "nueva-1,Entidad Nueva Uno,,poder-ejecutivo,red-salud,\n",
                     encoding="utf-8")
    ok = _run(["entities", "import", str(again)], tmp_path)
    assert "1 agregadas" in ok.stdout  # nothing of the bad file had been written


def test_officers_import_writes_personal_links(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    directory = tmp_path / "directorio.csv"
    directory.write_text(
        "nombre,entidad,correo,cargo\n"
        "Rosa Díaz Paredes,minsa,rdiaz@minsa.gob.pe,Jefa de la OII\n"
        "Carlos Soto Ruiz,Ministerio de Economía y Finanzas,csoto@mef.gob.pe,Especialista\n",
        encoding="utf-8",
    )
    out = tmp_path / "links.csv"
    result = _run(["officers", "import", str(directory), "-o", str(out),
                   "--bot-username", "IntegridadTestBot"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["correo"] for r in rows] == ["rdiaz@minsa.gob.pe", "csoto@mef.gob.pe"]
    payloads = [parse_qs(urlparse(r["enlace"]).query)["start"][0] for r in rows]
    assert all(p.startswith("p_") and len(p) <= 64 for p in payloads)
    assert len(set(payloads)) == 2
    # importing again renews the links (the old ones stop working)
    again = _run(["officers", "import", str(directory), "-o", str(out),
                  "--bot-username", "IntegridadTestBot"], tmp_path)
    assert "0 invitados, 2 con enlace renovado" in again.stdout


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Rosa Díaz,entidad-que-no-existe,r@x.gob.pe,Jefa", "entidad desconocida"),
        ("Rosa Díaz,minsa,no-es-correo,Jefa", "correo no válido"),
        ("R2D2,minsa,r@x.gob.pe,Jefa", "nombre no válido"),
    ],
)
def test_officers_import_rejects_bad_rows(tmp_path: Path, line: str, reason: str) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    directory = tmp_path / "d.csv"
    directory.write_text("nombre,entidad,correo,cargo\n"
                         "Ana Ríos Soto,minsa,ana@minsa.gob.pe,Oficial\n" + line + "\n",
                         encoding="utf-8")
    out = tmp_path / "links.csv"
    result = _run(["officers", "import", str(directory), "-o", str(out),
                   "--bot-username", "b"], tmp_path)
    assert result.returncode == 1
    assert "línea 3" in result.stdout and reason in result.stdout
    assert not out.exists()
