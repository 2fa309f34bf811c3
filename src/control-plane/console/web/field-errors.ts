/**
 * The API's 422 messages are `"<field>: <text>"`, several joined by "; " (`min_cvss: must be from 0
 * to 10; sites[0].subnet: …`): split them so each lands next to its field.
 */
export function fieldErrors(message: string): Map<string, string> {
  const errors = new Map<string, string>();
  for (const part of message.split(/; (?=[A-Za-z_][\w.[\]]*: )/)) {
    const match = /^([A-Za-z_][\w.[\]]*): ([\s\S]*)$/.exec(part);
    if (!match) continue;
    const [, field, text] = match as unknown as [string, string, string];
    errors.set(field, errors.has(field) ? `${errors.get(field)}; ${text}` : text);
  }
  return errors;
}
