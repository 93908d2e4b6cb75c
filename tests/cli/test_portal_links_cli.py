"""`acordo portal link`, `links` and `revoke`: issue two links, list them without their
tokens or hashes, revoke one by its id."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.channels.web_links import token_hash
from bot.cli.app import app as cli
from tests.conftest import ROOT

SECRET = "cli-portal-secret-0123456789"


def test_links_are_listed_and_revoked_by_id(tmp_path: Path) -> None:
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_LINK_SECRET": SECRET, "ACORDO_PUBLIC_URL": "https://cobranca.example",
           "COLUMNS": "300"}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "load"], env=env).exit_code == 0
    none = runner.invoke(cli, ["portal", "links", "padaria-sol"], env=env)
    assert none.exit_code == 0 and "no portal link" in none.stderr
    tokens = []
    for _ in range(2):
        done = runner.invoke(cli, ["portal", "link", "padaria-sol", "--days", "2"], env=env)
        assert done.exit_code == 0, done.output
        tokens.append(done.stdout.strip().rsplit("/p/", 1)[1])
        assert done.stderr.startswith("link ")
    first_id = runner.invoke(cli, ["portal", "link", "padaria-sol"], env=env).stderr.split()[1]
    listed = runner.invoke(cli, ["portal", "links", "padaria-sol"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["id", "contact", "issued_by"] and len(lines) == 4
    assert all(line.split("\t")[2] == "cli" for line in lines[1:])
    assert all(line.split("\t")[5] == "-" and line.split("\t")[6] == "0" for line in lines[1:])
    for token in tokens:
        assert token not in listed.stdout and token_hash(token) not in listed.stdout

    revoked = runner.invoke(cli, ["portal", "revoke", first_id], env=env)
    assert revoked.exit_code == 0 and f"link {first_id} revoked" in revoked.stderr
    after = runner.invoke(cli, ["portal", "links", "padaria-sol"], env=env).stdout.splitlines()
    row = next(line.split("\t") for line in after if line.startswith(f"{first_id}\t"))
    assert row[5].endswith("by cli")
    unknown = runner.invoke(cli, ["portal", "revoke", "9999"], env=env)
    assert unknown.exit_code == 1 and "no portal link 9999" in unknown.stderr
    nobody = runner.invoke(cli, ["portal", "links", "nobody"], env=env)
    assert nobody.exit_code == 1 and "no debtor 'nobody'" in nobody.stderr


def test_demo_links_issue_one_working_link_per_demo_debtor(tmp_path: Path) -> None:
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_LINK_SECRET": SECRET, "ACORDO_HOST": "0.0.0.0", "ACORDO_PORT": "8123",
           "COLUMNS": "300"}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "load"], env=env).exit_code == 0
    done = runner.invoke(cli, ["portal", "demo-links"], env=env)
    assert done.exit_code == 0, done.output
    lines = [line.split("\t") for line in done.stdout.strip().splitlines()]
    assert len(lines) >= 2 and all(url.startswith("http://127.0.0.1:8123/p/v1.") for _, url in lines)
    assert len({url for _, url in lines}) == len(lines)
    listed = runner.invoke(cli, ["portal", "links", "padaria-sol"], env=env)
    assert len(listed.stdout.strip().splitlines()) == 2  # the header and the demo link
    off = runner.invoke(cli, ["portal", "demo-links"], env={**env, "ACORDO_LINK_SECRET": ""})
    assert off.exit_code == 1 and "ACORDO_LINK_SECRET" in off.stderr
