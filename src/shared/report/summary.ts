/**
 * Report-summary arithmetic, one copy for the agent's report and the control plane's API.
 * Score numbers are null when there is nothing to score (no findings): "no score" is not 0.
 */
import { isOpenWarning } from './thresholds.js';

/** Scores and ratios are shown with two decimals (half up, as Math.round does). */
export const roundScore = (value: number): number => Math.round(value * 100) / 100;

/** The mean score, rounded; null when there is no finding. */
export function averageScore(sum: number, count: number): number | null {
  return count === 0 ? null : roundScore(sum / count);
}

/** The highest score; null when there is no finding. */
export function highestScore(scores: Iterable<number>): number | null {
  let highest: number | null = null;
  for (const score of scores) if (highest === null || score > highest) highest = score;
  return highest;
}

/** Findings per distinct CVE, rounded; 0 when there is none. */
export function repeatRatio(count: number, unique: number): number {
  return unique === 0 ? 0 : roundScore(count / unique);
}

export interface SummaryFinding {
  cve_id: string;
  score: number;
  status: 'open' | 'accepted' | 'mitigated';
}

export interface SummaryHost {
  findings: readonly SummaryFinding[];
  /** Open ports; a service without a port (the router's own record) is not one. */
  ports: readonly { protocol: string | null; port: number }[];
}

export interface SummaryNumbers {
  hosts_scanned: number;
  hosts_with_cves: number;
  cve_count: number;
  unique_cves: number;
  cve_repeat_ratio: number;
  highest_score: number | null;
  average_score: number | null;
  open_ports: number;
  /** Distinct port numbers, whatever the protocol (tcp/53 and udp/53 are one). */
  unique_ports: number;
  /** Open findings at or above the warning threshold (`isOpenWarning`). */
  warnings: number;
  accepted: number;
  mitigated: number;
}

/** The summary numbers of one scan's hosts. */
export function summarise(hosts: readonly SummaryHost[], warningThreshold: number): SummaryNumbers {
  const all = hosts.flatMap((host) => host.findings);
  const unique = new Set(all.map((finding) => finding.cve_id)).size;
  const ports = hosts.flatMap((host) => host.ports);
  return {
    hosts_scanned: hosts.length,
    hosts_with_cves: hosts.filter((host) => host.findings.length > 0).length,
    cve_count: all.length,
    unique_cves: unique,
    cve_repeat_ratio: repeatRatio(all.length, unique),
    highest_score: highestScore(all.map((finding) => finding.score)),
    average_score: averageScore(
      all.reduce((sum, finding) => sum + finding.score, 0),
      all.length,
    ),
    open_ports: ports.length,
    unique_ports: new Set(ports.map((port) => port.port)).size,
    warnings: all.filter((finding) => isOpenWarning(finding, warningThreshold)).length,
    accepted: all.filter((finding) => finding.status === 'accepted').length,
    mitigated: all.filter((finding) => finding.status === 'mitigated').length,
  };
}
