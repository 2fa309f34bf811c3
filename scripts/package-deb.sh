#!/usr/bin/env bash
# Builds cve-agent_<version>_<arch>.deb and cve-control-plane_<version>_<arch>.deb from this
# checkout with dpkg-deb (`npm run package`, after `npm ci && npm run build`).
#
# Each package owns its own tree: /usr/lib/<name> (the built app with its production
# node_modules, staged once by scripts/lib/stage-app.sh as scripts/install.sh does, so the native
# addons are this host's build: package on the target's architecture and node major),
# /usr/bin/<name> (a wrapper that execs /usr/bin/node), /lib/systemd/system/<name>.service, and
# /etc/<name>/config.example.yaml as a conffile. config.yaml itself is not in the package: the
# admin copies the example, and the unit, enabled by postinst, starts only once it exists
# (ConditionPathExists). Maintainer scripts: packaging/deb/.
#
# Environment:
#   DEB_VERSION      package version (default: package.json's "version")
#   DEB_OUT          output directory (default: dist-deb)
#   DEB_COMPRESSION  dpkg-deb -Z: xz (default), gzip, zstd or none; DEB_COMPRESSION_LEVEL: its -z
#   NODE_BIN         the node the packages run (default /usr/bin/node, which the nodejs package provides)
set -euo pipefail
umask 022

say() { printf 'package-deb: %s\n' "$*"; }
die() { printf 'package-deb: error: %s\n' "$*" >&2; exit 1; }

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/stage-app.sh
. "$src/scripts/lib/stage-app.sh"

command -v dpkg-deb >/dev/null || die "dpkg-deb is missing: this builds Debian packages on Debian (or use scripts/install.sh)"
node_bin="${NODE_BIN:-/usr/bin/node}"
[ -x "$node_bin" ] || die "$node_bin is missing: the packages run /usr/bin/node from the nodejs package (Depends: nodejs); install it, or set NODE_BIN"

version="${DEB_VERSION:-$("$node_bin" -p "require('$src/package.json').version")}"
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "'$version' is not a Debian version (DEB_VERSION)"
arch="$(dpkg --print-architecture)"
out="${DEB_OUT:-$src/dist-deb}"
compression=(-Z"${DEB_COMPRESSION:-xz}")
[ -z "${DEB_COMPRESSION_LEVEL:-}" ] || compression+=(-z"$DEB_COMPRESSION_LEVEL")

# The native addons are built against one node ABI (NODE_MODULE_VERSION), so the packages
# depend on that node major: >= 20.19 (package.json's engines) within it.
major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then die "$node_bin is node $major: edge-cve needs node >= 20.19"; fi
if [ "$major" -eq 20 ]; then min=20.19; else min="$major"; fi
depends="nodejs (>= $min), nodejs (<< $((major + 1))), adduser"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
app="$work/app"
mkdir -m 0755 "$app"
say "staging the app with its production node_modules (node $("$node_bin" --version))"
stage_app "$src" "$app" "$node_bin"

mkdir -p "$out"
build() {
  local name="$1" example="$2" description="$3" long="$4"
  local root="$work/$name"
  for f in "systemd/$name.service" "$example"; do [ -f "$src/$f" ] || die "$src/$f is missing"; done
  install -d "$root/DEBIAN" "$root/usr/lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/$name"
  # Hard links: the staged app is read, never changed, and the two packages share one copy here.
  cp -al "$app" "$root/usr/lib/$name"
  write_wrapper "$root/usr/bin/$name" "$name" /usr/bin/node
  install -m 0644 "$src/systemd/$name.service" "$root/lib/systemd/system/$name.service"
  install -m 0644 "$src/$example" "$root/etc/$name/config.example.yaml"
  echo "/etc/$name/config.example.yaml" >"$root/DEBIAN/conffiles"
  for script in postinst prerm postrm; do
    sed -e "s|@NAME@|$name|g" -e "s|@DESCRIPTION@|$description|g" "$src/packaging/deb/$script" >"$root/DEBIAN/$script"
    chmod 0755 "$root/DEBIAN/$script"
  done
  cat >"$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: edge-cve developers <edge-cve@invalid>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: net
Priority: optional
Description: $description
$long
CONTROL
  local deb="$out/${name}_${version}_${arch}.deb"
  dpkg-deb --root-owner-group "${compression[@]}" --build "$root" "$deb" >/dev/null
  say "built $deb ($(du -h "$deb" | cut -f1))"
}

build cve-agent config.example.yaml "edge-cve site agent" \
  " A daemon for each MikroTik site: scheduled network scans (hosts, open ports,
 service versions, the router's inventory) matched against a local CVE database,
 reported to the edge-cve control plane."
build cve-control-plane control-plane.example.yaml "edge-cve control plane" \
  " The central server of edge-cve: the CVE scan API, the hub the site agents dial
 into, the feed hub and the web console."
