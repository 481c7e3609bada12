#!/usr/bin/env bash
# Compiles the BPF task_file iterator into the bundle (called by Maven in generate-resources): compile.sh SOURCE OUT
set -euo pipefail
command -v clang >/dev/null && [ -f /usr/include/bpf/bpf_helpers.h ] || {
  echo "compile.sh: building the port monitor needs clang and libbpf's headers: apt-get install clang libbpf-dev" \
    "(./run.sh and ./test.sh install them)" >&2
  exit 2
}
mkdir -p "$(dirname "$2")"
# -g: the object must carry BTF, from which libbpf relocates every field to the running kernel (CO-RE).
exec clang -O2 -g -target bpf -Wall -Werror -c "$1" -o "$2"
