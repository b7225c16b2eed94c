#!/usr/bin/env bash
# install-daemons.sh installs the real daemons and tools that peerlab's interop
# tests and namespace labs drive: BIRD 1.6 (Debian package "bird"), BIRD 2
# (Debian package "bird2", unpacked into a cache folder because it conflicts
# with "bird"), nginx-light (with libnginx-mod-stream), tshark, iproute2 and
# nftables, ExaBGP (Debian package "exabgp", the reference injector of
# `peerlab bench inject` / docs/injection.md) and, where the host has none,
# kubectl (Debian package "kubernetes-client").
#
# It is idempotent: work already done is skipped. It must run as root and only
# reaches Debian's package mirrors. No system BIRD service is left running:
# labs start their own bird processes with their own sockets and ports.
#
# Environment:
#   PEERLAB_CACHE  cache folder (default /var/cache/peerlab); bird2 ends up in
#                  $PEERLAB_CACHE/bird2/usr/sbin/{bird,birdc}
set -euo pipefail

CACHE="${PEERLAB_CACHE:-/var/cache/peerlab}"
BIRD2_DIR="$CACHE/bird2"
PACKAGES=(bird nginx-light tshark iproute2 nftables exabgp)
installed=()

log() { printf 'install-daemons: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	log "must run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# is_installed NAME: true when dpkg reports the package fully installed.
is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

# Keep package maintainer scripts from starting services (bird, nginx) while we
# install: a temporary policy-rc.d that denies every start, removed on exit
# unless one was already present.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
	if [ "$own_policy" -eq 1 ]; then
		rm -f "$POLICY"
	fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$POLICY"
	chmod 0755 "$POLICY"
	own_policy=1
fi

apt_updated=0
apt_update_once() {
	if [ "$apt_updated" -eq 0 ]; then
		apt-get update -qq
		apt_updated=1
	fi
}

# apt_install PKG...: installs the packages that are not installed yet.
apt_install() {
	local missing=() p
	for p in "$@"; do
		if ! is_installed "$p"; then
			missing+=("$p")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		apt_update_once
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	installed+=("${missing[@]}")
}

# 1. Debian packages. tshark asks whether non-root users may capture: answer no.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
apt_install "${PACKAGES[@]}"

# 1b. kubespray's nginx-proxy (role kubespray-worker) needs nginx's stream
#     module; Debian's nginx-light has it only as a dynamic module, shipped
#     in libnginx-mod-stream.
if nginx -V 2>&1 | grep -q -- '--with-stream=dynamic' && [ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]; then
	apt_install libnginx-mod-stream
fi

# 1c. kubectl, for the lab's Kubernetes nodes (docs/kubespray.md), only when
#     the host has none: Debian's package is kubernetes-client. Debian 12 ships
#     1.20, older than the 1.29 that `kubectl exec` over WebSocket needs (the
#     lab's API server stand-in speaks no SPDY); the tests name the version
#     they found and what they need when it is too old.
if ! command -v kubectl >/dev/null 2>&1; then
	apt-cache policy kubernetes-client 2>/dev/null | grep -q 'Candidate: [0-9]' || apt_update_once
	if apt-cache policy kubernetes-client 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		apt_install kubernetes-client
	else
		log "Debian has no kubernetes-client package here: install kubectl >= 1.29 yourself for the kubectl tests" >&2
	fi
fi

# 2. BIRD 2, unpacked next to BIRD 1.6.
if [ ! -x "$BIRD2_DIR/usr/sbin/bird" ] || [ ! -x "$BIRD2_DIR/usr/sbin/birdc" ]; then
	tmp="$(mktemp -d)"
	chown _apt "$tmp" 2>/dev/null || true # apt downloads as user _apt
	(
		cd "$tmp"
		if ! apt-get download -qq bird2 >/dev/null; then
			apt-get update -qq
			apt-get download -qq bird2 >/dev/null
		fi
	)
	deb="$(ls "$tmp"/bird2_*.deb)"
	rm -rf "$BIRD2_DIR"
	mkdir -p "$BIRD2_DIR"
	dpkg -x "$deb" "$BIRD2_DIR"
	rm -rf "$tmp"
	installed+=("bird2 ($(basename "$deb") -> $BIRD2_DIR)")
fi

# 3. Shared libraries bird2 needs that bird 1.6 did not pull in. Debian's bird2
#    depends on libssh-gcrypt-4 (RPKI over SSH) and libreadline8 (birdc).
apt_install libssh-gcrypt-4 libreadline8 libtinfo6
missing_libs="$(ldd "$BIRD2_DIR/usr/sbin/bird" "$BIRD2_DIR/usr/sbin/birdc" | awk '/not found/ {print $1}' | sort -u)"
if [ -n "$missing_libs" ]; then
	log "bird2 still misses shared libraries: $missing_libs" >&2
	exit 1
fi

# 4. No system BIRD: stop and disable the Debian service, kill a leftover daemon
#    by its pidfile, and make sure nothing holds /run/bird/bird.ctl or port 179.
service bird stop >/dev/null 2>&1 || true
service bird6 stop >/dev/null 2>&1 || true
service exabgp stop >/dev/null 2>&1 || true
if command -v systemctl >/dev/null 2>&1; then
	systemctl disable --now bird.service bird6.service >/dev/null 2>&1 || true
fi
if command -v update-rc.d >/dev/null 2>&1; then
	update-rc.d bird disable >/dev/null 2>&1 || true
	update-rc.d bird6 disable >/dev/null 2>&1 || true
fi
for pidfile in /run/bird/bird.pid /run/bird/bird6.pid /run/bird.pid; do
	if [ -s "$pidfile" ]; then
		pid="$(cat "$pidfile")"
		if [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && grep -qx 'bird6\?' "/proc/$pid/comm"; then
			kill "$pid" || true
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				[ -d "/proc/$pid" ] || break
				sleep 0.2
			done
		fi
		rm -f "$pidfile"
	fi
done
if [ -S /run/bird/bird.ctl ]; then
	if command -v fuser >/dev/null 2>&1 && fuser /run/bird/bird.ctl >/dev/null 2>&1; then
		log "a process still holds /run/bird/bird.ctl" >&2
		exit 1
	fi
	rm -f /run/bird/bird.ctl
fi
if ss -Hltn 'sport = :179' 2>/dev/null | grep -q .; then
	log "warning: something listens on TCP port 179: $(ss -Hltnp 'sport = :179' | tr '\n' ' ')" >&2
fi

# 5. Report.
if [ "${#installed[@]}" -eq 0 ]; then
	log "nothing to do, everything already installed"
else
	for item in "${installed[@]}"; do
		log "installed $item"
	done
fi
log "bird:  $(/usr/sbin/bird --version 2>&1 | head -n1)"
log "bird2: $("$BIRD2_DIR/usr/sbin/bird" --version 2>&1 | head -n1)"
