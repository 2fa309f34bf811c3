export interface RttLimits {
  initialTimeoutMs: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/**
 * Connect timeouts from the round trips seen, as nmap (and TCP, RFC 6298) do: a smoothed RTT
 * and its variance, timeout = srtt + 4 * rttvar, clamped. A LAN host that answers in 1 ms gets
 * a 100 ms timeout instead of a fixed second, so silent ports stop costing a second each.
 */
export class RttEstimator {
  #srtt: number | null = null;
  #rttvar = 0;

  constructor(
    private readonly limits: RttLimits,
    private readonly parent?: RttEstimator,
  ) {}

  observe(rttMs: number): void {
    if (this.#srtt === null) {
      this.#srtt = rttMs;
      this.#rttvar = rttMs / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rttMs);
      this.#srtt = 0.875 * this.#srtt + 0.125 * rttMs;
    }
    this.parent?.observe(rttMs);
  }

  get samples(): boolean {
    return this.#srtt !== null;
  }

  timeoutMs(): number {
    if (this.#srtt === null) return this.parent?.samples ? this.parent.timeoutMs() : this.limits.initialTimeoutMs;
    const raw = this.#srtt + 4 * this.#rttvar;
    return Math.round(Math.min(this.limits.maxTimeoutMs, Math.max(this.limits.minTimeoutMs, raw)));
  }
}
