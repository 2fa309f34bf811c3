/**
 * The control plane's view of schedule slots. The agents fire their schedules themselves; at each
 * slot this records the scan (so status answers from the first second, offline sites included)
 * and moves next_scan_at on. It also expires sites that never answer.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { nextScanAt } from '../../shared/schedule/next-run.js';
import type { ScheduleStore } from '../store/types.js';
import type { ScanService } from './scan-service.js';

export interface SlotTimerDeps {
  schedules: ScheduleStore;
  scans: ScanService;
  clock: Clock;
  logger: Logger;
  /** A slot missed by longer than this (the control plane was down) is not recorded; an agent that ran it still reports it. */
  missedSlotGraceMs: number;
  tickMs?: number;
}

export class SlotTimer {
  readonly #deps: SlotTimerDeps;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #beatAt: number | undefined;

  constructor(deps: SlotTimerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'slot-timer' });
  }

  start(): void {
    this.#beatAt = Date.now();
    this.#timer = setInterval(() => {
      this.#beatAt = Date.now();
      void this.tick();
    }, this.tickMs);
    this.#timer.unref();
  }

  get tickMs(): number {
    return this.#deps.tickMs ?? 5000;
  }

  /**
   * When the timer last fired (Date.now() ms; undefined before start): the systemd watchdog's proof
   * that the event loop turns. A tick waiting on a slow database still beats; readiness is /readyz's job.
   */
  get beatAt(): number | undefined {
    return this.#beatAt;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#ticking;
  }

  /** One pass: due slots, then overdue sites. Never runs twice at once. */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick()
      .catch((error: unknown) => this.#log.error({ err: error }, 'slot tick failed'))
      .finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    const now = this.#deps.clock.now();
    for (const schedule of await this.#deps.schedules.due(now.toISOString())) {
      const slot = schedule.next_scan_at;
      const late = now.getTime() - Date.parse(slot);
      if (late <= this.#deps.missedSlotGraceMs) {
        const scan = await this.#deps.scans.fireSlot(schedule, slot);
        this.#log.info({ schedule_id: schedule.id, slot_at: slot, scan_id: scan.id }, 'schedule slot reached');
      } else {
        this.#log.warn({ schedule_id: schedule.id, slot_at: slot, late_ms: late }, 'schedule slot missed while the control plane was down');
      }
      const from = new Date(Math.max(Date.parse(slot) + 1, now.getTime()));
      const next = nextScanAt(schedule, new Date(schedule.anchor_at), from).toUTC().toISO() as string;
      await this.#deps.schedules.setTiming(schedule.id, next, late <= this.#deps.missedSlotGraceMs ? slot : null);
    }
    await this.#deps.scans.expireOverdue();
  }
}
