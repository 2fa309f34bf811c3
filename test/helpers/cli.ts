import { fileURLToPath } from 'node:url';

/**
 * The built commands the tests run as processes: compiled once by the global setup
 * (test/global-setup.ts, only when a source changed), so a test that starts many CLI processes
 * does not pay tsx's transpile per process, and what is tested is what ships.
 */
export const agentCli = fileURLToPath(new URL('../../dist/cli/cve-agent.js', import.meta.url));
export const controlPlaneCli = fileURLToPath(new URL('../../dist/cli/cve-control-plane.js', import.meta.url));
