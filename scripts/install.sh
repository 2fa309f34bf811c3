#!/usr/bin/env bash
# Installs the cve-agent from this checkout onto a Debian host (or into $DESTDIR for packaging).
#
# Usage, from a checkout where `npm ci && npm run build` has run:
#   sudo scripts/install.sh                      # onto this host
#   DESTDIR=/tmp/pkgroot scripts/install.sh      # staged tree; no user, no systemctl
#
# Where node_modules comes from: this checkout's, as it is (dev dependencies included), copied
# to a staging directory and pruned there with `npm prune --omit=dev --offline`. The checkout
# keeps its dev tools, nothing is fetched, and the native addons (better-sqlite3, unix-dgram)
# are the ones already built here: so run this with the same node major as the build. The
# script loads both addons with that node before it replaces anything.
#
# It never enables or starts the service; it prints the commands that do.
#
# Environment: DESTDIR (default: empty, the live system), NODE_BIN (default: node on PATH).
set -euo pipefail

# Everything under /usr must stay readable by the cve-agent user whatever the caller's umask.
umask 022

readonly SERVICE_USER=cve-agent
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destdir="${DESTDIR:-}"
destdir="${destdir%/}"

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

[ -f "$src/dist/cli/cve-agent.js" ] || die "$src/dist/cli/cve-agent.js is missing: run 'npm ci && npm run build' first"
for f in package.json package-lock.json systemd/cve-agent.service config.example.yaml; do
  [ -f "$src/$f" ] || die "$src/$f is missing"
done
[ -d "$src/node_modules" ] || die "$src/node_modules is missing: run 'npm ci' first"
command -v npm >/dev/null || die "npm is needed to prune dev dependencies"
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  die "installing onto this host needs root (or set DESTDIR)"
fi

node_bin="$(command -v "${NODE_BIN:-node}" || true)"
if [ -z "$node_bin" ] || [ ! -x "$node_bin" ]; then die "node not found (set NODE_BIN)"; fi
# The wrapper keeps the path as found (e.g. /usr/bin/node) so a node upgrade behind it is
# picked up; the check looks at where it really lives.
case "$(readlink -f "$node_bin")" in
  # ProtectHome=yes in the unit hides these from the service, so it could not exec node.
  /home/* | /root/* | /run/user/*) die "node resolves to $(readlink -f "$node_bin"), which the service cannot see: install node under /usr" ;;
esac

# Ownership by group cve-agent: on the live system the group exists by then (created below);
# a packaging build host usually lacks it, and its postinst must set it.
set_group() {
  if [ -z "$destdir" ]; then
    chgrp "$SERVICE_USER" "$1"
  elif getent group "$SERVICE_USER" >/dev/null && chgrp "$SERVICE_USER" "$1" 2>/dev/null; then
    :
  else
    say "note: left ${1#"$destdir"} in its current group; set root:$SERVICE_USER when packaging"
  fi
}

if [ -z "$destdir" ] && ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/cve-agent --no-create-home \
    --shell /usr/sbin/nologin --comment "edge-cve site agent" "$SERVICE_USER"
  say "created system user $SERVICE_USER"
fi

# The app: staged beside its final place (same filesystem), then swapped in with two renames
# so that a failed copy or prune leaves the installed release untouched.
lib_parent="$destdir/usr/lib"
app="$lib_parent/edge-cve"
mkdir -p "$lib_parent"
stage="$(mktemp -d "$lib_parent/.edge-cve.new.XXXXXX")"
old=""
cleanup() {
  # Put the previous release back if we stopped between the two renames.
  if [ -n "$old" ] && [ ! -e "$app" ]; then mv "$old" "$app"; fi
  rm -rf "$stage" ${old:+"$old"}
}
trap cleanup EXIT
chmod 0755 "$stage"

# data/ holds the starter CVE feed a new site matches against before its first update.
cp -R "$src/dist" "$src/data" "$src/package.json" "$src/package-lock.json" "$stage/"
mkdir "$stage/node_modules"
# "/." copies the contents even when node_modules is a symlink, so prune never reaches the
# checkout's own tree.
cp -R "$src/node_modules/." "$stage/node_modules/"
(cd "$stage" && npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
# prune leaves the emptied @scope directories behind.
find "$stage/node_modules" -mindepth 1 -maxdepth 1 -name '@*' -type d -empty -delete
(cd "$stage" && "$node_bin" -e "require('better-sqlite3'); require('unix-dgram')") ||
  die "the native addons do not load with $node_bin: rebuild the checkout with this node"
if [ -z "$destdir" ]; then
  chown -R root:root "$stage"
fi

if [ -e "$app" ]; then
  old="$lib_parent/.edge-cve.old.$$"
  mv "$app" "$old"
fi
mv "$stage" "$app"
say "installed the app in $app"

# A wrapper rather than a symlink: it does not depend on dist's shebang or exec bit, pins the
# node that loaded the addons above, and exec keeps node as the unit's MAINPID (sd_notify with
# NotifyAccess=main). The path is resolved from the wrapper itself so a DESTDIR tree runs too.
mkdir -p "$destdir/usr/bin"
wrapper="$destdir/usr/bin/cve-agent"
cat >"$wrapper.tmp" <<EOF
#!/bin/sh
# Written by edge-cve scripts/install.sh.
app="\$(dirname "\$(readlink -f "\$0")")/../lib/edge-cve"
exec "$node_bin" "\$app/dist/cli/cve-agent.js" "\$@"
EOF
chmod 0755 "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"

mkdir -p "$destdir/lib/systemd/system"
install -m 0644 "$src/systemd/cve-agent.service" "$destdir/lib/systemd/system/cve-agent.service"

install -d -m 0750 "$destdir/etc/cve-agent"
set_group "$destdir/etc/cve-agent"
config="$destdir/etc/cve-agent/config.yaml"
if [ -e "$config" ]; then
  say "kept the existing ${config#"$destdir"}"
else
  install -m 0640 "$src/config.example.yaml" "$config"
  set_group "$config"
  say "installed ${config#"$destdir"} from config.example.yaml: edit it before starting"
fi

install -d -m 0750 "$destdir/var/lib/cve-agent"
if [ -z "$destdir" ]; then
  chown "$SERVICE_USER:$SERVICE_USER" /var/lib/cve-agent
fi

if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  say "ran systemctl daemon-reload"
fi

cat <<'EOF'
install.sh: done. Next:
  sudoedit /etc/cve-agent/config.yaml
  runuser -u cve-agent -- cve-agent check-config --config /etc/cve-agent/config.yaml
  systemctl enable --now cve-agent
  systemctl status cve-agent
  journalctl -u cve-agent -f
After an upgrade: systemctl restart cve-agent
EOF
