"""Policy files: the demo loads; each kind of mistake is named with file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from bot.policies import PolicyError, load_policies, load_policy

ROOT = Path(__file__).resolve().parents[2]
DEMO = yaml.safe_load((ROOT / "policies" / "demo.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, data: object, name: str = "acme.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_demo_policy_loads_into_frozen_models() -> None:
    policy = load_policies(ROOT / "policies")["demo"]
    assert policy.id == "demo"
    assert policy.negotiation["standard"].installment_min_amount == Decimal("500.00")
    assert policy.segment_for(45, Decimal("1000")).name == "late"
    assert policy.segment_for(3, Decimal("1000")).negotiation == "standard"
    with pytest.raises(Exception, match="frozen"):
        policy.creditor.name = "x"  # type: ignore[misc]


def test_minimum_contract_schema_loads_with_defaults(tmp_path: Path) -> None:
    minimal = {k: DEMO[k] for k in ("version", "creditor", "segments", "negotiation", "cadence")}
    policy = load_policy(write(tmp_path, minimal))
    assert policy.contact_rules.max_contacts.per_day == 1
    assert policy.handoff.after_fallbacks == 2


def mutate(path: str, value: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(DEMO))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("creditor.nickname", "x", "creditor.nickname", "unknown key"),
    ("negotiation.standard.full_payment_discount_max_percent", -5,
     "negotiation.standard.full_payment_discount_max_percent", "greater than or equal to 0"),
    ("creditor.tax_id", "11.222.333/0001-82", "creditor.tax_id", "not a valid CNPJ"),
    ("segments.0.negotiation", "missing", "segments.0.negotiation", "not defined"),
    ("creditor.timezone", "America/Atlantis", "creditor.timezone", "unknown time zone"),
    ("negotiation.standard.installment_min_amount", 500.5,
     "negotiation.standard.installment_min_amount", "quoted decimal string"),
    ("contact_rules.hours", {"mon-fri": "20:00-08:00"}, "contact_rules.hours", "end before"),
    ("version", 2, "version", "1"),
    ("negotiation.standard.max_rounds", KeyError, "negotiation.standard.max_rounds", "required"),
    ("hardship.first_installment_deferral_days", -1, "hardship.first_installment_deferral_days",
     "greater than or equal to 0"),
    ("hardship.max_installments", 0, "hardship.max_installments", "greater than or equal to 1"),
    ("hardship.grace", 3, "hardship.grace", "unknown key"),
])
def test_bad_file_names_file_key_and_problem(tmp_path: Path, path: str, value: object, key: str,
                                             problem: str) -> None:
    file = write(tmp_path, mutate(path, value))
    with pytest.raises(PolicyError) as caught:
        load_policy(file)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{file}: {key}: ")
    assert problem in lines[0]


def test_hardship_keys_are_optional(tmp_path: Path) -> None:
    demo = load_policies(ROOT / "policies")["demo"]
    assert demo.hardship.max_installments == 12 and "falência" in demo.hardship.handoff_keywords
    without = load_policy(write(tmp_path, mutate("hardship", KeyError)))
    assert without.hardship.first_installment_deferral_days == 0
    assert without.hardship.max_installments is None and without.hardship.handoff_keywords == ()


def test_invalid_yaml_and_empty_dir(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="broken.yaml: line"):
        load_policies(tmp_path)
    with pytest.raises(PolicyError, match="no policy files"):
        load_policies(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


def test_cli_check_exits_1_with_one_line_per_problem(tmp_path: Path) -> None:
    write(tmp_path, mutate("creditor.tax_id", "123"), "a.yaml")
    write(tmp_path, mutate("segments.1.cadence", "nope"), "b.yaml")
    result = subprocess.run([sys.executable, "-m", "bot", "policies", "check", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{tmp_path / 'a.yaml'}: creditor.tax_id:")
    assert lines[1].startswith(f"{tmp_path / 'b.yaml'}: segments.1.cadence:")
    ok = subprocess.run([sys.executable, "-m", "bot", "policies", "check", str(ROOT / "policies")],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "demo: ok" in ok.stdout
