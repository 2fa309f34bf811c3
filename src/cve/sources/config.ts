import { z } from 'zod';
import { exactlyOneOf, secretKeyNames, secretKeys } from '../../shared/config/fields.js';
import { nvdCveApiUrl } from '../nvd-client.js';
import { createDebianSource, defaultDebianUrl } from './debian.js';
import { defaultEpssUrl, createEpssSource } from './epss.js';
import { defaultKevUrl, createKevSource } from './kev.js';
import { createNvdSource } from './nvd.js';
import { createRouterosSource, defaultRouterosUrl } from './routeros.js';
import type { FeedSource } from './source.js';
import { createUbuntuSource, defaultUbuntuUrl } from './ubuntu.js';

/** Five cron fields (minute hour day month weekday); the hub's scheduler reads them. */
const cron = z.string().regex(/^\S+(\s+\S+){4}$/, 'a cron string of five fields');

const source = (url: string, schedule: string) =>
  z.object({ enabled: z.boolean().default(true), url: z.string().url().default(url), schedule: cron.default(schedule) }).strict();

/** The sources' settings (`feed.sources` in a config): every URL may point at a mirror. */
export const sourcesSettingsSchema = z
  .object({
    // The key like every secret: inline, api_key_file or api_key_env (at most one); the loader resolves it.
    nvd: source(nvdCveApiUrl, '0 */2 * * *')
      .extend(secretKeys('api_key'))
      .superRefine(exactlyOneOf(secretKeyNames('api_key'), false))
      .prefault({}),
    kev: source(defaultKevUrl, '30 3 * * *').prefault({}),
    epss: source(defaultEpssUrl, '45 3 * * *').prefault({}),
    debian: source(defaultDebianUrl, '0 4 * * *').prefault({}),
    ubuntu: source(defaultUbuntuUrl, '20 4 * * *').prefault({}),
    routeros: source(defaultRouterosUrl, '15 */6 * * *').prefault({}),
  })
  .strict()
  .prefault({});

export type SourcesSettings = z.infer<typeof sourcesSettingsSchema>;

/** The enabled sources, each reading its configured URL; `nvdApiKey` is the resolved key (from api_key, its file or its variable). */
export function createSources(settings: SourcesSettings, nvdApiKey: string | undefined = settings.nvd.api_key): FeedSource[] {
  const sources: FeedSource[] = [];
  if (settings.nvd.enabled) sources.push(createNvdSource(settings.nvd.url, nvdApiKey === '' ? undefined : nvdApiKey));
  if (settings.kev.enabled) sources.push(createKevSource(settings.kev.url));
  if (settings.epss.enabled) sources.push(createEpssSource(settings.epss.url));
  if (settings.debian.enabled) sources.push(createDebianSource(settings.debian.url));
  if (settings.ubuntu.enabled) sources.push(createUbuntuSource(settings.ubuntu.url));
  if (settings.routeros.enabled) sources.push(createRouterosSource(settings.routeros.url));
  return sources;
}
