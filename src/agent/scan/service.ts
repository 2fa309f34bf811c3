import { z } from 'zod';

/**
 * How sure a finding is, highest first. An exact version read from the service's own banner
 * beats a version read from a page it serves, which beats a product without version, which
 * beats a protocol recognised without product, which beats a name guessed from the port.
 */
export const confidence = {
  exactBanner: 95,
  versionFromContent: 85,
  productOnly: 70,
  protocolOnly: 50,
  portGuess: 20,
} as const;

/** Evidence is the exact bytes it came from, bounded: enough to audit, never a flood. */
export const MAX_EVIDENCE_CHARS = 512;

export const serviceFindingSchema = z
  .object({
    port: z.number().int().min(1).max(65535),
    protocol: z.enum(['tcp', 'udp']),
    service: z.string().min(1),
    product: z.string().min(1).optional(),
    vendor: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    update: z.string().min(1).optional(),
    /** A release channel printed with the version (RouterOS `(long-term)`), as printed. */
    channel: z.string().min(1).optional(),
    distro: z.string().min(1).optional(),
    confidence: z.number().int().min(0).max(100),
    evidence: z.string().max(MAX_EVIDENCE_CHARS),
    facts: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export type ServiceFinding = z.infer<typeof serviceFindingSchema>;

/** Printable, single-line, bounded: a banner as it can be logged and stored. */
export function evidenceText(raw: string | Buffer): string {
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  const printable = text
    .replace(/\r/g, '')
    .replace(/\n/g, '\\n')
    // eslint-disable-next-line no-control-regex -- escaping control bytes is the point
    .replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return printable.length > MAX_EVIDENCE_CHARS ? `${printable.slice(0, MAX_EVIDENCE_CHARS - 1)}…` : printable;
}

/** What a parser makes of a banner; the probe adds where it was seen. */
export type Identification = Omit<ServiceFinding, 'port' | 'protocol'>;

export function located(identification: Identification, port: number, protocol: 'tcp' | 'udp'): ServiceFinding {
  const finding: ServiceFinding = { port, protocol, ...identification };
  for (const key of Object.keys(finding) as (keyof ServiceFinding)[]) if (finding[key] === undefined) delete finding[key];
  return finding;
}
