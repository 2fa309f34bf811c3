import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = process.cwd();

describe('npm start builds only when a source changed', () => {
  it('compiles a changed tree once, then starts from dist/ without compiling', () => {
    const project = mkdtempSync(path.join(tmpdir(), 'build-if-stale-'));
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) copyFileSync(path.join(root, file), path.join(project, file));
    symlinkSync(path.join(root, 'node_modules'), path.join(project, 'node_modules'));
    mkdirSync(path.join(project, 'src'));
    writeFileSync(path.join(project, 'src/a.ts'), 'export const a: number = 1;\n');
    const run = (...flags: string[]) => {
      // The script talks on stderr; the shell folds it into what the test reads.
      return execFileSync('sh', ['-c', `"${process.execPath}" "${path.join(root, 'scripts/build-if-stale.mjs')}" ${flags.join(' ')} "${project}" 2>&1`], {
        encoding: 'utf8',
      });
    };
    expect(run()).toContain('compiling');
    expect(existsSync(path.join(project, 'dist/a.js'))).toBe(true);
    expect(run()).toContain('up to date');
    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(project, 'src/a.ts'), later, later);
    expect(run()).toContain('compiling');
    expect(run()).toContain('up to date');
    expect(run('--force')).not.toContain('up to date');
  });
});
