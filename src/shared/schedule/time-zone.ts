/**
 * What a schedule's zone may be: a name of the IANA time zone database, spelled as the database
 * spells it ("Europe/London", "UTC", "Etc/GMT+5"), from the list checked in with the project.
 * Not the runtime's opinion: ICU also takes offsets ("+05:00" on Node 22 and later) and any
 * capitalisation, so asking Intl would accept different zones on different Nodes.
 */
import { IANA_ZONE_NAMES } from './iana-zone-names.js';

const names = new Set(IANA_ZONE_NAMES);
const byLowerCase = new Map(IANA_ZONE_NAMES.map((n) => [n.toLowerCase(), n]));

export function isIanaZoneName(name: string): boolean {
  return names.has(name);
}

/** Why `name` is not a zone a schedule may use, or undefined when it is one. */
export function zoneNameProblem(name: string): string | undefined {
  if (names.has(name)) return undefined;
  const spelled = byLowerCase.get(name.toLowerCase());
  if (spelled !== undefined) return `${JSON.stringify(name)} is not an IANA time zone; it is spelled ${spelled}`;
  return `${JSON.stringify(name)} is not an IANA time zone such as America/New_York or UTC`;
}
