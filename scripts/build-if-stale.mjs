// Builds dist/ only when a source is newer than the last build, so `npm start` reaches READY
// without recompiling an unchanged tree. The stamp is written after a successful build.
// tsc compiles src/ into dist/, then Vite bundles the web console into dist/console/, and the
// agent's vendor table data/oui/oui.db is made from the oui-data package (build-oui-table.mjs).
// Usage: node scripts/build-if-stale.mjs [--force] [root]   (root defaults to the project; --force always builds)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const force = args.includes('--force');
const root = path.resolve(args.find((arg) => arg !== '--force') ?? path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

const sources = Math.max(...inputs.map((entry) => newestMtime(path.join(root, entry))));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built >= sources && !force) {
  console.error('build: dist/ is up to date');
} else {
  const tsc = createRequire(path.join(root, 'package.json')).resolve('typescript/bin/tsc');
  if (!force) console.error('build: sources changed since the last build; compiling');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  // The web console (browser code, not compiled by tsc): Vite bundles it into dist/console/.
  const viteConfig = path.join(root, 'src/control-plane/console/web/vite.config.ts');
  if (existsSync(viteConfig)) {
    const vite = path.join(path.dirname(createRequire(path.join(root, 'package.json')).resolve('vite/package.json')), 'bin/vite.js');
    execFileSync(process.execPath, [vite, 'build', '--config', viteConfig], { stdio: 'inherit', cwd: root });
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  // A source dated in the future (a clock that jumped, an archive) must not make every start rebuild.
  const stampAt = new Date(Math.max(Date.now(), Math.ceil(sources) + 1)); // +1 ms: utimes rounds through float seconds
  utimesSync(stamp, stampAt, stampAt);
}

// The vendor table has its own inputs (the registry package and its builder), so its own check.
const { buildOuiTable, ouiSourcePath, ouiTablePath } = await import('./build-oui-table.mjs');
const table = ouiTablePath(root);
const tableInputs = Math.max(newestMtime(ouiSourcePath(root)), newestMtime(fileURLToPath(new URL('./build-oui-table.mjs', import.meta.url))));
if (force || !existsSync(table) || statSync(table).mtimeMs < tableInputs) {
  const built = await buildOuiTable(root);
  console.error(`build: ${path.relative(root, built.file)}: ${built.blocks} blocks, ${built.vendors} vendors from ${built.source}`);
}
