# Shared by the benchmarks that run a stack: sourced after `cd` to the repository root.
# Builds the release binary ($bin), makes a scratch folder ($work) holding stack.toml and its
# secrets, and on exit brings the stack down (dev profile, volumes too) and removes the folder.
# A benchmark adds its own clean-up by defining `bench_cleanup` before the exit.
set -euo pipefail
rounds=${ROUNDS:-5}
cargo build --release --locked -q
bin=$PWD/target/release/stackgen
work=$(mktemp -d)
mkdir -p "$work/secrets"
bench_cleanup() { :; }
bench_exit() {
  bench_cleanup || true
  (cd "$work" && "$bin" down --volumes -q -p dev) || true
  rm -rf "$work"
}
trap bench_exit EXIT

# Writes the stack's Redis password file (mode 600), as a user would.
bench_password() {
  printf '%s\n' "$1" >"$work/secrets/redis_password.txt"
  chmod 600 "$work/secrets/redis_password.txt"
}
