import { randomUUID } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { commandSpec, createScans, kindOf, scopeProblem, toNewScan, type ScanSpec } from '../../../src/agent/pipeline/index.js';
import { openStore } from '../../../src/agent/store/database.js';
import { scanIpsSchema, scanStatusSchema, type ScanIps } from '../../../src/protocol/index.js';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { systemClock } from '../../../src/shared/clock.js';
import { captureLogger } from '../../helpers/logger.js';
import { tempDir } from '../../helpers/temp.js';

const siteId = '3f1c2a9e-8b7d-4c61-9f0a-2d5e6b7c8a90';
const scheduleId = '6b0f7d2c-5e1a-4f3b-9c8d-7a6e5f4d3c2b';
const thresholds = { minCvss: 4, warningThreshold: 7, ignoreOfflineSites: false };
const scope = (targetIps: string[] | null, subnets = ['127.0.30.0/24']) => ({ siteId, subnets, targetIps });

describe('the scan spec', () => {
  it.each<[string, ScanSpec, string]>([
    ['a slot is a schedule run', { origin: { kind: 'slot', scheduleId, slotAt: '2027-01-17T02:00:00.000Z' }, scope: scope(null), thresholds }, 'schedule'],
    ['the CLI on the whole subnets is an invoke', { origin: { kind: 'cli', scheduleId }, scope: scope(null), thresholds }, 'invoke'],
    [
      'a command on one IP',
      { origin: { kind: 'command', scheduleId, cpScanId: randomUUID(), cpSubScanId: randomUUID() }, scope: scope(['127.0.30.2']), thresholds },
      'single_ip',
    ],
    ['the CLI on two IPs', { origin: { kind: 'cli', scheduleId }, scope: scope(['127.0.30.2', '127.0.30.3']), thresholds }, 'multiple_ips'],
  ])('%s', (_name, spec, kind) => {
    expect(kindOf(spec)).toBe(kind);
    expect(scopeProblem(spec)).toBeUndefined();
  });

  it('names every target outside the subnets, and a spec with no subnet', () => {
    const origin = { kind: 'cli', scheduleId } as const;
    expect(scopeProblem({ origin, scope: scope(['127.0.31.7']), thresholds })).toBe(
      "127.0.31.7 is outside the schedule's subnets for this site (127.0.30.0/24); nothing was sent",
    );
    expect(scopeProblem({ origin, scope: scope(['127.0.31.7', '127.0.30.2', '10.0.0.1']), thresholds })).toMatch(/^127\.0\.31\.7, 10\.0\.0\.1 are outside/);
    expect(scopeProblem({ origin, scope: scope(null, []), thresholds })).toMatch(/names no subnet of this site/);
  });

  it("carries the origin's ids onto the row", () => {
    const cpScanId = randomUUID();
    const cpSubScanId = randomUUID();
    expect(toNewScan({ origin: { kind: 'command', scheduleId, cpScanId, cpSubScanId }, scope: scope(null), thresholds })).toMatchObject({
      kind: 'invoke',
      schedule_id: scheduleId,
      slot_at: null,
      cp_scan_id: cpScanId,
      cp_sub_scan_id: cpSubScanId,
    });
    expect(
      toNewScan({ origin: { kind: 'slot', scheduleId, slotAt: '2027-01-17T02:00:00.000Z' }, scope: scope(null), thresholds: { ...thresholds, minCvss: 5.5 } }),
    ).toMatchObject({ kind: 'schedule', slot_at: '2027-01-17T02:00:00.000Z', cp_scan_id: null, min_cvss: 5.5 });
  });

  it('asks a scan.ips to judge the router and its neighbors only when the command says with_router, and keeps it on the row', () => {
    const command = {
      type: 'scan.ips',
      seq: 3,
      issued_at: '2027-01-17T02:00:00.000Z',
      scan_id: randomUUID(),
      sub_scan_id: randomUUID(),
      schedule_id: scheduleId,
      subnets: ['127.0.30.0/24'],
      ips: ['127.0.30.2'],
      min_cvss: 0,
      warning_threshold: 7,
      expires_at: '2027-01-17T03:00:00.000Z',
    } satisfies ScanIps;
    expect(scanIpsSchema.safeParse(command).success).toBe(true);
    expect(scanIpsSchema.safeParse({ ...command, with_router: true }).success).toBe(true);
    expect(scanIpsSchema.safeParse({ ...command, with_router: 'yes' }).success).toBe(false);
    expect(toNewScan(commandSpec(command, 'site', undefined))).toMatchObject({ kind: 'single_ip', with_router: false });
    expect(toNewScan(commandSpec({ ...command, with_router: true }, 'site', undefined))).toMatchObject({ kind: 'single_ip', with_router: true });
  });
});

describe('refusing a scan', () => {
  function openModule() {
    const { logger } = captureLogger('warn');
    const store = openStore({ stateDir: tempDir(), logger, exclusive: false });
    onTestFinished(() => store.close());
    // Refusing loads no scanner: an engine that is asked for fails the test.
    const loads = { count: 0 };
    const engine = () => {
      loads.count += 1;
      return Promise.reject(new Error('the engine was loaded'));
    };
    const scans = createScans({ db: store.db, clock: systemClock, logger, siteId, engine });
    return { scans, loads, outbox: new OutboxRepository(store.db) };
  }

  const command = (ips: string[]) => ({
    type: 'scan.ips' as const,
    seq: 3,
    issued_at: new Date().toISOString(),
    scan_id: randomUUID(),
    sub_scan_id: randomUUID(),
    schedule_id: scheduleId,
    subnets: ['127.0.30.0/24'],
    ips,
    min_cvss: 4,
    warning_threshold: 7,
    expires_at: new Date(Date.now() + 3600_000).toISOString(),
  });

  it('records a failed run of the IPs asked for, reported queued then failed, and sends nothing', () => {
    const { scans, loads, outbox } = openModule();
    const spec = commandSpec(command(['127.0.35.9']), siteId, undefined);
    const reason = scopeProblem(spec)!;
    const refused = scans.refuse(spec, reason);
    expect(refused).toMatchObject({ kind: 'single_ip', status: 'failed', error: reason, target_ips: ['127.0.35.9'] });
    const rows = outbox.pending(0, 100).map((row) => JSON.parse(row.payload) as Record<string, unknown>);
    expect(rows).toMatchObject([
      { type: 'scan.status', status: 'queued', run_id: refused.id, target_ips: ['127.0.35.9'] },
      { type: 'scan.finished', status: 'failed', run_id: refused.id, error: reason, hosts_scanned: 0, findings_sent: 0 },
    ]);
    expect(() => scans.start(spec)).toThrow(/127\.0\.35\.9 is outside the schedule's subnets/);
    expect(loads.count).toBe(0);
  });

  it('stores a watch or re-match run with no schedule, and reports its origin and trigger in scan.status', () => {
    const { scans, outbox } = openModule();
    const watch = scans.refuse({ origin: { kind: 'watch', trigger: 'new device on 127.0.30.9' }, scope: scope(['127.0.30.9']), thresholds }, 'test');
    expect(watch).toMatchObject({ kind: 'single_ip', origin: 'watch', trigger: 'new device on 127.0.30.9', schedule_id: null, cp_scan_id: null });
    const rematch = scans.refuse({ origin: { kind: 're-match', trigger: 'x'.repeat(400) }, scope: scope(null), thresholds }, 'test');
    expect(rematch).toMatchObject({ kind: 'invoke', origin: 're-match', schedule_id: null });
    const statuses = outbox
      .pending(0, 100)
      .map((row) => JSON.parse(row.payload) as Record<string, unknown>)
      .filter((report) => report.type === 'scan.status');
    expect(statuses).toMatchObject([
      { run_id: watch.id, origin: 'watch', trigger: 'new device on 127.0.30.9', schedule_id: null },
      { run_id: rematch.id, origin: 're-match', trigger: 'x'.repeat(300), schedule_id: null },
    ]);
    // The outbox numbers a report when it sends it.
    for (const status of statuses) expect(scanStatusSchema.safeParse({ ...status, seq: 1 }).error).toBeUndefined();
    // A slot's run carries no origin: the kind says where it came from.
    const slot = scans.refuse({ origin: { kind: 'slot', scheduleId, slotAt: '2027-01-17T02:00:00.000Z' }, scope: scope(null), thresholds }, 'test');
    expect(slot.origin).toBeNull();
  });

  it('is idempotent for one control-plane sub-scan', () => {
    const { scans, outbox } = openModule();
    const spec = commandSpec(command(['127.0.35.9', '127.0.36.1']), siteId, undefined);
    const first = scans.refuse(spec, 'out of scope');
    expect(first.kind).toBe('multiple_ips');
    expect(scans.refuse(spec, 'out of scope').id).toBe(first.id);
    expect(scans.list()).toHaveLength(1);
    expect(outbox.count()).toBe(2);
  });

  it('ends a run failed, saying why, when the scanner cannot be loaded; the next run tries to load it again', async () => {
    const { scans, loads, outbox } = openModule();
    const spec = commandSpec(command(['127.0.30.2']), siteId, undefined);
    const { scan, done } = scans.start(spec);
    expect(scan.status).toBe('queued');
    const ended = await done;
    expect(ended).toMatchObject({ status: 'failed', error: 'the scanner could not be loaded: the engine was loaded' });
    expect(outbox.pending(0, 100).map((row) => row.type)).toEqual(['scan.status', 'scan.event', 'scan.finished']);
    const again = await scans.start(commandSpec(command(['127.0.30.3']), siteId, undefined)).done;
    expect(again.error).toMatch(/could not be loaded/);
    expect(loads.count).toBe(2);
  });
});
