/** Exit codes of cve-agent, after sysexits(3) so scripts and systemd can tell causes apart. */
export const exitCodes = {
  ok: 0,
  failure: 1,
  usage: 64,
  dataInvalid: 65,
  notFound: 66,
  software: 70,
  locked: 75,
  database: 76,
  config: 78,
} as const;
