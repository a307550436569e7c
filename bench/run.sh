#!/bin/sh
# make bench: den against rootless podman and the kernel floor, measured in
# one run as an unprivileged user. Not part of make test or CI.
#
# As root it creates the user "denbench" (with /etc/subuid and /etc/subgid
# ranges), builds the Debian rootfs with debootstrap once (cached under
# build/bench), and runs the driver as that user. As a user it runs the
# driver directly; the Debian rootfs must then be cached already.
set -eu
cd "$(dirname "$0")/.."
out=build/bench
user=denbench
runs=${BENCH_RUNS:-15}

missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need podman podman
need runc runc
need bwrap bubblewrap
need debootstrap debootstrap
need curl curl
need unshare util-linux
need newuidmap uidmap
need slirp4netns slirp4netns
need pasta passt
need busybox busybox-static
need /usr/bin/time time
if [ -n "$missing" ]; then
	echo "bench needs packages that are missing: apt-get install$missing" >&2
	exit 1
fi

mkdir -p "$out"
go build -trimpath -o "$out/denbench" ./bench/driver
cp bin/den "$out/den"

if [ ! -s "$out/debian.tar" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench: $out/debian.tar is missing; run make bench as root once (debootstrap needs root)" >&2
		exit 1
	fi
	rm -rf "$out/rootfs"
	echo "bench: debootstrap --variant=minbase bookworm (once)" >&2
	debootstrap --variant=minbase bookworm "$out/rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$out/debootstrap.log" 2>&1 ||
		{ tail -5 "$out/debootstrap.log" >&2; exit 1; }
	tar --numeric-owner -C "$out/rootfs" -cf "$out/debian.tar.tmp" .
	mv "$out/debian.tar.tmp" "$out/debian.tar"
	rm -rf "$out/rootfs"
fi

if [ "$(id -u)" != 0 ]; then
	exec "$out/denbench" -den "$out/den" -debian "$out/debian.tar" -runs "$runs" -only "${BENCH_ONLY:-}"
fi

# As root: the figures are taken as $user, with a subordinate id range.
if ! id "$user" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/sh "$user"
fi
grep -q "^$user:" /etc/subuid || echo "$user:400000:65536" >>/etc/subuid
grep -q "^$user:" /etc/subgid || echo "$user:400000:65536" >>/etc/subgid
chmod 0666 /dev/net/tun
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user")
# What an earlier run left running as the user goes first: podman's pause
# process outlives every podman command, and each run gives podman a new
# runtime directory, so one more stayed behind per run.
pkill -KILL -u "$user" 2>/dev/null || true
work="$home/bench"
mkdir -p "$work"
# Every store (den's, podman's, the floors') lives on a tmpfs: this VM's
# disk made the same pull vary from 1.5 s to 6 s between runs, which would
# drown what the bench compares. BENCH_ON_DISK=1 keeps them on disk.
if mountpoint -q "$work"; then umount -l "$work"; fi
if [ -z "${BENCH_ON_DISK:-}" ]; then
	mount -t tmpfs -o size=12g tmpfs "$work"
fi
cp "$out/denbench" "$out/den" "$work/"
# BENCH_DEN_BEFORE=path/to/den adds an earlier build to the start-up figures;
# BENCH_ONLY=resident,exec takes only those groups (see denbench -h);
# BENCH_VERBOSE=1 lists the processes the resident figure counts.
before=""
if [ -n "${BENCH_DEN_BEFORE:-}" ]; then
	cp "$BENCH_DEN_BEFORE" "$work/den-before"
	before="-den-before ./den-before"
fi
cp "$out/debian.tar" "$work/debian.tar"
chown -R "$user:" "$work"
# A login's XDG_RUNTIME_DIR is a tmpfs (/run/user/UID); give the user one.
rundir=/tmp/denbench-run
if mountpoint -q "$rundir"; then umount -l "$rundir"; fi
rm -rf "$rundir"
mkdir -m 0700 "$rundir"
mount -t tmpfs -o "mode=0700,uid=$uid,size=256m" tmpfs "$rundir"
cd "$work"
exec runuser -u "$user" -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME="$home" USER="$user" XDG_RUNTIME_DIR="$rundir" BENCH_VERBOSE="${BENCH_VERBOSE:-}" \
	./denbench -den ./den -debian ./debian.tar -runs "$runs" -only "${BENCH_ONLY:-}" $before
