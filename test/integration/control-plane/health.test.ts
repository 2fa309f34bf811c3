import { afterEach, describe, expect, it } from 'vitest';
import { loadContract, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
let storeClosed = false;
afterEach(async () => {
  if (storeClosed) await h?.cp.stop();
  else await h?.stop();
  h = undefined;
  storeClosed = false;
});

describe('health endpoints for a load balancer', () => {
  it('/healthz is live and /readyz ready while the store answers, both without a token, as documented', async () => {
    h = await startHarness();
    const contract = await loadContract(h.url);
    const live = await h.request('GET', '/healthz', { token: null });
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok' });
    contract.check('GET', '/healthz', live);
    const ready = await h.request('GET', '/readyz', { token: null });
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } });
    contract.check('GET', '/readyz', ready);
  });

  it('/readyz and failing requests answer 503 not_ready with the error object once the store stops answering; /healthz stays 200', async () => {
    h = await startHarness();
    const contract = await loadContract(h.url);
    await h.store.close();
    storeClosed = true;
    const refused = await h.request('GET', '/readyz', { token: null });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      type: 'api_error',
      code: 'not_ready',
      message: expect.stringContaining('database does not answer') as string,
      doc_url: `${h.url}/docs/errors/not_ready`,
    });
    contract.check('GET', '/readyz', refused);
    expect(await h.request('GET', '/healthz', { token: null })).toMatchObject({ status: 200, body: { status: 'ok' } });
    // A request the store fails is this node not being ready (503, for a balancer's passive check), not a 500.
    const failed = await h.request('GET', '/scans/cve');
    expect(failed).toMatchObject({ status: 503, body: { type: 'api_error', code: 'not_ready' } });
    contract.check('GET', '/scans/cve', failed);
  });
});
