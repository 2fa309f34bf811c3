/** The CVSS qualitative severities, lowest first: the one list the protocol, the API and the stores share. */
export const SEVERITIES = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

export type Severity = (typeof SEVERITIES)[number];

export const isSeverity = (value: unknown): value is Severity => (SEVERITIES as readonly unknown[]).includes(value);
