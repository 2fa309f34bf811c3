/**
 * What a report could not see. A clean report is only worth what it covered, so every report
 * (the agent's CLI, the control plane's report.json, the webhook summary) carries this: the
 * addresses in scope and how many answered, what stayed silent, services seen without a version
 * (no CVE could be judged), probes cut by a deadline, the router and its MikroTik neighbors
 * judged or not and why, and the CVE data's size and age. The agent computes it (its scan.finished
 * report carries it), the control plane stores it per site. docs/reports.md describes the shape.
 */
import { z } from 'zod';

/** Each list holds at most this many entries; its `count` is the whole number. Keeps scan.finished well under a frame. */
export const COVERAGE_LIST_MAX = 200;

const count = z.int().min(0);
const address = z.string().max(45);
const name = z.string().max(255).nullable();

/** The router or one of its MikroTik neighbors: judged from the RouterOS version the router reported (no packet sent), or why not. */
export const deviceJudgementSchema = z.strictObject({
  role: z.enum(['router', 'neighbor']),
  /** The address it is reported under; null when it has none the report can key it by. */
  ip: address.nullable(),
  identity: name,
  mac: z.string().max(17).nullable(),
  version: z.string().max(100).nullable(),
  judged: z.boolean(),
  /** Why it was not judged; null when judged. */
  reason: z.string().max(500).nullable(),
});

export const coverageSchema = z.strictObject({
  addresses: z.strictObject({
    /** Addresses the run was allowed to probe. */
    in_scope: count,
    /** Of those, how many answered a probe (a connect accepted or refused, a port open). */
    answered: count,
  }),
  /** Hosts the router's tables name inside the scope that answered no probe (not a port of the scanned list open). */
  router_known_silent: z.strictObject({
    count,
    hosts: z.array(z.strictObject({ ip: address, mac: z.string().max(17).nullable(), hostname: name })).max(COVERAGE_LIST_MAX),
  }),
  /** Hosts found alive (a connect refused) with no port of the scanned list open: nothing on them was judged. */
  alive_without_open_port: z.strictObject({ count, hosts: z.array(address).max(COVERAGE_LIST_MAX) }),
  /** Open ports whose service was seen without a product or a version: no CVE could be judged on them. */
  services_unversioned: z.strictObject({
    count,
    services: z
      .array(
        z.strictObject({
          ip: address,
          port: z.int().min(1).max(65535),
          protocol: z.enum(['tcp', 'udp']),
          service: z.string().max(64),
          product: z.string().max(200).nullable(),
          version: z.string().max(100).nullable(),
        }),
      )
      .max(COVERAGE_LIST_MAX),
  }),
  /** Probes that ran out of time or were cut by a limit before they could name the service. */
  probes_cut: z.strictObject({
    count,
    probes: z
      .array(z.strictObject({ ip: address, port: z.int().min(1).max(65535), protocol: z.enum(['tcp', 'udp']), reason: z.string().max(200) }))
      .max(COVERAGE_LIST_MAX),
  }),
  /** The site's router: read or not, judged or not, and why. */
  router: z.strictObject({
    state: z.enum(['read', 'unreachable', 'not_configured', 'not_read']),
    judged: z.boolean(),
    reason: z.string().max(500).nullable(),
  }),
  /** The router and each MikroTik neighbor it reported, judged or not. */
  devices: z.array(deviceJudgementSchema).max(COVERAGE_LIST_MAX),
  /** The CVE data the run matched against; null when none was loaded. */
  cve_data: z
    .strictObject({
      cves: count,
      newest_record: z.string().max(40).nullable(),
      data_as_of: z.string().max(40).nullable(),
      age_days: count.nullable(),
      stale: z.boolean(),
      /** The agent's feed.max_age_days: past it, `stale`. Absent in reports from before it was said. */
      max_age_days: z.number().nonnegative().max(3650).optional(),
    })
    .nullable(),
  /** One line each for what the report could not judge: a router or neighbor not judged, stale or missing CVE data. */
  warnings: z.array(z.string().max(500)).max(100),
});

export type Coverage = z.infer<typeof coverageSchema>;
export type DeviceJudgement = z.infer<typeof deviceJudgementSchema>;

/** The short form a webhook carries: the counts and the warnings, the lists left to report.json. */
export interface CoverageSummary {
  addresses_in_scope: number;
  addresses_answered: number;
  router_known_silent: number;
  alive_without_open_port: number;
  services_unversioned: number;
  probes_cut: number;
  devices_judged: number;
  devices_not_judged: number;
  cve_data: { cves: number; age_days: number | null; stale: boolean; max_age_days?: number } | null;
  warnings: string[];
}

export function coverageSummary(coverage: Coverage): CoverageSummary {
  return {
    addresses_in_scope: coverage.addresses.in_scope,
    addresses_answered: coverage.addresses.answered,
    router_known_silent: coverage.router_known_silent.count,
    alive_without_open_port: coverage.alive_without_open_port.count,
    services_unversioned: coverage.services_unversioned.count,
    probes_cut: coverage.probes_cut.count,
    devices_judged: coverage.devices.filter((device) => device.judged).length,
    devices_not_judged: coverage.devices.filter((device) => !device.judged).length,
    cve_data: coverage.cve_data && {
      cves: coverage.cve_data.cves,
      age_days: coverage.cve_data.age_days,
      stale: coverage.cve_data.stale,
      ...(coverage.cve_data.max_age_days === undefined ? {} : { max_age_days: coverage.cve_data.max_age_days }),
    },
    warnings: coverage.warnings,
  };
}

/** " (stale: older than 7 day(s))", or " (stale)" in a report that did not carry the limit. */
function staleNote(data: NonNullable<Coverage['cve_data']>): string {
  if (!data.stale) return '';
  return data.max_age_days === undefined ? ' (stale)' : ` (stale: older than ${data.max_age_days} day(s))`;
}

/** A few lines for a terminal: what was covered and what was not. */
/** How many entries of a list a human line shows before ", N more". */
const SHOWN_PER_LINE = 8;

export function coverageLines(coverage: Coverage): string[] {
  const c = coverage;
  // A person reads a few of each list and the count; `--json` and the API carry them whole.
  const listed = (items: readonly string[], total: number) => {
    const shown = items.slice(0, SHOWN_PER_LINE);
    return `${shown.join(', ')}${total > shown.length ? `, ${total - shown.length} more` : ''}`;
  };
  const lines = [`addresses: ${c.addresses.answered} of ${c.addresses.in_scope} in scope answered`];
  if (c.router_known_silent.count > 0)
    lines.push(
      `known to the router, silent: ${c.router_known_silent.count} (${listed(
        c.router_known_silent.hosts.map((h) => h.ip),
        c.router_known_silent.count,
      )})`,
    );
  if (c.alive_without_open_port.count > 0)
    lines.push(`alive, no scanned port open: ${c.alive_without_open_port.count} (${listed(c.alive_without_open_port.hosts, c.alive_without_open_port.count)})`);
  if (c.services_unversioned.count > 0)
    lines.push(
      `services without a version (no CVE judged): ${c.services_unversioned.count} (${listed(
        c.services_unversioned.services.map((s) => `${s.ip}:${s.port}/${s.protocol} ${s.product ?? s.service}`),
        c.services_unversioned.count,
      )})`,
    );
  if (c.probes_cut.count > 0)
    lines.push(
      `probes cut: ${c.probes_cut.count} (${listed(
        c.probes_cut.probes.map((p) => `${p.ip}:${p.port}/${p.protocol} ${p.reason}`),
        c.probes_cut.count,
      )})`,
    );
  for (const device of c.devices)
    lines.push(
      `${device.role} ${device.identity ?? device.ip ?? '?'}${device.ip ? ` (${device.ip})` : ''}: ${device.judged ? `judged (RouterOS ${device.version ?? '?'})` : `not judged: ${device.reason ?? '?'}`}`,
    );
  if (c.devices.length === 0) lines.push(`router: ${c.router.judged ? 'judged' : `not judged: ${c.router.reason ?? '?'}`}`);
  lines.push(
    c.cve_data
      ? `CVE data: ${c.cve_data.cves} CVEs, ${c.cve_data.age_days === null ? 'age unknown' : `${c.cve_data.age_days} day(s) old`}${staleNote(c.cve_data)}`
      : 'CVE data: none loaded',
  );
  for (const warning of c.warnings) lines.push(`warning: ${warning}`);
  return lines;
}
