/**
 * Hash routing (wouter-preact's useHashLocation) with filters in the hash too: `#/scans?schedule=…`.
 * Routes match the path before `?`; pages read the filters with useHashQuery.
 */
import { useEffect, useState } from 'preact/hooks';
import { useHashLocation } from 'wouter-preact/use-hash-location';

const queryOf = (): URLSearchParams => new URLSearchParams(location.hash.split('?')[1] ?? '');

export function navigateTo(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) location.replace(`#${to}`);
  else location.hash = to;
}

export function useHashPath(): [string, (to: string, options?: { replace?: boolean }) => void] {
  const [path] = useHashLocation();
  return [path.split('?')[0] ?? '/', navigateTo];
}
useHashPath.hrefs = (href: string) => `#${href}`;

export function useHashQuery(): URLSearchParams {
  const [query, setQuery] = useState(queryOf);
  useEffect(() => {
    const changed = () => setQuery(queryOf());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return query;
}
