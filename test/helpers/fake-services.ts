import { onTestFinished } from 'vitest';
import { startBannerServer, type FakeService } from '../simulators/banner-server.js';

export type { FakeService } from '../simulators/banner-server.js';

/** A banner server closed when the test finishes. */
export async function startFakeService(options: Parameters<typeof startBannerServer>[0]): Promise<FakeService> {
  const service = await startBannerServer(options);
  onTestFinished(() => service.close());
  return service;
}
