/**
 * The score thresholds of a run, in one place for the agent and the control plane. Both are
 * inclusive: a finding at exactly `min_cvss` is kept, one at exactly `warning_threshold` warns.
 */

/** Whether a finding is kept at all: it has a score, at or above the run's `min_cvss`. */
export const isKept = (score: number | null, minCvss: number): score is number => score !== null && score >= minCvss;

/** Whether a score is at or above the warning threshold (the per-finding `warning` flag). */
export const isWarning = (score: number, warningThreshold: number): boolean => score >= warningThreshold;

/**
 * What a report counts as a warning: at or above the threshold and still open. An accepted or
 * mitigated CVE is no longer a warning. Used by the agent's summary and the control plane's
 * report.json; the webhook's `warnings` is the scan's `warning_count`, which counts `isWarning`
 * at ingest (marks are not known there).
 */
export const isOpenWarning = (finding: { score: number; status: 'open' | 'accepted' | 'mitigated' }, warningThreshold: number): boolean =>
  finding.status === 'open' && isWarning(finding.score, warningThreshold);
