import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiSimulator, type RunningApiSimulator } from '../../simulators/routeros-api/server.js';
import { routerFromCaptures } from '../../simulators/router-data.js';

const run = promisify(execFile);
const data = routerFromCaptures();

// Debian's python3-librouteros, an independent client, reads through the simulator: the
// simulator speaks RouterOS, not just whatever node-routeros expects.
const script = `
import json, sys
import librouteros
api = librouteros.connect(host='127.0.0.1', port=int(sys.argv[1]), username='admin', password='secret', timeout=5)
out = {path: [dict(row) for row in api(path + '/print')] for path in ('/ip/arp', '/system/resource', '/ip/neighbor')}
out['proplist'] = [dict(row) for row in api('/ip/arp/print', **{'.proplist': 'address,interface'})]
api.close()
print(json.dumps(out, default=str))
`;

let sim: RunningApiSimulator;
beforeAll(async () => {
  sim = await startApiSimulator({ data });
});
afterAll(async () => {
  await sim.stop();
});

async function readWithLibrouteros(): Promise<Record<string, Record<string, unknown>[]>> {
  const { stdout } = await run('/usr/bin/python3', ['-c', script, String(sim.port)], { timeout: 20_000 });
  return JSON.parse(stdout) as Record<string, Record<string, unknown>[]>;
}

describe('python3-librouteros against the API simulator', () => {
  it('logs in and prints the captured tables', async () => {
    const out = await readWithLibrouteros();
    expect(sim.logins).toContain('admin:ok');
    expect(out['/ip/arp']).toHaveLength(3);
    // librouteros casts "true"/"false" and digit strings, as in the capture it came from.
    expect(out['/ip/arp']?.[0]).toMatchObject({ address: '192.168.56.254', 'mac-address': '08:00:27:CE:A3:7E', dynamic: true, DHCP: false });
    expect(out['/system/resource']?.[0]).toMatchObject({ version: '7.4 (stable)', 'cpu-count': 4, 'board-name': 'CCR2004-16G-2S+' });
    expect(out['/ip/neighbor']?.[0]).toMatchObject({ identity: 'sw', version: '6.40.8 (bugfix)' });
    expect(out.proplist?.[0]).toEqual({ address: '192.168.56.254', interface: 'ether1' });
  });

  // librouteros knows length prefixes up to 4 bytes only, so 4 is as wide as this goes.
  it('reads through the byte-splitting and 4-byte-length faults too', async () => {
    sim.setFaults({ splitEveryByte: true, minLengthWidth: 4 });
    try {
      const out = await readWithLibrouteros();
      expect(out['/ip/arp']?.map((row) => row.address)).toEqual(['192.168.56.254', '192.168.56.1', '192.168.0.220']);
    } finally {
      sim.setFaults({});
    }
  });
});
