import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { OutboxRepository } from '../../../src/agent/store/outbox-repository.js';
import { openStore } from '../../../src/agent/store/database.js';
import { UplinkState } from '../../../src/agent/uplink/uplink-state.js';
import { runCli } from '../../helpers/agent-process.js';
import { tempDir } from '../../helpers/temp.js';

describe('cve-agent uplink status', () => {
  it('shows the control plane, the reports waiting and the seqs, as text and as JSON', async () => {
    const dir = tempDir('uplink-cli-');
    const stateDir = path.join(dir, 'state');
    const config = path.join(dir, 'config.yaml');
    writeFileSync(config, 'subnets: [127.0.39.0/24]\ncontrol_plane:\n  url: wss://cve.example.net/agents\n  token: not-shown\n', { mode: 0o600 });
    const store = openStore({ stateDir, logger: pino({ level: 'silent' }), exclusive: false });
    const outbox = new OutboxRepository(store.db);
    const runId = randomUUID();
    for (let i = 0; i < 5; i += 1)
      outbox.append({ type: 'scan.event', at: `2026-12-01T08:0${i}:00.000Z`, run_id: runId, level: 'info', message: `event ${i}` });
    outbox.acknowledge(2);
    const state = new UplinkState(store.db);
    state.setLastAcked(2);
    state.setLastCommand(7);
    store.close();

    const json = await runCli(['--config', config, '--data-dir', stateDir, '--json', 'uplink', 'status']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      control_plane: 'wss://cve.example.net/agents',
      stream_id: state.streamId,
      outbox_pending: 3,
      oldest_pending_at: '2026-12-01T08:02:00.000Z',
      last_acked_seq: 2,
      last_command_seq: 7,
    });
    const text = await runCli(['--config', config, '--data-dir', stateDir, 'uplink', 'status']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('outbox            3 report(s) waiting, oldest from 2026-12-01T08:02:00.000Z');
    expect(text.stdout).not.toContain('not-shown');
  });
});
