import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentError, agentErrors } from '../../src/agent/errors.js';
import { cveErrors } from '../../src/cve/errors.js';

// The agent's catalog and the CVE layer's (which the agent raises through its feed and lookup commands).
const catalog = { ...agentErrors, ...cveErrors };

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = [...doc.matchAll(/^## (\S+)$/gm)].map((match) => match[1]);

describe('the error catalog', () => {
  it('documents every code, and documents no code that does not exist', () => {
    expect(new Set(documented)).toEqual(new Set(Object.keys(catalog)));
  });

  it('documents each code with its exit status and how to solve it', () => {
    for (const [code, entry] of Object.entries(catalog)) {
      const section = doc.split(`## ${code}\n`)[1]?.split('\n## ')[0] ?? '';
      expect(section, code).toContain(`Exit ${entry.exitCode}.`);
      expect(section, code).toContain('How to solve:');
    }
  });

  it('carries the code and exit status on the error', () => {
    const error = new AgentError('AGENT_ERR_DB_LOCKED');
    expect(error.code).toBe('AGENT_ERR_DB_LOCKED');
    expect(error.exitCode).toBe(75);
    expect(error.message).toBe(agentErrors.AGENT_ERR_DB_LOCKED.message);
  });
});
