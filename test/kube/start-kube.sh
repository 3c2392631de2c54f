#!/usr/bin/env bash
# start-kube.sh: a real kube-apiserver and etcd on loopback, for netpol's
# live-cluster tests (internal/kube/kubetest starts them through this script).
#
#   test/kube/start-kube.sh build       build the binaries if they are missing
#   test/kube/start-kube.sh start       build if missing, start, print `export ...` lines
#   eval "$(test/kube/start-kube.sh start)"
#   test/kube/start-kube.sh stop        stop what start started (by PID) and remove its dir
#   test/kube/start-kube.sh env         print the export lines of a running instance
#
# The binaries are built from the modules next to this script (apiserver/ and
# etcd/, each with its own go.mod, so their replace directives never reach
# netpol's go.mod) into a cache outside the repository, and rebuilt only when
# missing or of another version. A cold build takes about 4 minutes on 2 cores
# and needs about 2.5 GB of memory.
#
# Environment:
#   NETPOL_KUBE_CACHE   cache directory        (default ~/.cache/netpol-kube; binaries in bin/)
#   KUBE_TEST_DIR       runtime directory: certificates, etcd data, logs, kubeconfigs
#                       (default: a new mktemp -d directory, printed in the env lines)
#   KUBE_READY_TIMEOUT  seconds to wait for /readyz (default 120)
#   KUBE_NO_BUILD=1     fail instead of building when a binary is missing
#   KUBE_SERVICE_CIDR   --service-cluster-ip-range of the API server (default 10.96.0.0/16,
#                       the usual one, which holds the demo's ClusterIPs)
#   KUBE_WATCH_PID      stop the servers when this process exits (for test harnesses
#                       that may be killed before their cleanup runs)
#
# start writes $KUBE_TEST_DIR/env with KUBECONFIG (admin, system:masters),
# KUBECONFIG_RESTRICTED (user "restricted" in group "netpol-test:restricted",
# no permissions until something binds them), KUBE_API_URL and the PIDs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBE_VERSION=1.37.2
ETCD_VERSION=3.7.3
NETPOL_KUBE_CACHE="${NETPOL_KUBE_CACHE:-$HOME/.cache/netpol-kube}"
bin="$NETPOL_KUBE_CACHE/bin"
KUBE_READY_TIMEOUT="${KUBE_READY_TIMEOUT:-120}"

say() { echo "[start-kube] $*" >&2; }

# ---------------------------------------------------------------- build ----

# (The version output is captured first: with pipefail, grep -q closing the
# pipe early would fail the check with SIGPIPE.)
have_apiserver() {
	local v
	[ -x "$bin/kube-apiserver" ] && v=$("$bin/kube-apiserver" --version 2>/dev/null) && [ "$v" = "Kubernetes v$KUBE_VERSION" ]
}

have_etcd() {
	local v
	[ -x "$bin/etcd" ] && v=$("$bin/etcd" --version 2>/dev/null) && [[ $v == *"etcd Version: $ETCD_VERSION"* ]]
}

build_apiserver() {
	have_apiserver && return 0
	[ "${KUBE_NO_BUILD:-0}" = 1 ] && { say "$bin/kube-apiserver v$KUBE_VERSION is missing: run $0 build"; return 1; }
	say "building kube-apiserver v$KUBE_VERSION into $bin (cold: about 4 min, 2.5 GB of memory)"
	mkdir -p "$bin"
	local v=k8s.io/component-base/version c=k8s.io/client-go/pkg/version minor
	minor=${KUBE_VERSION#*.}
	minor=${minor%%.*}
	local ldflags="-s -w -X $v.gitVersion=v$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
	ldflags="$ldflags -X $c.gitVersion=v$KUBE_VERSION -X $c.gitMajor=1 -X $c.gitMinor=$minor"
	(cd "$here/apiserver" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" \
		-o "$bin/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver) || return 1
	mv "$bin/kube-apiserver.tmp" "$bin/kube-apiserver"
}

build_etcd() {
	have_etcd && return 0
	[ "${KUBE_NO_BUILD:-0}" = 1 ] && { say "$bin/etcd v$ETCD_VERSION is missing: run $0 build"; return 1; }
	say "building etcd v$ETCD_VERSION into $bin (cold: about 30 s)"
	mkdir -p "$bin"
	(cd "$here/etcd" && GOFLAGS=-mod=readonly go build -trimpath -ldflags '-s -w' \
		-o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3) || return 1
	mv "$bin/etcd.tmp" "$bin/etcd"
}

build() {
	build_etcd && build_apiserver
}

# ---------------------------------------------------------------- start ----

# free_port prints a TCP port nothing listens on, below the ephemeral range.
free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

certs() {
	local d="$1" o=openssl
	(
		cd "$d"
		$o req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=netpol-test-ca" 2>/dev/null
		cat >server.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
EOF
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >client.ext
		$o req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null
		$o x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 3650 -extfile server.ext 2>/dev/null
		$o req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=netpol-test-admin" 2>/dev/null
		$o x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext 2>/dev/null
		$o genrsa -out sa.key 2048 2>/dev/null
		$o rsa -in sa.key -pubout -out sa.pub 2>/dev/null
		local token
		token=$($o rand -hex 16)
		printf '%s,restricted,uid-restricted,"netpol-test:restricted"\n' "$token" >tokens.csv
		echo "$token" >restricted.token
		chmod 600 ./*.key tokens.csv restricted.token
		rm -f ./*.csr ./*.ext ca.srl
	)
}

kubeconfig() { # file url user
	local f="$1" url="$2" user="$3" pki="$KUBE_TEST_DIR/pki"
	{
		echo "apiVersion: v1"
		echo "kind: Config"
		echo "clusters:"
		echo "- name: netpol-test"
		echo "  cluster: {server: \"$url\", certificate-authority: \"$pki/ca.crt\"}"
		echo "contexts:"
		echo "- name: netpol-test"
		echo "  context: {cluster: netpol-test, user: $user, namespace: default}"
		echo "current-context: netpol-test"
		echo "users:"
		echo "- name: $user"
		if [ "$user" = admin ]; then
			echo "  user: {client-certificate: \"$pki/admin.crt\", client-key: \"$pki/admin.key\"}"
		else
			echo "  user: {token: \"$(cat "$pki/restricted.token")\"}"
		fi
	} >"$f"
	chmod 600 "$f"
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

wait_url() { # pid url seconds curl-args...: fails early when pid dies
	local pid="$1" url="$2" t="$3" i
	shift 3
	for i in $(seq 1 $((t * 5))); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)" = 200 ] && return 0
		alive "$pid" || return 1
		sleep 0.2
	done
	return 1
}

start_once() { # attempt
	local d="$KUBE_TEST_DIR" pki="$KUBE_TEST_DIR/pki" ep pp ap
	ep=$(free_port)
	pp=$(free_port)
	ap=$(free_port)
	[ "$ep" != "$pp" ] && [ "$ep" != "$ap" ] && [ "$pp" != "$ap" ] || return 1
	rm -rf "$d/etcd" && mkdir -m 700 "$d/etcd"
	"$bin/etcd" --name netpol-test --data-dir "$d/etcd" \
		--listen-client-urls "http://127.0.0.1:$ep" --advertise-client-urls "http://127.0.0.1:$ep" \
		--listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
		--initial-cluster "netpol-test=http://127.0.0.1:$pp" --initial-cluster-state new \
		--log-level warn --unsafe-no-fsync >"$d/etcd.log" 2>&1 &
	echo $! >"$d/etcd.pid"
	if ! wait_url "$(cat "$d/etcd.pid")" "http://127.0.0.1:$ep/health" 30; then
		say "etcd did not become healthy (attempt $1):"
		tail -5 "$d/etcd.log" >&2
		return 1
	fi
	# --advertise-address 127.0.0.1 needs --endpoint-reconciler-type none;
	# without the ServiceAccount admission plugin pods need no default
	# ServiceAccount (there is no controller manager to create one).
	"$bin/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ep" \
		--bind-address 127.0.0.1 --secure-port "$ap" \
		--advertise-address 127.0.0.1 --endpoint-reconciler-type none \
		--tls-cert-file "$pki/server.crt" --tls-private-key-file "$pki/server.key" \
		--client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
		--service-account-issuer https://kubernetes.default.svc \
		--service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
		--service-cluster-ip-range "${KUBE_SERVICE_CIDR:-10.96.0.0/16}" \
		--authorization-mode RBAC \
		--disable-admission-plugins ServiceAccount \
		--cert-dir "$d/kas-certs" >"$d/kube-apiserver.log" 2>&1 &
	echo $! >"$d/kube-apiserver.pid"
	# /readyz with admin credentials: anonymous requests are refused until RBAC is bootstrapped.
	if ! wait_url "$(cat "$d/kube-apiserver.pid")" "https://127.0.0.1:$ap/readyz" "$KUBE_READY_TIMEOUT" \
		--cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key"; then
		say "kube-apiserver did not become ready (attempt $1):"
		tail -5 "$d/kube-apiserver.log" >&2
		return 1
	fi
	local url="https://127.0.0.1:$ap"
	kubeconfig "$d/kubeconfig" "$url" admin
	kubeconfig "$d/kubeconfig-restricted" "$url" restricted
	cat >"$d/env" <<EOF
export KUBE_TEST_DIR=$d
export KUBECONFIG=$d/kubeconfig
export KUBECONFIG_RESTRICTED=$d/kubeconfig-restricted
export KUBE_API_URL=$url
export KUBE_APISERVER_PID=$(cat "$d/kube-apiserver.pid")
export KUBE_ETCD_PID=$(cat "$d/etcd.pid")
EOF
}

# watchdog stops the servers once process $1 has exited.
watchdog() {
	local parent="$1"
	(
		trap '' HUP
		while alive "$parent" && [ -f "$KUBE_TEST_DIR/kube-apiserver.pid" ]; do sleep 1; done
		[ -f "$KUBE_TEST_DIR/kube-apiserver.pid" ] && stop
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$KUBE_TEST_DIR/watchdog.pid"
}

start() {
	build || return 1
	if [ -z "${KUBE_TEST_DIR:-}" ]; then
		KUBE_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/netpol-kube.XXXXXX")
	elif [ -f "$KUBE_TEST_DIR/kube-apiserver.pid" ] && alive "$(cat "$KUBE_TEST_DIR/kube-apiserver.pid")"; then
		say "already running in $KUBE_TEST_DIR (stop it first)"
		return 1
	fi
	export KUBE_TEST_DIR
	mkdir -p "$KUBE_TEST_DIR/pki" || return 1
	certs "$KUBE_TEST_DIR/pki" || { say "certificate generation failed"; return 1; }
	local attempt
	for attempt in 1 2 3; do
		if start_once "$attempt"; then
			[ -n "${KUBE_WATCH_PID:-}" ] && watchdog "$KUBE_WATCH_PID"
			say "ready: $(sed -n 's/^export KUBE_API_URL=//p' "$KUBE_TEST_DIR/env") in $KUBE_TEST_DIR"
			return 0
		fi
		kill_pidfile "$KUBE_TEST_DIR/kube-apiserver.pid"
		kill_pidfile "$KUBE_TEST_DIR/etcd.pid"
		mv -f "$KUBE_TEST_DIR/kube-apiserver.log" "$KUBE_TEST_DIR/kube-apiserver.attempt$attempt.log" 2>/dev/null || true
		mv -f "$KUBE_TEST_DIR/etcd.log" "$KUBE_TEST_DIR/etcd.attempt$attempt.log" 2>/dev/null || true
	done
	say "giving up after 3 attempts; logs kept in $KUBE_TEST_DIR"
	return 1
}

# ----------------------------------------------------------------- stop ----

kill_pidfile() {
	local f="$1" pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			alive "$pid" || break
			sleep 0.2
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

stop() {
	[ -n "${KUBE_TEST_DIR:-}" ] || { say "KUBE_TEST_DIR is not set"; return 1; }
	kill_pidfile "$KUBE_TEST_DIR/kube-apiserver.pid"
	kill_pidfile "$KUBE_TEST_DIR/etcd.pid"
	if [ -f "$KUBE_TEST_DIR/watchdog.pid" ] && [ "$(cat "$KUBE_TEST_DIR/watchdog.pid")" != "${BASHPID:-}" ]; then
		kill_pidfile "$KUBE_TEST_DIR/watchdog.pid"
	fi
	# Only remove a directory this script set up.
	[ -f "$KUBE_TEST_DIR/pki/ca.crt" ] && rm -rf "$KUBE_TEST_DIR"
	say "stopped"
}

case "${1:-}" in
build) build ;;
start)
	start
	cat "$KUBE_TEST_DIR/env"
	;;
stop) stop ;;
env) cat "${KUBE_TEST_DIR:?KUBE_TEST_DIR is not set}/env" ;;
*)
	echo "usage: $0 build|start|stop|env" >&2
	exit 2
	;;
esac
