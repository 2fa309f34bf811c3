import type { DistroStatusRow } from './status-rows.js';
import { debianStatusRow, TrackerDataError, type DebianReleaseView } from './tracker-rows.js';

/**
 * The Debian security tracker's own list files (security-tracker.git `data/CVE/list`,
 * `data/DSA/list`, `data/DLA/list`): an entry is a header line at column 0 followed by
 * tab-indented annotation lines. ../shared/data/debian/README.md describes the conventions.
 */

/** The releases a verdict can name (Debian 11, 12, 13). */
export const debianReleases = ['bookworm', 'bullseye', 'trixie'] as const;

export interface DebianListEntry {
  header: string;
  lines: string[];
}

/** One `[release] - pkg VERSION|<kind> (note)` line; release undefined = unstable. */
export interface DebianPackageLine {
  release: string | undefined;
  package: string;
  kind: string;
  version: string;
  /** The parenthesised text without its `bug #N` parts: urgency or reason. */
  note: string;
}

/** A malformed list: the source reports it as CVE_ERR_SOURCE_PROTOCOL, the script as an error. */
export class DebianListError extends TrackerDataError {}

/** Splits a list into entries; every line is a header or an indented annotation, else the body is malformed. */
export function parseDebianList(text: string, where: string): DebianListEntry[] {
  const entries: DebianListEntry[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    if (/^\s/.test(line)) {
      const current = entries.at(-1);
      if (current === undefined) throw new DebianListError(`${where} line ${index + 1}: an annotation before any entry`);
      current.lines.push(line.trim());
    } else {
      entries.push({ header: line, lines: [] });
    }
  });
  return entries;
}

const packageLine = /^(?:\[([a-z-]+)\]\s+)?-\s+([a-z0-9][a-z0-9.+-]*)(?:\s+(?:<([a-z-]+)>|([^\s(]+)))?\s*(?:\((.*)\))?\s*$/;

export function parsePackageLine(line: string): DebianPackageLine | undefined {
  const match = packageLine.exec(line);
  if (!match) return undefined;
  const note = (match[5] ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/^bug #\d+$/.test(part))
    .join('; ');
  return {
    release: match[1],
    package: match[2] as string,
    kind: match[3] ?? (match[4] === undefined ? 'unfixed' : 'fixed'),
    version: match[4] ?? '',
    note,
  };
}

/** A `[release] - pkg VERSION` line of a DSA/DLA that fixes a CVE. */
interface AdvisoryFix {
  advisory: string;
  list: 'DSA' | 'DLA';
  release: string;
  package: string;
  version: string;
}

const cveHeader = /^(CVE-\d{4}-(?:\d{4,}|X+))(?:\s|$)/;
const advisoryHeader = /^\[[^\]]+\]\s+(D[SL]A-\d+(?:-\d+)?)\s/;

/** The fixes each advisory list names, by CVE. */
export function advisoryFixes(entries: DebianListEntry[], list: 'DSA' | 'DLA', where: string): Map<string, AdvisoryFix[]> {
  const byCve = new Map<string, AdvisoryFix[]>();
  for (const entry of entries) {
    const advisory = advisoryHeader.exec(entry.header)?.[1];
    if (advisory === undefined) throw new DebianListError(`${where}: not an advisory header: ${entry.header.slice(0, 80)}`);
    const cves = entry.lines.filter((line) => line.startsWith('{')).flatMap((line) => line.match(/CVE-\d{4}-\d{4,}/g) ?? []);
    for (const line of entry.lines) {
      const fix = line.startsWith('[') ? parsePackageLine(line) : undefined;
      if (fix?.release === undefined || fix.kind !== 'fixed') continue;
      for (const cve of cves) {
        const list_ = byCve.get(cve) ?? [];
        list_.push({ advisory, list, release: fix.release, package: fix.package, version: fix.version });
        byCve.set(cve, list_);
      }
    }
  }
  return byCve;
}

/**
 * The release views of every CVE × package, by the tracker's rules: an explicit `[release]`
 * line wins; else a DSA/DLA line for that release fixes it; else the release inherits the
 * unstable line ("fixed iff its version >= V" for a fixed one).
 */
export function debianReleaseViews(cveEntries: DebianListEntry[], fixes: Map<string, AdvisoryFix[]>, where: string): DebianReleaseView[] {
  const views: DebianReleaseView[] = [];
  for (const entry of cveEntries) {
    const id = cveHeader.exec(entry.header)?.[1];
    if (id === undefined) throw new DebianListError(`${where}: not a CVE header: ${entry.header.slice(0, 80)}`);
    if (id.includes('X')) continue; // a placeholder without an id yet
    const lines: DebianPackageLine[] = [];
    for (const line of entry.lines) {
      if (!line.startsWith('-') && !line.startsWith('[')) continue; // NOTE:, TODO:, {xrefs}, RESERVED, NOT-FOR-US: …
      const parsed = parsePackageLine(line);
      if (parsed === undefined) throw new DebianListError(`${where}: ${id}: not a package line: ${line.slice(0, 80)}`);
      lines.push(parsed);
    }
    const packages = [...new Set(lines.map((line) => line.package))];
    for (const pkg of packages) {
      const unstable = lines.find((line) => line.package === pkg && line.release === undefined);
      for (const release of debianReleases) {
        const explicit = lines.find((line) => line.package === pkg && line.release === release);
        const fix = fixes.get(id)?.find((f) => f.package === pkg && f.release === release);
        const view = { cve: id, package: pkg, release };
        if (explicit !== undefined) {
          const basis = `explicit [${release}] line in data/CVE/list${explicit.note ? `; ${explicit.note}` : ''}`;
          views.push({ ...view, status: explicit.kind, version: explicit.version, basis_and_note: basis });
        } else if (fix !== undefined) {
          views.push({ ...view, status: 'fixed', version: fix.version, basis_and_note: `${fix.advisory} [${release}] line in data/${fix.list}/list` });
        } else if (unstable !== undefined) {
          const rule = unstable.kind === 'fixed' ? `: release is fixed iff its ${pkg} version >= this version (tracker rule); check the release version` : '';
          const basis = `no [${release}] line; unstable line applies${rule}${unstable.note ? `; ${unstable.note}` : ''}`;
          views.push({ ...view, status: `inherits-unstable:${unstable.kind}`, version: unstable.version, basis_and_note: basis });
        }
      }
    }
  }
  return views;
}

/** distro_status rows from the three list files' text; `keep` picks the source packages wanted. */
export function debianTrackerRows(lists: { cve: string; dsa: string; dla: string }, keep: (pkg: string) => boolean = () => true): DistroStatusRow[] {
  const fixes = new Map<string, AdvisoryFix[]>();
  for (const [list, text] of [
    ['DSA', lists.dsa],
    ['DLA', lists.dla],
  ] as const) {
    for (const [cve, found] of advisoryFixes(parseDebianList(text, `data/${list}/list`), list, `data/${list}/list`)) {
      fixes.set(cve, [...(fixes.get(cve) ?? []), ...found]);
    }
  }
  const views = debianReleaseViews(parseDebianList(lists.cve, 'data/CVE/list'), fixes, 'data/CVE/list');
  return views
    .filter((view) => keep(view.package))
    .map(debianStatusRow)
    .filter((row): row is DistroStatusRow => row !== null);
}

/** A vuln-list-debian JSON file (one tracker entry) back to its list text: header, then one tab-indented line per annotation. */
export function debianEntryText(json: { Header: { Original: string }; Annotations: { Original: string }[] }): string {
  return [json.Header.Original, ...json.Annotations.map((a) => `\t${a.Original}`)].join('\n') + '\n';
}
