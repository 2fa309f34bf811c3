#!/usr/bin/env bash
# Installs the cve-agent or the cve-control-plane from this checkout onto a host without dpkg
# (Debian hosts: prefer the packages of `npm run package`), or into $DESTDIR for packaging.
#
# Usage, from a checkout where `npm ci && npm run build` has run:
#   sudo scripts/install.sh                      # the agent, onto this host
#   sudo scripts/install.sh control-plane        # the control plane, onto this host
#   DESTDIR=/tmp/pkgroot scripts/install.sh      # staged tree; no user, no systemctl
#
# Where node_modules comes from: this checkout's, as it is (dev dependencies included), copied
# to a staging directory and pruned there with `npm prune --omit=dev --offline`
# (scripts/lib/stage-app.sh, shared with the .deb packager). The checkout keeps its dev tools,
# nothing is fetched, and the native addons (better-sqlite3, unix-dgram) are the ones already
# built here: so run this with the same node major as the build. Both addons are loaded with
# that node before anything is replaced.
#
# It never enables or starts the service; it prints the commands that do.
#
# Environment: DESTDIR (default: empty, the live system), NODE_BIN (default: node on PATH).
set -euo pipefail

# Everything under /usr must stay readable by the service user whatever the caller's umask.
umask 022

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

case "${1:-agent}" in
  agent) readonly SERVICE_USER=cve-agent example=config.example.yaml comment="edge-cve site agent" ;;
  control-plane) readonly SERVICE_USER=cve-control-plane example=control-plane.example.yaml comment="edge-cve control plane" ;;
  *) die "usage: install.sh [agent|control-plane] (got '$1')" ;;
esac
[ $# -le 1 ] || die "usage: install.sh [agent|control-plane]"

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
destdir="${DESTDIR:-}"
destdir="${destdir%/}"

[ -f "$src/dist/cli/$SERVICE_USER.js" ] || die "$src/dist/cli/$SERVICE_USER.js is missing: run 'npm ci && npm run build' first"
# shellcheck source=scripts/lib/stage-app.sh
. "$src/scripts/lib/stage-app.sh"
for f in package.json package-lock.json "systemd/$SERVICE_USER.service" "$example"; do
  [ -f "$src/$f" ] || die "$src/$f is missing"
done
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
  die "installing onto this host needs root (or set DESTDIR)"
fi
# Files a package owns are dpkg's to replace: mixing the two would leave dpkg's list wrong.
if [ -z "$destdir" ] && dpkg-query -W -f='${Status}' "$SERVICE_USER" 2>/dev/null | grep -q ' installed$'; then
  die "$SERVICE_USER is installed from its .deb: upgrade it with 'apt-get install ./${SERVICE_USER}_<version>_<arch>.deb'"
fi

node_bin="$(command -v "${NODE_BIN:-node}" || true)"
if [ -z "$node_bin" ] || [ ! -x "$node_bin" ]; then die "node not found (set NODE_BIN)"; fi
# The wrapper keeps the path as found (e.g. /usr/bin/node) so a node upgrade behind it is
# picked up; the check looks at where it really lives.
case "$(readlink -f "$node_bin")" in
  # ProtectHome=yes in the unit hides these from the service, so it could not exec node.
  /home/* | /root/* | /run/user/*) die "node resolves to $(readlink -f "$node_bin"), which the service cannot see: install node under /usr" ;;
esac

# Ownership by the service user's group: on the live system the group exists by then (created below);
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
  useradd --system --user-group --home-dir "/var/lib/$SERVICE_USER" --no-create-home \
    --shell /usr/sbin/nologin --comment "$comment" "$SERVICE_USER"
  say "created system user $SERVICE_USER"
fi

# The app: staged beside its final place (same filesystem), then swapped in with two renames
# so that a failed copy or prune leaves the installed release untouched.
lib_parent="$destdir/usr/lib"
app="$lib_parent/$SERVICE_USER"
mkdir -p "$lib_parent"
stage="$(mktemp -d "$lib_parent/.$SERVICE_USER.new.XXXXXX")"
old=""
cleanup() {
  # Put the previous release back if we stopped between the two renames.
  if [ -n "$old" ] && [ ! -e "$app" ]; then mv "$old" "$app"; fi
  rm -rf "$stage" ${old:+"$old"}
}
trap cleanup EXIT
chmod 0755 "$stage"
stage_app "$src" "$stage" "$node_bin"
if [ -z "$destdir" ]; then
  chown -R root:root "$stage"
fi

if [ -e "$app" ]; then
  old="$lib_parent/.$SERVICE_USER.old.$$"
  mv "$app" "$old"
fi
mv "$stage" "$app"
say "installed the app in $app"

mkdir -p "$destdir/usr/bin"
write_wrapper "$destdir/usr/bin/$SERVICE_USER" "$SERVICE_USER" "$node_bin"
# Releases before the control plane could be installed put the agent in /usr/lib/edge-cve.
if [ "$SERVICE_USER" = cve-agent ] && [ -d "$destdir/usr/lib/edge-cve" ]; then
  rm -rf "$destdir/usr/lib/edge-cve"
  say "removed the previous release's /usr/lib/edge-cve"
fi

mkdir -p "$destdir/lib/systemd/system"
install -m 0644 "$src/systemd/$SERVICE_USER.service" "$destdir/lib/systemd/system/$SERVICE_USER.service"

install -d -m 0750 "$destdir/etc/$SERVICE_USER"
set_group "$destdir/etc/$SERVICE_USER"
config="$destdir/etc/$SERVICE_USER/config.yaml"
if [ -e "$config" ]; then
  say "kept the existing ${config#"$destdir"}"
else
  install -m 0640 "$src/$example" "$config"
  set_group "$config"
  say "installed ${config#"$destdir"} from $example: edit it before starting"
fi

install -d -m 0750 "$destdir/var/lib/$SERVICE_USER"
if [ -z "$destdir" ]; then
  chown "$SERVICE_USER:$SERVICE_USER" "/var/lib/$SERVICE_USER"
fi

if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  say "ran systemctl daemon-reload"
fi

if [ "$SERVICE_USER" = cve-agent ]; then check="cve-agent check-config"; else check="cve-control-plane sites list"; fi
cat <<EOF
install.sh: done. Next:
  sudoedit /etc/$SERVICE_USER/config.yaml
  runuser -u $SERVICE_USER -- $check --config /etc/$SERVICE_USER/config.yaml
  systemctl enable --now $SERVICE_USER
  systemctl status $SERVICE_USER
  journalctl -u $SERVICE_USER -f
After an upgrade: systemctl restart $SERVICE_USER
EOF
