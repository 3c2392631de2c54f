#!/usr/bin/env bash
# release.sh: build the release archives of netpol and its krew manifest.
#
#   hack/release.sh VERSION [OUTDIR]        build into OUTDIR (default dist/VERSION)
#   hack/release.sh --update-manifest VERSION [OUTDIR]
#                                           ... and copy the manifest to plugins/krew/netpol.yaml
#   hack/release.sh --archives VERSION      print the archive names, one per platform, and stop
#
# For each platform (linux and darwin, amd64 and arm64) it builds kubectl-netpol
# and netpol (CGO_ENABLED=0, -trimpath, the version in `netpol version`) and
# packs them with README.md into netpol_VERSION_OS_ARCH.tar.gz. The archives
# are reproducible: the same tree and Go version give the same bytes (fixed
# file times, owners and order; gzip without a name or time). It writes
# OUTDIR/sha256sums.txt and OUTDIR/netpol.yaml, the krew manifest whose
# platforms name those archives (as assets of the GitHub release VERSION) with
# their sha256, and then checks the manifest against the archives.
set -euo pipefail

repo=https://github.com/netpol/netpol
platforms=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	echo "usage: $0 [--update-manifest] VERSION [OUTDIR] | --archives VERSION" >&2
	exit 2
}

archive() { # version os arch
	echo "netpol_$1_$2_$3.tar.gz"
}

update=0
case "${1:-}" in
--archives)
	[ $# -eq 2 ] || usage
	for p in "${platforms[@]}"; do archive "$2" "${p%/*}" "${p#*/}"; done
	exit 0
	;;
--update-manifest)
	update=1
	shift
	;;
esac
[ $# -ge 1 ] && [ $# -le 2 ] || usage
version=$1
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "version $version is not vMAJOR.MINOR.PATCH" >&2; exit 2; }
out=${2:-$root/dist/$version}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# build os arch dir: the two binaries of one platform.
build() {
	local ldflags="-s -w -X github.com/netpol/netpol/internal/cli.releaseVersion=$version"
	for cmd in kubectl-netpol netpol; do
		(cd "$root" && CGO_ENABLED=0 GOOS=$1 GOARCH=$2 GOFLAGS=-buildvcs=false \
			go build -trimpath -ldflags "$ldflags" -o "$3/$cmd" "./cmd/$cmd")
	done
}

# pack dir file: a reproducible tar.gz of the directory's files.
pack() {
	(cd "$1" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		--mode=u+rw,go+r,go-w -cf - ./*) | gzip -9 -n >"$2"
}

sums=()
for p in "${platforms[@]}"; do
	os=${p%/*} arch=${p#*/}
	name=$(archive "$version" "$os" "$arch")
	stage=$(mktemp -d)
	echo "building $name" >&2
	build "$os" "$arch" "$stage"
	cp "$root/README.md" "$stage/README.md"
	pack "$stage" "$out/$name"
	rm -rf "$stage"
	sums+=("$(cd "$out" && sha256sum "$name")")
done
printf '%s\n' "${sums[@]}" >"$out/sha256sums.txt"

# The krew manifest (https://krew.sigs.k8s.io/docs/developer-guide/plugin-manifest/).
{
	cat <<EOF
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: netpol
spec:
  version: $version
  homepage: $repo
  shortDescription: Simulate, learn and safely apply NetworkPolicies
  description: |
    kubectl netpol simulates Kubernetes NetworkPolicies exactly, on the live
    cluster or on manifest files: which pods can talk to which, and why. It
    learns the traffic that really flows (Hubble, conntrack), generates
    least-privilege policies from it, and applies them safely: server-side
    dry-run, diff, backup, a staged rollout that watches Hubble for
    regressions, and rollback.
  platforms:
EOF
	for p in "${platforms[@]}"; do
		os=${p%/*} arch=${p#*/}
		name=$(archive "$version" "$os" "$arch")
		sum=$(sha256sum "$out/$name" | cut -d' ' -f1)
		cat <<EOF
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $repo/releases/download/$version/$name
    sha256: $sum
    bin: kubectl-netpol
EOF
	done
} >"$out/netpol.yaml"

# Check the manifest against the archives: every uri names an archive of
# OUTDIR, with the sha256 given.
n=0
while read -r key value; do
	case "$key" in
	uri:) name=${value##*/} ;;
	sha256:)
		[ -f "$out/$name" ] || { echo "manifest names $name, which was not built" >&2; exit 1; }
		got=$(sha256sum "$out/$name" | cut -d' ' -f1)
		[ "$got" = "$value" ] || { echo "$name: sha256 $got, the manifest says $value" >&2; exit 1; }
		n=$((n + 1))
		;;
	esac
done <"$out/netpol.yaml"
[ "$n" -eq ${#platforms[@]} ] || { echo "the manifest has $n platforms, want ${#platforms[@]}" >&2; exit 1; }

if [ "$update" = 1 ]; then
	cp "$out/netpol.yaml" "$root/plugins/krew/netpol.yaml"
fi
echo "$out: ${#platforms[@]} archives, sha256sums.txt, netpol.yaml (checked)" >&2
