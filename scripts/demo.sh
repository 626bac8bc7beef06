#!/usr/bin/env bash
# The README's quick start: builds the binary, makes a small demo service on the local Docker
# engine (volume + running container), then backs it up, lists and verifies the backup.
# `--clean` removes what the demo made: the container, the volume and .tmp/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${DEMO_IMAGE:-busybox:stable}
volume=tools-backup-demo-data
container=tools-backup-demo
work=$PWD/.tmp/demo

case "${1:-}" in
  "") ;;
  --clean)
    docker rm -f "$container" >/dev/null 2>&1 || true
    docker volume rm "$volume" >/dev/null 2>&1 || true
    rm -rf "$work"
    echo "demo removed: container $container, volume $volume, $work" >&2
    exit 0
    ;;
  *) echo "usage: npm run demo [-- --clean]" >&2; exit 2 ;;
esac

npx bun scripts/build.ts
docker volume create "$volume" >/dev/null
docker run --rm -v "$volume:/data" "$image" sh -c '
  mkdir -p /data/notes /data/empty &&
  echo "written $(date)" > /data/notes/today.txt &&
  dd if=/dev/urandom of=/data/blob.bin bs=1M count=8 2>/dev/null'
if [ "$(docker container inspect --format '{{.State.Running}}' "$container" 2>/dev/null)" != true ]; then
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker run -d --init --name "$container" -v "$volume:/data" "$image" sleep 2147483647 >/dev/null
fi

mkdir -p "$work/backups"
cat > "$work/backup.yaml" <<YAML
backup_dir: ./backups
retention_days: 7
keep_last: 3
services:
  demo: true
YAML
export XDG_STATE_HOME="$work/state"
bin=dist/tools-backup
args=(--config "$work/backup.yaml" --root "$PWD")
"$bin" backup "${args[@]}"
"$bin" list "${args[@]}"
"$bin" verify "${args[@]}"
echo "demo container: $(docker container inspect --format '{{.State.Status}}' "$container")" >&2
echo "the demo's container, volume and backups stay for you to try restore; remove them with: npm run demo -- --clean" >&2
