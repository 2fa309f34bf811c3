/** The node options of systemd/cve-agent.service (Environment=NODE_OPTIONS=...), one per element. */
export function unitNodeOptions(unitFile?: URL | string): string[];
