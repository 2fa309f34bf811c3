import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ScanRepository, type NewScan } from '../../../src/agent/pipeline/scan-repository.js';
import { openStore } from '../../../src/agent/store/database.js';
import { scanKeyOf, scanLabelOf } from '../../../src/shared/scan-label.js';
import { runCli } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';

// Before: `report` took the agent's run id only, exact case; not the control plane's scan id, not the label.
describe('cve-agent report <scan>', () => {
  it('takes a run id in any case, the control-plane scan id or the label, and prints - for no score', async () => {
    const dir = tempDir('report-cli-');
    const stateDir = path.join(dir, 'state');
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, 'subnets: [127.0.38.0/24]\n', { mode: 0o600 });
    const store = openStore({ stateDir, logger: pino({ level: 'silent' }), exclusive: false });
    const scans = new ScanRepository(store.db);
    const cpScanId = randomUUID();
    const fields: Omit<NewScan, 'label'> = {
      kind: 'invoke',
      schedule_id: null,
      slot_at: null,
      cp_scan_id: cpScanId,
      cp_sub_scan_id: randomUUID(),
      site_id: randomUUID(),
      subnets: ['127.0.38.0/24'],
      target_ips: null,
      min_cvss: 0,
      warning_threshold: 7,
      ignore_offline_sites: false,
    };
    const runId = randomUUID();
    const label = scanLabelOf(scanKeyOf({ ...fields, run_id: runId }));
    scans.create({ ...fields, id: runId, label }, '2026-12-01T08:00:00.000Z');
    // A legacy label (drawn at random from A-Z before) shared by two scans: the newest is shown.
    const older = scans.create({ ...fields, cp_scan_id: null, cp_sub_scan_id: null, label: 'OUF-XZT-PIE' }, '2026-12-01T08:01:00.000Z');
    const newer = scans.create({ ...fields, cp_scan_id: null, cp_sub_scan_id: null, label: 'OUF-XZT-PIE' }, '2026-12-01T08:02:00.000Z');
    store.close();

    const report = async (ref: string) => {
      const result = await runCli(['--config', config, '--data-dir', stateDir, '--json', 'report', ref]);
      expect(result.code, result.stderr).toBe(0);
      return { ...(JSON.parse(result.stdout) as { id: string; label: string; summary: Record<string, unknown> }), stderr: result.stderr };
    };
    for (const ref of [runId.toUpperCase(), cpScanId, label.toLowerCase().replaceAll('-', '')])
      expect(await report(ref)).toMatchObject({ id: runId, label, summary: { highest_score: null, average_score: null, cve_count: 0 } });
    const legacy = await report('ouf-xzt-pie');
    expect(legacy.id).toBe(newer.id);
    expect(legacy.stderr).toContain(older.id);

    const text = await runCli(['--config', config, '--data-dir', stateDir, 'report', label]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`scan ${label} (${runId})`);
    expect(text.stdout).toContain('highest -, average -');

    const missing = await runCli(['--config', config, '--data-dir', stateDir, 'report', 'ABC-DEF-GHJ']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no scan has the label ABC-DEF-GHJ');
    const garbage = await runCli(['--config', config, '--data-dir', stateDir, 'report', 'not-a-scan']);
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toContain('not-a-scan is no scan reference');
  }, 120_000);
});
