import { readFileSync } from 'node:fs';

/** The agent's version for the hello: package.json's, which sits three levels up in src/ and in dist/. */
export function readAgentVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version.slice(0, 64) : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
