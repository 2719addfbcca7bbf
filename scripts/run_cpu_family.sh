#!/usr/bin/env bash
# The ablation family at the cpu scale (CIFAR-10 AlexNet), one claim after another, two runs at a time:
# the paper's net trains once per seed and every claim after the first finds it in the run store.
# Usage: scripts/run_cpu_family.sh PATH_TO_CIFAR10 [claim ...]
set -uo pipefail
data=${1:?usage: scripts/run_cpu_family.sh PATH_TO_CIFAR10 [claim ...]}; shift
claims=${*:-$(python -c 'from alexnet_repro import claims; print(" ".join(claims.family_slugs()))')}
for claim in $claims; do
  python -m alexnet_repro run "$claim" --scale cpu --jobs 2 --data-root "$data" || echo "$claim failed" >&2
done
