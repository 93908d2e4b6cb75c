"""Load ``policies/*.yaml`` into :class:`Policy` models, with errors that name file, key and problem."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.policies.models import Policy


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.problem}"


class PolicyError(Exception):
    """One or more policy files are invalid; ``problems`` has one entry per problem."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(file)"


def _problems_from(file: str, error: ValidationError) -> list[PolicyProblem]:
    problems = []
    for item in error.errors():
        message = str(item["msg"])
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        message = message.removeprefix("Value error, ")
        loc = tuple(item["loc"])
        # A model-level check names its own key inside the message ("segments.0.negotiation: ...").
        if not loc and ": " in message:
            key, _, message = message.partition(": ")
            problems.append(PolicyProblem(file, key, message))
        else:
            problems.append(PolicyProblem(file, _location(loc), message))
    return problems


def load_policy(path: Path) -> Policy:
    """Load one policy file; the file's stem is the creditor id."""
    name = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError([PolicyProblem(name, "(file)", f"cannot read: {exc.strerror}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise PolicyError([PolicyProblem(name, where, f"invalid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise PolicyError([PolicyProblem(name, "(file)", "must be a YAML mapping")])
    if "id" in raw:
        raise PolicyError([PolicyProblem(name, "id", "unknown key (the file name is the id)")])
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_problems_from(name, exc)) from exc
    return policy.model_copy(update={"id": path.stem})


class PolicyBook(Mapping[str, Policy]):
    """All creditors' policies by creditor id."""

    def __init__(self, policies: dict[str, Policy]) -> None:
        self._policies = dict(policies)

    def __getitem__(self, creditor_id: str) -> Policy:
        return self._policies[creditor_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policies)

    def __len__(self) -> int:
        return len(self._policies)


def load_policies(directory: Path) -> PolicyBook:
    """Load every ``*.yaml``/``*.yml`` file of ``directory``; collect all problems before failing."""
    if not directory.is_dir():
        raise PolicyError([PolicyProblem(str(directory), "(dir)", "is not a directory")])
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise PolicyError([PolicyProblem(str(directory), "(dir)", "has no policy files")])
    policies: dict[str, Policy] = {}
    problems: list[PolicyProblem] = []
    for path in files:
        try:
            policies[path.stem] = load_policy(path)
        except PolicyError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyError(problems)
    return PolicyBook(policies)
