/**
 * RouterOS release channels as NVD encodes them in CPE sw_edition: "stable" is `-` (not
 * applicable), long-term is `ltr`, testing is `testing`; an unknown channel stays ANY.
 */
export function routerOsEdition(channel: string | undefined): string | undefined {
  switch (channel?.toLowerCase()) {
    case 'stable':
      return '-';
    case 'long-term':
    case 'ltr':
      return 'ltr';
    case 'testing':
      return 'testing';
    default:
      return undefined;
  }
}

/** "RouterOS v6.49.7 (stable)", "MikroTik v7.14.3 (stable)", "6.48.6 (long-term)". */
export const routerOsVersionPattern = /v?(\d+\.\d+(?:\.\d+)?(?:(?:beta|rc)\d+)?)(?:\s*\(([\w-]+)\))?/;
