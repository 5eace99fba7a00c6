#!/usr/bin/env bash
# The GPU-machine check: unpacks what scripts/gpu-check/prepare.ts put in .gpu-check/ (Node, Dawn's dawn.node,
# the Vulkan loader, the bundled check and its data) and runs it on WebGPU through Dawn/Vulkan.
# Results (results.json, results.txt, run.log, env.txt) go to $OUT (default ./gpu-check-out).
# Needs: x86_64 Linux, an NVIDIA driver with its Vulkan ICD; xz or python3 to unpack; tar. No network.
set -uo pipefail
cd "$(dirname "$0")/../.."
SRC=.gpu-check
SRC_ABS="$PWD/$SRC"
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
exec > >(tee -a "$OUT/run.log") 2>&1

[ -f "$SRC/gpu-check.mjs" ] || { echo "run.sh: $SRC/gpu-check.mjs missing: run 'npx tsx scripts/gpu-check/prepare.ts' and carry .gpu-check"; exit 2; }

unxz_to() { # unxz_to <file.xz> <dest>
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" > "$2"
  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' "$1" "$2"
  elif command -v busybox >/dev/null 2>&1; then busybox xz -dc "$1" > "$2"
  else echo "run.sh: need xz, python3 or busybox to unpack $1"; exit 2; fi
}

echo "== unpacking into $WORK"
mkdir -p "$WORK/bin" "$WORK/lib" "$WORK/node_modules/webgpu/dist/linux-x64"
unxz_to "$SRC/node.xz" "$WORK/bin/node" && chmod +x "$WORK/bin/node"
cp "$SRC/node_modules/webgpu/"* "$WORK/node_modules/webgpu/"
unxz_to "$SRC/dawn.node.xz" "$WORK/node_modules/webgpu/dist/linux-x64/dawn.node"
cp "$SRC/gpu-check.mjs" "$WORK/"
unxz_to "$SRC/pack.bin.xz" "$WORK/pack.bin"
cp "$SRC/libvulkan.so.1" "$WORK/lib/libvulkan.so.1"

# The Vulkan loader: the system's if it has one, else Debian's copy. The NVIDIA ICD: wherever the driver put it.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
done
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
             /etc/vulkan/icd.d/nvidia_icd.json /usr/local/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
  done
fi

{
  echo "== uname"; uname -a
  echo "== os-release"; cat /etc/os-release 2>/dev/null | head -3
  echo "== glibc"; ldd --version 2>&1 | head -1
  echo "== nvidia-smi"; nvidia-smi 2>&1 | head -20
  echo "== /proc/driver/nvidia/version"; cat /proc/driver/nvidia/version 2>&1
  echo "== /dev"; ls /dev | grep -E 'nvidia|dri' 2>&1
  echo "== NVIDIA_DRIVER_CAPABILITIES=${NVIDIA_DRIVER_CAPABILITIES:-} NVIDIA_VISIBLE_DEVICES=${NVIDIA_VISIBLE_DEVICES:-}"
  echo "== NVIDIA user-space libraries"; (ls /usr/local/nvidia/lib64 2>/dev/null; ldconfig -p 2>/dev/null | awk '{print $1}') | grep -iE 'GLX_nvidia|nvidia-glcore|vulkan|libcuda\.' | sort -u
  echo "== Vulkan ICD: VK_DRIVER_FILES=${VK_DRIVER_FILES:-} "; cat "${VK_DRIVER_FILES:-/dev/null}" 2>&1
  echo "== LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  echo "== node"; "$WORK/bin/node" --version
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

cd "$WORK"
# dawn.node needs glibc >= 2.34 and GLIBCXX_3.4.30: on an older system, run Node through Debian 12's runtime.
NODE=("$WORK/bin/node")
if [ -n "${GPU_CHECK_FORCE_GLIBC:-}" ] || ! "$WORK/bin/node" --input-type=module -e "await import('webgpu')" > "$OUT/dawn-load.log" 2>&1; then
  echo "== dawn.node does not load with this system's C/C++ runtime (dawn-load.log): using the carried Debian 12 one"
  cat "$OUT/dawn-load.log"
  mkdir -p "$WORK/glibc"
  unxz_to "$SRC_ABS/glibc.tar.xz" "$WORK/glibc.tar" && tar -xf "$WORK/glibc.tar" -C "$WORK/glibc"
  NODE=("$WORK/glibc/ld-linux-x86-64.so.2" --library-path "$WORK/glibc${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$WORK/bin/node")
fi

echo "== Vulkan loader and adapters (VK_LOADER_DEBUG=driver,error,warn; full log in vulkan-probe.log)"
VK_LOADER_DEBUG=driver,error,warn timeout 120 "${NODE[@]}" gpu-check.mjs --out "$WORK" --skip conformance,bench \
  > "$OUT/vulkan-probe.log" 2>&1
grep -E 'webgpu:|cuda:|ERROR|Found ICD|Loading|libGLX' "$OUT/vulkan-probe.log" | head -20

echo "== gpu-check"
VK_LOADER_DEBUG="${VK_LOADER_DEBUG:-error,warn}" timeout "${GPU_CHECK_TIMEOUT:-420}" \
  "${NODE[@]}" gpu-check.mjs --out "$OUT" --pack "$WORK/pack.bin" ${GPU_CHECK_ARGS:-}
rc=$?
echo "== gpu-check exit code $rc"
[ -f "$OUT/results.txt" ] && cat "$OUT/results.txt"
exit $rc
