import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { epssFor, intelLookup, kevFor, loadEpssCsv, loadKevCatalog, newestRouterOsRelease } from '../../../src/cve/intel.js';
import { cveMigrations } from '../../../src/cve/migrations.js';
import { openSqlite } from '../../../src/shared/sqlite.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const shared = path.resolve(import.meta.dirname, '../../../../shared/data');
const kevJson = readFileSync(path.join(shared, 'kev/known_exploited_vulnerabilities.json'), 'utf8');
const epssCsv = readFileSync(path.join(shared, 'epss/epss_scores-2024-01-13.subset.csv'), 'utf8');

function cveDb() {
  const { logger } = captureLogger();
  return openSqlite({ file: path.join(tempDir(), 'cve.db'), logger, migrations: cveMigrations });
}

describe('KEV and EPSS from the real published files', () => {
  it('loads the CISA catalog and reads a CVE back with its dates and ransomware use', () => {
    const db = cveDb();
    expect(loadKevCatalog(db, kevJson)).toBe(1404);
    // MikroTik Winbox (CVE-2018-14847): in the catalog, no known ransomware campaign.
    expect(kevFor(db, 'CVE-2018-14847')).toEqual({ date_added: '2021-12-01', due_date: '2022-06-01', ransomware: false });
    expect(kevFor(db, 'CVE-2025-49704')).toMatchObject({ date_added: '2025-07-22', ransomware: true });
    expect(kevFor(db, 'CVE-2023-30799')).toBeNull();
  });

  it('loads the EPSS CSV with its score date', () => {
    const db = cveDb();
    expect(loadEpssCsv(db, epssCsv)).toBe(2072);
    expect(epssFor(db, 'CVE-2018-14847')).toEqual({ score: 0.97473, percentile: 0.99963, date: '2024-01-13' });
    expect(epssFor(db, 'CVE-2099-0001')).toBeNull();
  });

  it('answers the same through the prepared look-up a scan uses', () => {
    const db = cveDb();
    loadKevCatalog(db, kevJson);
    loadEpssCsv(db, epssCsv);
    const intel = intelLookup(db);
    for (const id of ['CVE-2018-14847', 'CVE-2025-49704', 'CVE-2023-38408', 'CVE-2099-0001']) {
      expect(intel.kev(id)).toEqual(kevFor(db, id));
      expect(intel.epss(id)).toEqual(epssFor(db, id));
    }
  });

  it('rejects a malformed file with CVE_ERR_FEED_INVALID and keeps what was loaded', () => {
    const db = cveDb();
    loadKevCatalog(db, kevJson);
    loadEpssCsv(db, epssCsv);
    expect(() => loadKevCatalog(db, '{"vulnerabilities":[{"cveID":"CVE-2024-1"}]}')).toThrow(expect.objectContaining({ code: 'CVE_ERR_FEED_INVALID' }));
    expect(() => loadEpssCsv(db, `${epssCsv}CVE-2024-9999,not-a-number,0.5\n`)).toThrow(expect.objectContaining({ code: 'CVE_ERR_FEED_INVALID' }));
    expect(() => loadEpssCsv(db, 'cve,epss,percentile\n')).toThrow(expect.objectContaining({ code: 'CVE_ERR_FEED_INVALID' }));
    expect(kevFor(db, 'CVE-2018-14847')).not.toBeNull();
    expect(epssFor(db, 'CVE-2018-14847')?.score).toBe(0.97473);
  });

  it('reads the newest RouterOS release of a channel', () => {
    const db = cveDb();
    db.prepare("INSERT INTO routeros_releases (channel, version, released, checked_at) VALUES ('long-term', '6.49.18', NULL, '2026-12-01T00:00:00Z')").run();
    expect(newestRouterOsRelease(db, 'long-term')).toBe('6.49.18');
    expect(newestRouterOsRelease(db, 'stable')).toBeNull();
  });
});
