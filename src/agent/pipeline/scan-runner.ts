import { randomInt } from 'node:crypto';

/** A label people can read out over the phone: "KQX-MWA-TRB". */
export function scanLabel(): string {
  const letter = () => String.fromCharCode(65 + randomInt(26));
  return Array.from({ length: 3 }, () => `${letter()}${letter()}${letter()}`).join('-');
}
