# Sourced (not run) by scripts/test.sh: makes Node and the contract suite's pinned npm packages available.
# Installs Debian's nodejs/npm if `node` is missing, then `npm ci` in tests/contracts (lock file pinned).
# Afterwards ROSTER_CONTRACTS_DIR points at tests/contracts (the .NET tests run its scripts with `node`).
contracts_dir="$root/tests/contracts"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "test.sh: Node is not installed; installing Debian's nodejs and npm" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
echo "test.sh: npm ci in tests/contracts (node $(node --version))"
(cd "$contracts_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
export ROSTER_CONTRACTS_DIR="$contracts_dir"
