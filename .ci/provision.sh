#!/usr/bin/env bash
# Brings a fresh Debian machine (root) to what the tests need: a running Docker engine,
# the busybox:stable image built locally (nothing is pulled), cron, tmux, zstd, rclone
# (the second S3 client of the offsite tests), openssh-server (the rclone sftp tests' sshd) and
# age (the reference implementation the encryption tests check ours against), restic (the
# retention tests' oracle) and qemu-user-static with arm64's libc (the arm64 release binary's test).
set -euo pipefail

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || need+=(busybox-static)
command -v crontab >/dev/null || need+=(cron)
command -v tmux >/dev/null || need+=(tmux)
command -v zstd >/dev/null || need+=(zstd)
command -v rclone >/dev/null || need+=(rclone)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v age >/dev/null || need+=(age)
command -v restic >/dev/null || need+=(restic)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
command -v file >/dev/null || need+=(file)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "provision: installing ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "provision: starting dockerd" >&2
  mkdir -p /var/log
  setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "provision: dockerd did not start" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi

if ! docker image inspect busybox:stable >/dev/null 2>&1; then
  echo "provision: building busybox:stable from the static busybox" >&2
  bb=$(command -v busybox)
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp "$bb" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
  echo 'root:x:0:' > "$root/etc/group"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - busybox:stable >/dev/null
  rm -rf "$root"
fi
echo "provision: docker $(docker version --format '{{.Server.Version}}') ready, busybox:stable present" >&2
