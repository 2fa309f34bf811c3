# shellcheck shell=bash
# Shared by scripts/install.sh and scripts/package-deb.sh (sourced, not run): stages the built app
# with its production node_modules, and writes the /usr/bin wrapper. Callers set -euo pipefail
# and define die().

# stage_app SRC DEST NODE: copies dist/, data/ (the starter CVE feed a new site matches against
# before its first update), package.json and package-lock.json from the checkout SRC into the
# empty directory DEST, with SRC's node_modules pruned of dev dependencies. Nothing is fetched:
# the native addons (better-sqlite3, unix-dgram) are the ones built in SRC, so both are loaded
# with NODE here, before anything is installed.
stage_app() {
  local src="$1" dest="$2" node="$3"
  [ -f "$src/dist/cli/cve-agent.js" ] || die "$src/dist/cli/cve-agent.js is missing: run 'npm ci && npm run build' first"
  [ -f "$src/dist/cli/cve-control-plane.js" ] || die "$src/dist/cli/cve-control-plane.js is missing: run 'npm ci && npm run build' first"
  [ -d "$src/node_modules" ] || die "$src/node_modules is missing: run 'npm ci' first"
  command -v npm >/dev/null || die "npm is needed to prune dev dependencies"
  cp -R "$src/dist" "$src/data" "$src/package.json" "$src/package-lock.json" "$dest/"
  mkdir "$dest/node_modules"
  # "/." copies the contents even when node_modules is a symlink, so prune never reaches the
  # checkout's own tree.
  cp -R "$src/node_modules/." "$dest/node_modules/"
  (cd "$dest" && npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  # prune leaves the emptied @scope directories behind.
  find "$dest/node_modules" -mindepth 1 -maxdepth 1 -name '@*' -type d -empty -delete
  # The native addons' build leftovers (object files, static libraries, better-sqlite3's copy of
  # the SQLite sources): about 30 MB that no one loads; the .node files stay.
  find "$dest/node_modules" -type d -path '*/build/Release/*' \( -name obj -o -name obj.target -o -name .deps \) -prune -exec rm -rf {} +
  find "$dest/node_modules" -type f -path '*/build/Release/*' -name '*.a' -delete
  rm -rf "$dest/node_modules/better-sqlite3/deps" "$dest/node_modules/better-sqlite3/src"
  (cd "$dest" && "$node" -e "require('better-sqlite3'); require('unix-dgram')") ||
    die "the native addons do not load with $node: rebuild the checkout with this node"
}

# write_wrapper PATH NAME NODE: /usr/bin/NAME. A wrapper rather than a symlink: it does not
# depend on dist's shebang or exec bit, pins the node that loaded the addons, and exec keeps
# node as the unit's MAINPID (sd_notify with NotifyAccess=main). The app is found from the
# wrapper's own path (../lib/NAME), so a DESTDIR tree runs too.
write_wrapper() {
  local path="$1" name="$2" node="$3"
  cat >"$path.tmp" <<WRAPPER
#!/bin/sh
# Written by edge-cve's scripts/lib/stage-app.sh.
app="\$(dirname "\$(readlink -f "\$0")")/../lib/$name"
exec "$node" "\$app/dist/cli/$name.js" "\$@"
WRAPPER
  chmod 0755 "$path.tmp"
  mv "$path.tmp" "$path"
}
