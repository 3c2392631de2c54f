#!/usr/bin/env bash
# lab.sh: a real dataplane for NetworkPolicies, in network namespaces.
#
#   test/lab/lab.sh up        create the node netns, one netns per pod, the
#                             bridge, the servers, the NFQUEUE rule and (when
#                             KUBECONFIG is set) the enforcer; prints `export LAB_DIR=...`
#   test/lab/lab.sh probe SRC DST PORT [tcp|udp]
#                             one new connection from pod SRC to pod DST
#                             ("ns/name"): prints OK, BLOCKED (timed out) or
#                             ERROR (anything else, e.g. refused); exit 0
#   test/lab/lab.sh matrix PORT [tcp|udp]
#                             probe every ordered pair of distinct pods in
#                             parallel: sorted "src dst proto/port result" lines
#   test/lab/lab.sh apply FILE
#                             kubectl apply FILE, wait until the enforcer has
#                             seen each object's resourceVersion, flush the
#                             node's conntrack table
#   test/lab/lab.sh traffic FILE [ROUNDS]
#                             the application's calls ("FROM TARGET" lines,
#                             see traffic below); exit 1 when a call fails
#   test/lab/lab.sh pods      the pods: "ns/name ip netns tcp-ports udp-ports" lines
#   test/lab/lab.sh down      stop what up started (by PID) and delete every
#                             namespace it created (with their links and rules)
#
# Layout (all names carry a unique prefix, $LAB_NAME):
#   netns $LAB_NAME-node: bridge br0; veth p<i> per pod, enslaved to br0;
#     iptables FORWARD -i br0 -o br0 -> LAB-NETPOL (bridged and routed),
#     LAB-NETPOL: ctstate NEW -> NFQUEUE $LAB_QUEUE (no bypass: fail closed);
#     net.bridge.bridge-nf-call-iptables=1 (set here, in that netns only).
#   netns $LAB_NAME-<ns>-<name> per pod: eth0 with the pod's address (and a
#     default route through the node when the pod has a gateway); the agent
#     (./agent) serving the pod's TCP and UDP ports.
#   The node routes between the subnets on its bridge (a gateway's address is
#   put on br0) and DNATs Service addresses ($LAB_NAT_FILE) as kube-proxy
#   would; the enforcer's rule sees bridged and routed packets alike.
#   The enforcer runs in the host netns (it reaches the API server on
#   loopback) and binds the queue inside the node netns.
# Nothing is changed in the host namespace's firewall or sysctls.
#
# Environment:
#   LAB_DIR        state directory (default: a new mktemp -d; printed by up)
#   LAB_NAME       name prefix (default: nplab-<random>)
#   LAB_PODS_FILE  the endpoints, one per line:
#                    ns/name address/prefix [tcp=P,P] [udp=P] [gw=IP] [dns=FILE]
#                  gw: default route through the node (which takes IP);
#                  dns: the agent answers DNS queries on its UDP ports from
#                  FILE ("name address" lines). Endpoints outside the
#                  cluster are lines like any other, without Pod objects.
#   LAB_PODS       without LAB_PODS_FILE: "ns/name=ip ..." (default: x/a x/b
#                  y/a y/b in 10.250.7.0/24), each serving the ports below
#   LAB_PREFIX     with LAB_PODS: prefix length of the addresses (default 24)
#   LAB_PORTS      with LAB_PODS: TCP ports every pod serves (default "80 81")
#   LAB_UDP_PORTS  with LAB_PODS: UDP ports every pod serves (default "53")
#   LAB_NAT_FILE   Services: "tcp|udp VIP PORT BACKEND:PORT..." lines
#   LAB_DNS        DNS server ADDRESS:PORT that traffic resolves names with
#   LAB_AGENT      agent binary (default: built into $LAB_DIR from ./agent)
#   LAB_QUEUE      NFQUEUE number (default 100)
#   KUBECONFIG     when set, up starts the enforcer against that API server
#   LAB_ENFORCER   enforcer binary (default: built into $LAB_DIR from ./enforcer)
#   LAB_TIMEOUT    probe timeout in seconds (default 2)
# Needs root, iproute2, iptables (apt-get install iptables), Go unless both
# LAB_AGENT and LAB_ENFORCER are given;
# apply also needs kubectl, jq and conntrack.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "[lab] $*" >&2; }
die() { say "$*"; exit 1; }

LAB_PODS=${LAB_PODS:-"x/a=10.250.7.11 x/b=10.250.7.12 y/a=10.250.7.21 y/b=10.250.7.22"}
LAB_PREFIX=${LAB_PREFIX:-24}
LAB_PORTS=${LAB_PORTS:-"80 81"}
LAB_UDP_PORTS=${LAB_UDP_PORTS:-"53"}
LAB_QUEUE=${LAB_QUEUE:-100}
LAB_TIMEOUT=${LAB_TIMEOUT:-2}

# ------------------------------------------------------------------- up ----

up() {
	[ "$(id -u)" = 0 ] || die "up needs root (network namespaces, iptables)"
	local tool
	for tool in ip iptables; do
		command -v "$tool" >/dev/null || die "$tool is missing (iptables: apt-get install iptables)"
	done
	LAB_DIR=${LAB_DIR:-$(mktemp -d /tmp/nplab.XXXXXX)}
	mkdir -p "$LAB_DIR"
	[ -e "$LAB_DIR/state" ] && die "$LAB_DIR already holds a lab: run down first"
	LAB_NAME=${LAB_NAME:-nplab-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')}
	local node="$LAB_NAME-node"
	{
		echo "LAB_NAME=$LAB_NAME"
		echo "LAB_NODE=$node"
		echo "LAB_QUEUE=$LAB_QUEUE"
	} >"$LAB_DIR/state"
	: >"$LAB_DIR/netns" >"$LAB_DIR/pids" >"$LAB_DIR/pods"
	# From here on, any failure removes whatever was created.
	trap 'say "up failed: cleaning up"; down' EXIT

	local t0=$SECONDS
	if [ -n "${LAB_AGENT:-}" ]; then
		cp "$LAB_AGENT" "$LAB_DIR/agent"
	else
		(cd "$here" && go build -o "$LAB_DIR/agent" ./agent) || die "building the agent failed"
	fi
	make_netns "$node"
	ip -n "$node" link set lo up
	ip -n "$node" link add br0 type bridge
	ip -n "$node" link set br0 up

	# The endpoints: LAB_PODS_FILE, or LAB_PODS with the same ports for all.
	local podsfile="$LAB_DIR/endpoints"
	if [ -n "${LAB_PODS_FILE:-}" ]; then
		cp "$LAB_PODS_FILE" "$podsfile"
	else
		local spec
		for spec in $LAB_PODS; do
			[[ $spec == */*=* ]] || die "bad LAB_PODS entry $spec (want ns/name=ip)"
			echo "${spec%%=*} ${spec#*=}/$LAB_PREFIX tcp=$(commas $LAB_PORTS) udp=$(commas $LAB_UDP_PORTS)"
		done >"$podsfile"
	fi
	local i=0 n=0 line id cidr addr pns kv tcp udp gw dns
	while IFS= read -r line; do
		n=$((n + 1))
		line=${line%%#*}
		set -- $line
		[ $# = 0 ] && continue
		id=$1 cidr=${2:-} tcp= udp= gw= dns=
		[[ $id == */* && $cidr == */* ]] || die "$podsfile:$n: want \"ns/name address/prefix [tcp=P,..] [udp=P,..] [gw=IP] [dns=FILE]\", got \"$line\""
		shift 2
		for kv in "$@"; do
			case $kv in
			tcp=*) tcp=${kv#tcp=} ;;
			udp=*) udp=${kv#udp=} ;;
			gw=*) gw=${kv#gw=} ;;
			dns=*) dns=${kv#dns=} ;;
			*) die "$podsfile:$n: unknown field \"$kv\"" ;;
			esac
		done
		addr=${cidr%/*}
		pns="$LAB_NAME-${id//\//-}"
		make_netns "$pns"
		ip -n "$node" link add "p$i" type veth peer name eth0 netns "$pns"
		ip -n "$node" link set "p$i" master br0 up
		ip -n "$pns" link set lo up
		ip -n "$pns" addr add "$cidr" dev eth0
		ip -n "$pns" link set eth0 up
		if [ -n "$gw" ]; then
			# The gateway's address lives on the node's bridge: the node routes
			# (and DNATs Service addresses) for this endpoint.
			ip -n "$node" addr replace "$gw/${cidr#*/}" dev br0
			ip -n "$pns" route add default via "$gw"
		fi
		ip netns exec "$pns" "$LAB_DIR/agent" serve --addr "$addr" --tcp "$tcp" --udp "$udp" \
			${dns:+--dns-records "$dns"} >>"$LAB_DIR/agent.log" 2>&1 &
		echo $! >>"$LAB_DIR/pids"
		echo "$id $addr $pns ${tcp:--} ${udp:--}" >>"$LAB_DIR/pods"
		i=$((i + 1))
	done <"$podsfile"
	[ $i -gt 0 ] || die "no pods in $podsfile"

	# Wait until every server listens (a pod reaches itself through lo, which
	# the node's firewall never sees).
	local deadline=$((SECONDS + 30)) waiting line
	while :; do
		waiting=
		while read -r line; do
			set -- $line
			for port in ${4//,/ }; do
				[ "$port" = - ] && continue
				[ "$(ip netns exec "$3" "$LAB_DIR/agent" probe --timeout 1s "$2:$port")" = OK ] || waiting="$1:tcp/$port"
			done
			for port in ${5//,/ }; do
				[ "$port" = - ] && continue
				[ "$(ip netns exec "$3" "$LAB_DIR/agent" probe --proto udp --timeout 1s "$2:$port")" = OK ] || waiting="$1:udp/$port"
			done
		done <"$LAB_DIR/pods"
		[ -z "$waiting" ] && break
		[ $SECONDS -lt $deadline ] || die "server $waiting does not answer after 30s"
		sleep 0.1
	done

	# The firewall of the node netns. A new netns starts with
	# bridge-nf-call-iptables=1 already; set it anyway, there only.
	# The node forwards between the subnets of its bridge (pods, and
	# endpoints outside the cluster), without ICMP redirects, so that every
	# packet keeps going through it.
	ip netns exec "$node" sysctl -qw net.bridge.bridge-nf-call-iptables=1
	ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$node" sysctl -qw net.ipv4.conf.all.send_redirects=0
	ip netns exec "$node" sysctl -qw net.ipv4.conf.br0.send_redirects=0
	ip netns exec "$node" iptables -w -N LAB-NETPOL
	ip netns exec "$node" iptables -w -A LAB-NETPOL -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$LAB_QUEUE"
	# Bridged (pod to pod on the same segment) and routed (through a gateway,
	# after DNAT of a Service address) packets both leave through br0.
	ip netns exec "$node" iptables -w -I FORWARD 1 -i br0 -o br0 -j LAB-NETPOL
	if [ -n "${LAB_NAT_FILE:-}" ]; then
		services "$node" "$LAB_NAT_FILE"
	fi
	say "network up: $i pods in $((SECONDS - t0))s"

	if [ -n "${KUBECONFIG:-}" ]; then
		start_enforcer "$node"
	else
		say "KUBECONFIG is not set: no enforcer, so every new pod-to-pod connection is dropped (fail closed)"
	fi
	trap - EXIT
	echo "export LAB_DIR=$LAB_DIR"
}

# services NODE FILE: kube-proxy's job. Each "PROTO VIP PORT BACKEND:PORT..."
# line of FILE becomes DNAT rules in the node's nat table, spreading new
# connections over the backends in turn.
services() {
	local node=$1 file=$2 n=0 line proto vip port k total backend
	while IFS= read -r line; do
		n=$((n + 1))
		line=${line%%#*}
		set -- $line
		[ $# = 0 ] && continue
		[ $# -ge 4 ] && [[ $1 == tcp || $1 == udp ]] || die "$file:$n: want \"tcp|udp VIP PORT BACKEND:PORT...\", got \"$line\""
		proto=$1 vip=$2 port=$3
		shift 3
		total=$# k=0
		for backend in "$@"; do
			if [ $((total - k)) -gt 1 ]; then
				ip netns exec "$node" iptables -w -t nat -A PREROUTING -d "$vip" -p "$proto" --dport "$port" \
					-m statistic --mode nth --every $((total - k)) --packet 0 -j DNAT --to-destination "$backend"
			else
				ip netns exec "$node" iptables -w -t nat -A PREROUTING -d "$vip" -p "$proto" --dport "$port" \
					-j DNAT --to-destination "$backend"
			fi
			k=$((k + 1))
		done
	done <"$file"
}

# commas a b c: "a,b,c".
commas() {
	local IFS=,
	echo "$*"
}

make_netns() {
	ip netns add "$1"
	echo "$1" >>"$LAB_DIR/netns"
}

start_enforcer() {
	local node=$1 bin=${LAB_ENFORCER:-}
	if [ -z "$bin" ]; then
		bin="$LAB_DIR/enforcer"
		(cd "$here" && go build -o "$bin" ./enforcer) || die "building the enforcer failed"
	fi
	rm -f "$LAB_DIR/enforcer.ready"
	"$bin" --kubeconfig "$KUBECONFIG" --queue "$LAB_QUEUE" --netns "/run/netns/$node" \
		--ready-file "$LAB_DIR/enforcer.ready" >"$LAB_DIR/enforcer.log" 2>&1 &
	echo $! >"$LAB_DIR/enforcer.pid"
	echo $! >>"$LAB_DIR/pids"
	local deadline=$((SECONDS + 30))
	until [ -e "$LAB_DIR/enforcer.ready" ]; do
		kill -0 "$(cat "$LAB_DIR/enforcer.pid")" 2>/dev/null || { cat "$LAB_DIR/enforcer.log" >&2; die "the enforcer exited"; }
		[ $SECONDS -lt $deadline ] || die "the enforcer was not ready within 30s (log: $LAB_DIR/enforcer.log)"
		sleep 0.05
	done
	say "enforcer ready (log: $LAB_DIR/enforcer.log)"
}

# ----------------------------------------------------------------- down ----

down() {
	[ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] || die "LAB_DIR is not set or not a directory"
	local pid ns
	if [ -s "$LAB_DIR/pids" ]; then
		while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$LAB_DIR/pids"
		while read -r pid; do
			for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -9 "$pid" 2>/dev/null || true
		done <"$LAB_DIR/pids"
	fi
	# Deleting a netns removes its links, bridge, iptables rules and conntrack.
	if [ -s "$LAB_DIR/netns" ]; then
		while read -r ns; do ip netns del "$ns" 2>/dev/null || true; done <"$LAB_DIR/netns"
	fi
	rm -rf "$LAB_DIR"
	say "down"
}

# ---------------------------------------------------------------- probe ----

load() {
	[ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/state" ] || die "no lab: set LAB_DIR to what up printed"
	# shellcheck disable=SC1091
	. "$LAB_DIR/state"
}

# pod_field POD COLUMN: the address (2) or netns (3) of pod "ns/name".
pod_field() {
	awk -v p="$1" -v c="$2" '$1 == p { print $c; found = 1 } END { exit !found }' "$LAB_DIR/pods" || die "no pod $1"
}

probe() {
	[ $# = 3 ] || [ $# = 4 ] || die "usage: probe SRC DST PORT [tcp|udp]"
	load
	local src dst
	src=$(pod_field "$1" 3)
	dst=$(pod_field "$2" 2)
	ip netns exec "$src" "$LAB_DIR/agent" probe --proto "${4:-tcp}" --timeout "${LAB_TIMEOUT}s" "$dst:$3"

}

# ---------------------------------------------------------------- apply ----

# apply FILE: kubectl apply, then wait until the enforcer has seen the
# resourceVersion of every object applied, then flush the node's conntrack
# table so that no connection admitted under the old policies survives.
apply() {
	[ $# = 1 ] || die "usage: apply FILE"
	load
	[ -n "${KUBECONFIG:-}" ] || die "apply needs KUBECONFIG"
	[ -s "$LAB_DIR/enforcer.log" ] || die "no enforcer is running"
	local json lines line deadline
	json=$(kubectl apply -f "$1" -o json) || die "kubectl apply -f $1 failed"
	# One "kind key rv" line per object (a single object or a List).
	lines=$(jq -r '(if .kind == "List" then .items[] else . end)
		| "\(.kind) \(if .metadata.namespace then .metadata.namespace + "/" else "" end)\(.metadata.name) \(.metadata.resourceVersion)"' <<<"$json")
	deadline=$((SECONDS + 10))
	while read -r line; do
		set -- $line
		until grep -q " kind=$1 key=$2 rv=$3\$" "$LAB_DIR/enforcer.log"; do
			[ $SECONDS -lt $deadline ] || die "the enforcer did not see $1 $2 at rv $3 within 10s"
			sleep 0.02
		done
	done <<<"$lines"
	ip netns exec "$LAB_NODE" conntrack -F 2>/dev/null || true
	say "applied $(wc -l <<<"$lines") objects; the enforcer has them"
}

# -------------------------------------------------------------- traffic ---

# traffic FILE [ROUNDS]: the application's calls. Each "FROM TARGET" line of
# FILE makes every endpoint whose "ns/name" matches the glob FROM call
# TARGET, which is NAME:PORT (NAME resolved by a query to the DNS server
# $LAB_DNS first), ADDRESS:PORT, or @GLOB:PORT (each endpoint matching GLOB,
# by its address, as a scraper does). Prints one line per call; exits 1
# when any call failed.
traffic() {
	[ $# = 1 ] || [ $# = 2 ] || die "usage: traffic FILE [ROUNDS]"
	load
	set -f # FROM and @GLOB are patterns, not file names
	local file=$1 rounds=${2:-1} r n line from target id addr pns glob port targets t failed=0 calls=0 out
	[ -f "$file" ] || die "no traffic file $file"
	for ((r = 1; r <= rounds; r++)); do
		n=0
		while IFS= read -r line; do
			n=$((n + 1))
			line=${line%%#*}
			set -- $line
			[ $# = 0 ] && continue
			[ $# = 2 ] || die "$file:$n: want \"FROM TARGET\", got \"$line\""
			from=$1 target=$2 targets=
			if [[ $target == @* ]]; then
				glob=${target#@} port=${glob##*:} glob=${glob%:*}
				while read -r id addr _; do
					# shellcheck disable=SC2053
					[[ $id == $glob ]] && targets+=" $addr:$port"
				done <"$LAB_DIR/pods"
				[ -n "$targets" ] || die "$file:$n: no pod matches $glob"
			else
				targets=$target
			fi
			local matched=0
			while read -r id addr pns _; do
				# shellcheck disable=SC2053
				[[ $id == $from ]] || continue
				matched=1
				for t in $targets; do
					calls=$((calls + 1))
					if out=$(ip netns exec "$pns" "$LAB_DIR/agent" call ${LAB_DNS:+--dns "$LAB_DNS"} --timeout "${LAB_TIMEOUT}s" "$t"); then
						echo "$id $out"
					else
						echo "$id ${out:-FAIL $t: the agent failed}"
						failed=$((failed + 1))
					fi
				done
			done <"$LAB_DIR/pods"
			[ $matched = 1 ] || die "$file:$n: no pod matches $from"
		done <"$file"
	done
	say "$calls calls, $failed failed"
	[ $failed = 0 ]
}

# ---------------------------------------------------------------- matrix ---

# matrix PORT: every ordered pair of distinct pods, probed in parallel;
# prints "src dst port result" lines sorted.
matrix() {
	[ $# = 1 ] || [ $# = 2 ] || die "usage: matrix PORT [tcp|udp]"
	load
	local out src dst
	out=$(mktemp -d)
	while read -r src _; do
		while read -r dst _; do
			[ "$src" = "$dst" ] && continue
			(echo "$src $dst ${2:-tcp}/$1 $(probe "$src" "$dst" "$1" "${2:-tcp}")" >"$out/$(echo "$src-$dst" | tr / _)") &
		done <"$LAB_DIR/pods"
	done <"$LAB_DIR/pods"
	wait
	cat "$out"/* 2>/dev/null | sort
	rm -rf "$out"
}

case "${1:-}" in
up) up ;;
down) down ;;
pods) load; cat "$LAB_DIR/pods" ;;
traffic) shift; traffic "$@" ;;
probe) shift; probe "$@" ;;
apply) shift; apply "$@" ;;
matrix) shift; matrix "$@" ;;
*) die "usage: $0 up|down|pods|probe SRC DST PORT [PROTO]|matrix PORT [PROTO]|traffic FILE [ROUNDS]|apply FILE" ;;
esac
