#!/usr/bin/env bash
# Issue 12's GPU calls, prepared and smoke-tested on the CPU. Each step below is one device `run` command
# (run from the repository root there; $OUT is the call's return folder), except `prepare`, run here first.
#
#   here:    bash scripts/gpu_calls.sh prepare        -> .carry/ (git-ignored): Imagenette in 3 parts + manifest,
#                                                        and .carry/wheels (papermill, nbclient, nbformat, ipykernel)
#   call 1:  carry [.carry/imagenette-224.tar.gz.part1, .carry/imagenette-224.tar.gz.manifest.json]
#            command "bash scripts/gpu_calls.sh carry"                                   timeout_s 120
#   call 2:  the same with part2                                                         timeout_s 120
#   call 3:  carry [part3, .carry/wheels]; command "bash scripts/gpu_calls.sh carry join check"
#            (join: the archive rebuilt and checked by sha256, the wheels installed; check: the fast-path tests
#            on CUDA, then benchmarks/gpu_throughput.py into $OUT)                        timeout_s 480
#   call 4:  "bash scripts/gpu_calls.sh init-study"    (12 runs, 4 side by side)          timeout_s 480
#   then:    set the gpu scale's init from the study's winner, commit, and run the campaign (a 9-minute call,
#            best in a later session with its own 15 minutes):
#            "JOBS=4 bash scripts/gpu_calls.sh campaign"                                  timeout_s 600
#            a second call finishes what the first could not: carry its pack back as .carry/campaign and add
#            RESUME=.carry/campaign.
# The machine must stay warm between calls (30 s idle): /tmp holds the parts, the data and the installed wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
export ALEXNET_REPRO_CACHE=/tmp/cache ALEXNET_REPRO_RUNS=/tmp/runs PYTHONUNBUFFERED=1 PYTHONPATH="$PWD"
DATA=/tmp/data/imagenette-224.tar.gz
PY=${PY:-python3}
for step in "$@"; do
  case $step in
    prepare)
      $PY scripts/carry_data.py split ../shared/data/imagenette-224.tar.gz .carry
      $PY -m pip download -q --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 --platform any \
        --dest .carry/wheels papermill ipykernel nbformat nbclient
      du -sh .carry/* ;;
    carry)
      mkdir -p /tmp/carry && cp -r .carry/. /tmp/carry/ && ls -l /tmp/carry ;;
    join)
      $PY scripts/carry_data.py join /tmp/carry/imagenette-224.tar.gz.manifest.json "$DATA"
      $PY -m pip install -q --no-index --find-links /tmp/carry/wheels papermill ipykernel nbformat nbclient ;;
    check)
      nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
      $PY -m pytest -q tests/test_fast_path.py
      $PY benchmarks/gpu_throughput.py --archive "$DATA" --jobs 3 --out "$OUT/gpu_throughput.txt" ;;
    init-study)
      $PY benchmarks/init_study.py --data-root "$DATA" --jobs 4 --out-dir "$OUT" ;;
    campaign)
      $PY scripts/gpu_campaign.py run --scale gpu --data-root "$DATA" --jobs "${JOBS:-4}" \
        --deadline-s "${DEADLINE_S:-480}" --pack "$OUT" ${RESUME:+--resume "$RESUME"} ;;
    *) echo "error: unknown step $step (prepare, carry, join, check, init-study, campaign)" >&2; exit 2 ;;
  esac
done
