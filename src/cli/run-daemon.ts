import type { Logger } from 'pino';
import { createAgent } from '../agent/agent.js';
import type { AgentConfig } from '../agent/config/load.js';
import { runUntilSignalled } from '../shared/lifecycle.js';

/** `cve-agent run`: the agent under the lifecycle kit (SIGTERM/SIGINT stop, SIGHUP reloads the config). Resolves to the exit code. */
export async function runDaemon(config: AgentConfig, logger: Logger, options: { dataDir?: string }): Promise<number> {
  const agent = createAgent({ config, logger, dataDir: options.dataDir });
  return runUntilSignalled({ start: (signal) => agent.start(signal), stop: () => agent.stop(), reload: () => void agent.reload() }, { logger });
}
