import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The layers of docs/architecture.md are lint rules; these plant an import that breaks one and
 * expect the project's own ESLint config to refuse it (and to accept the allowed direction).
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layer rules', () => {
  it.each([
    ['src/control-plane/api/planted.ts', "import { AgentError } from '../../agent/errors.js';", /never import the agent/],
    ['src/agent/uplink/planted.ts', "import { ApiError } from '../../control-plane/errors.js';", /never import the control plane/],
    ['src/shared/planted.ts', "import { AgentError } from '../agent/errors.js';", /never import the agent/],
    ['src/shared/planted.ts', "import { frames } from '../protocol/index.js';", /imports nothing above it/],
    ['src/protocol/planted.ts', "import { openStore } from '../agent/store/database.js';", /never import the agent/],
    ['src/cve/planted.ts', "import { AgentError } from '../agent/errors.js';", /never import the agent/],
    ['src/cve/planted.ts', "import { ApiError } from '../control-plane/errors.js';", /never import the control plane/],
    ['src/cve/planted.ts', "import { frames } from '../protocol/index.js';", /CVE layer imports only the kernel/],
    ['src/shared/planted.ts', "import { CveError } from '../cve/errors.js';", /imports nothing above it/],
    ['src/agent/scan/planted.ts', "import { Outbox } from '../pipeline/outbox.js';", /knows nothing of the pipeline/],
    ['src/agent/scan/planted.ts', "import { UplinkClient } from '../uplink/uplink-client.js';", /knows nothing of the pipeline/],
    ['src/agent/scan/planted.ts', "import { createRouterSource } from '../routeros/index.js';", /knows nothing of the pipeline/],
    ['src/agent/pipeline/planted.ts', "import { parseTerse } from '../routeros/ssh/key-value.js';", /through routeros\/index\.js/],
    ['src/cli/planted.ts', "import { openOuiTable } from '../agent/routeros/oui-table.js';", /through routeros\/index\.js/],
    ['src/agent/uplink/planted.ts', "import { ScanRepository } from '../pipeline/scan-repository.js';", /through pipeline\/index\.js/],
    ['src/agent/planted.ts', "import { createScanRunner } from './pipeline/runner/run.js';", /through pipeline\/index\.js/],
    ['src/cli/planted.ts', "import { MarksRepository } from '../agent/pipeline/marks.js';", /through pipeline\/index\.js/],
    ['src/agent/routeros/planted.ts', "import { Netmask } from 'netmask';", /src\/shared\/ipv4\.ts alone/],
    ['src/control-plane/planted.ts', "import { Netmask } from 'netmask';", /src\/shared\/ipv4\.ts alone/],
  ])('%s: %s is refused', async (file, code, message) => {
    const messages = await restrictedImports(file, `${code}\nexport const x = 1;\n`);
    expect(messages).toEqual([expect.stringMatching(message)]);
  });

  it.each([
    ['src/control-plane/api/planted.ts', "import { systemClock } from '../../shared/clock.js';"],
    ['src/agent/pipeline/planted.ts', "import { createRouterSource } from '../routeros/index.js';"],
    ['src/agent/routeros/planted.ts', "import { parseTerse } from './ssh/key-value.js';"],
    ['src/agent/uplink/planted.ts', "import { commandSpec, type Scans } from '../pipeline/index.js';"],
    ['src/agent/pipeline/runner/planted.ts', "import { ScanRepository } from '../scan-repository.js';"],
    ['src/cli/planted.ts', "import { createAgent } from '../agent/agent.js';"],
    ['src/shared/ipv4.ts', "import { Netmask } from 'netmask';"],
    ['src/control-plane/planted.ts', "import { CveError } from '../cve/errors.js';"],
    ['src/agent/planted.ts', "import { CveError } from '../cve/errors.js';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await restrictedImports(file, `${code}\nexport const x = 1;\n`)).toEqual([]);
  });
});
