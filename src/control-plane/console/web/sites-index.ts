/** Site names by id for pages that show ids (schedules, devices, reports): one fetch per page. */
import { useGet } from './api.js';
import type { Site } from './types.js';

export function useSiteNames(): (id: string) => string {
  const sites = useGet<Site[]>('/sites?limit=500');
  const names = new Map((sites.data ?? []).map((site) => [site.id, site.name]));
  return (id) => names.get(id) ?? id.slice(0, 8);
}

export function useSites(): Site[] {
  return useGet<Site[]>('/sites?limit=500').data ?? [];
}
