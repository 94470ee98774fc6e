#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args]
# Launches NPROC processes per node with torchrun (the gloo backend is used
# automatically where CUDA is unavailable). NNODES, NODE_RANK, PORT and
# MASTER_ADDR work as in MMAction2's scripts; PYTHON picks the interpreter.
set -euo pipefail

CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$(dirname "$0")"/test.py "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
