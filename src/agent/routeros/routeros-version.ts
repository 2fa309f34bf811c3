/** RouterOS text the router module reads besides versions (those are in shared/routeros-version.ts). */

/** RouterOS durations (`1w2d3h4m5s`, `3m9s`, `00:01:02`, `never`) in milliseconds; undefined when unknown. */
export function parseRouterOsDuration(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text === 'never') return undefined;
  const clock = /^(?:(\d+)d)?\s*(\d{1,2}):(\d{2}):(\d{2})$/.exec(text);
  if (clock) return (((Number(clock[1] ?? 0) * 24 + Number(clock[2])) * 60 + Number(clock[3])) * 60 + Number(clock[4])) * 1000;
  const units: Record<string, number> = { w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
  let total = 0;
  let rest = text;
  for (;;) {
    const part = /^(\d+)(ms|w|d|h|m|s)/.exec(rest);
    if (!part) break;
    total += Number(part[1]) * (units[part[2] ?? 's'] ?? 0);
    rest = rest.slice(part[0].length);
  }
  return rest === '' && text !== '' ? total : undefined;
}
