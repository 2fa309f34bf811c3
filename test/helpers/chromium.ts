/** Debian's chromium through playwright-core (no browser download here): the one launch the browser tests and bench:console share. */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Headless; as root (CI, these machines) chromium refuses to start without --no-sandbox. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}
