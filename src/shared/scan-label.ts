/**
 * The human label of a scan ("ABC-DEF-GHJ"), derived from what both the agent and the control
 * plane know about the scan, so both show the same label with nothing more on the wire; and
 * the reading of a scan reference a person types (a UUID or a label).
 */
import { createHash } from 'node:crypto';

/** 24 letters: no I or O, so a label read out over the phone is not mistaken for 1 or 0. */
export const LABEL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * What identifies a scan on both sides, in order of precedence:
 * - a schedule slot (schedule id and slot time): unique on the control plane, known to every agent;
 * - a control-plane scan id (invoke, single-ip, multiple-ips), which the agent holds as `cp_scan_id`;
 * - else the agent's run id (a scan started on the agent alone; the control plane's kind `local`).
 */
export type ScanKey = { scheduleId: string; slotAt: string } | { scanId: string } | { runId: string };

/** The key of a scan from the fields either side stores. */
export function scanKeyOf(scan: { schedule_id: string | null; slot_at: string | null; cp_scan_id: string | null; run_id: string }): ScanKey {
  if (scan.schedule_id !== null && scan.slot_at !== null) return { scheduleId: scan.schedule_id, slotAt: scan.slot_at };
  if (scan.cp_scan_id !== null) return { scanId: scan.cp_scan_id };
  return { runId: scan.run_id };
}

function keyText(key: ScanKey): string {
  if ('scheduleId' in key) return `slot:${key.scheduleId.toLowerCase()}@${new Date(key.slotAt).toISOString()}`;
  if ('scanId' in key) return `scan:${key.scanId.toLowerCase()}`;
  return `run:${key.runId.toLowerCase()}`;
}

/** SHA-256 of the key; its first 8 bytes, big-endian, written as 9 base-24 letters, grouped 3-3-3. */
export function scanLabelOf(key: ScanKey): string {
  let n = createHash('sha256').update(keyText(key), 'utf8').digest().readBigUInt64BE(0);
  let letters = '';
  for (let i = 0; i < 9; i++) {
    letters = LABEL_ALPHABET[Number(n % 24n)] + letters;
    n /= 24n;
  }
  return `${letters.slice(0, 3)}-${letters.slice(3, 6)}-${letters.slice(6)}`;
}

export type ScanRef = { kind: 'uuid'; id: string } | { kind: 'label'; label: string };

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A scan reference as typed: a UUID in any case (returned lower-case), or a label in any case,
 * with dashes, spaces or nothing between the groups (returned "ABC-DEF-GHJ"). Labels are read
 * with A-Z, not only the label alphabet, so labels issued before it (with I or O) are found.
 */
export function parseScanRef(input: string): ScanRef | undefined {
  const text = input.trim();
  if (uuidPattern.test(text)) return { kind: 'uuid', id: text.toLowerCase() };
  const match = /^([A-Z]{3})[- ]?([A-Z]{3})[- ]?([A-Z]{3})$/i.exec(text);
  if (!match) return undefined;
  return { kind: 'label', label: `${match[1]}-${match[2]}-${match[3]}`.toUpperCase() };
}
