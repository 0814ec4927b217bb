#!/usr/bin/env bash
# GPU checks in one go: the `gpu`-marked tests, the default suite with CUDA visible, every
# `sciml-bench` benchmark in quick mode on CUDA, and the kernel / SSM-kernel benchmarks on CUDA.
#
# Usage: bash benchmarks/gpu_suite.sh OUTDIR [STAGE ...]
#   stages: env gpu-tests suite bench-quick kernels ssm-kernels spacetime-step fourier-mix
#   masked-fourier (default: all, in that order)
# Each stage writes OUTDIR/<stage>.log (and its JSON where it has one) and has its own time limit,
# so one slow stage cannot eat the others. Works from a checkout without installing: the repository
# root goes on PYTHONPATH when `sciml` is not importable.
set -u
out=${1:?usage: gpu_suite.sh OUTDIR [STAGE ...]}
shift
stages=${*:-env gpu-tests suite bench-quick kernels ssm-kernels spacetime-step fourier-mix masked-fourier}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python3 -c "import sciml" 2>/dev/null || export PYTHONPATH=$root${PYTHONPATH:+:$PYTHONPATH}
# JAX would otherwise reserve 75 % of the card in every test worker that imports it.
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 JAX_ENABLE_X64=1

stage() {  # stage NAME SECONDS CMD...
  local name=$1 limit=$2
  shift 2
  echo "=== $name (limit ${limit}s): $*"
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  echo "=== $name rc=$rc wall=$((SECONDS - t0))s"
  tail -n 4 "$out/$name.log"
}

for s in $stages; do
  case $s in
    env)
      stage env 60 bash -c 'nvidia-smi; python3 -m sciml.bench sysinfo; python3 -c "
import torch, jax
print(\"torch\", torch.__version__, torch.cuda.get_device_name(0))
print(\"jax\", jax.__version__, jax.devices())"' ;;
    gpu-tests)
      stage gpu-tests 300 python3 -m pytest -m gpu -q -rs -p no:cacheprovider ;;
    suite)
      stage suite 400 python3 -m pytest -n 8 -q -rs -p no:cacheprovider --timeout 300 ;;
    bench-quick)
      stage bench-quick 500 python3 -m sciml.bench run all --quick --device cuda --out "$out/runs"
      python3 -m sciml.bench report "$out/runs" >"$out/bench-quick-report.md" 2>&1 ;;
    kernels)
      stage kernels 300 python3 benchmarks/kernels.py --device cuda --out "$out/kernels_cuda.json" ;;
    ssm-kernels)
      stage ssm-kernels 300 python3 benchmarks/ssm_kernels.py --device cuda \
        --out "$out/ssm_kernels_cuda.json" ;;
    spacetime-step)
      stage spacetime-step 300 python3 benchmarks/spacetime_kernel_method.py --device cuda \
        --out "$out/spacetime_kernel_method_cuda.json" ;;
    fourier-mix)
      stage fourier-mix 200 python3 benchmarks/fourier_mode_mix.py --device cuda \
        --out "$out/fourier_mode_mix_cuda.json" ;;
    masked-fourier)
      stage masked-fourier 120 python3 benchmarks/masked_fourier_mask.py --device cuda \
        --out "$out/masked_fourier_mask_cuda.json" ;;
    *) echo "unknown stage $s" >&2 ;;
  esac
done
