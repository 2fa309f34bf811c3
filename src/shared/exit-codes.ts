/**
 * Exit codes of both commands, after sysexits(3) so scripts and systemd can tell causes apart.
 * Each error catalog (src/agent/errors.ts, src/control-plane/errors.ts) picks one of these per
 * error; the README's exit-code table is generated from this list and the catalogs
 * (`npm run docs:exit-codes`), and a test fails when they differ.
 */
export const exitCodes = {
  ok: 0,
  failure: 1,
  usage: 64,
  dataInvalid: 65,
  notFound: 66,
  cannotCreate: 73,
  unavailable: 69,
  software: 70,
  tempFail: 75,
  protocol: 76,
  noPermission: 77,
  config: 78,
  interrupted: 130,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** What each exit code means, in the words of the README's table. */
export const exitCodeMeanings: Readonly<Record<ExitCode, string>> = {
  0: 'done; for `run` and `serve`, a clean stop',
  1: 'unexpected error, a part failed to stop, or a scan ended `failed`',
  64: 'usage error: an unknown command or option, or an option value that makes no sense',
  65: 'invalid data: a schedule, mark, target, port list, feed file, operator or token argument breaks a rule',
  66: 'not found: no such schedule, scan, site, operator or feed path',
  69: 'a peer is unavailable: the router, the NVD API, or the listen address',
  73: 'a file to be created exists already: `cve-control-plane init` without `--force`',
  70: 'internal error: an uncaught exception stopped the daemon',
  75: 'temporary failure, try again: the state directory is in use, or the router timed out or closed the session',
  76: 'a file or peer broke its format: a corrupt or newer database, a malformed router reply or NVD page',
  77: "refused: a login failed, an address lies outside the scope, the NVD API refused the key, or root cannot act as the state directory's owner (or that owner may not read a file the command was given)",
  78: 'invalid or unreadable config, or a setting missing from it',
  130: 'interrupted (Ctrl-C) before the work finished',
};
