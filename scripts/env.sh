# Sourced by the other scripts: where builds go. Target directories live outside the
# clone (under ~/.cache) so fresh clones and CI reuse what this machine already built.
: "${CARGO_TARGET_DIR:=$HOME/.cache/voxgate/target}"
: "${VOXGATE_WASM_TARGET:=$HOME/.cache/voxgate/wasm-target}"
: "${VOXGATE_PLUGINS_DIR:=$VOXGATE_WASM_TARGET/wasm32-wasip2/release}"
export CARGO_TARGET_DIR VOXGATE_WASM_TARGET VOXGATE_PLUGINS_DIR
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
