/**
 * The console's budget: all its JavaScript at most 150 KB gzipped, and an index.html the CSP
 * allows (no inline script or style, nothing from another origin). Reads dist/console, which
 * `npm run build` (and the test run's global setup) writes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const CONSOLE_DIR = path.resolve(import.meta.dirname, '../../../dist/console');
const BUDGET_BYTES = 150 * 1024;

describe('the built console', () => {
  it('ships at most 150 KB of gzipped JavaScript', () => {
    const scripts = readdirSync(path.join(CONSOLE_DIR, 'assets')).filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const sizes = scripts.map((name) => {
      const bytes = readFileSync(path.join(CONSOLE_DIR, 'assets', name));
      return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
    const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
    for (const s of sizes) console.log(`console bundle: ${s.name} ${(s.raw / 1024).toFixed(1)} KB, ${(s.gzip / 1024).toFixed(1)} KB gzipped`);
    console.log(`console bundle: all JavaScript ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_BYTES / 1024} KB)`);
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('has an index.html with no inline script or style and nothing from another origin', () => {
    const html = readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/assets\/[\w.-]+\.js"/);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son\w+=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
