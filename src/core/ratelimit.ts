/**
 * Rate limiters, pure: time is the `now` every input carries.
 *
 * - `TokenBucket` caps the requests the engine sends engine-wide (`max_requests_per_sec`),
 *   on top of the seed's one request per second per entry (RFC 1122 section 2.3.2.1).
 * - `LogLimiter` caps log lines per message kind per second (`log_ratelimit`), as FreeBSD's
 *   ARP_LOG does with ppsratecheck(9) and net.link.ether.inet.max_log_per_second, and
 *   remembers how many lines it suppressed so that the next line let through can say so.
 */

/** A token bucket holding at most one second's worth of tokens (a burst of `rate`). */
export class TokenBucket {
  private tokens = 0;
  private last = Number.NEGATIVE_INFINITY;

  /** Whether one more event may happen at `now` (milliseconds) at `rate` per second; takes a token if so. */
  take(now: number, rate: number): boolean {
    const refill = ((now - this.last) * rate) / 1000;
    // A first call, or a clock that went back, finds the bucket full.
    this.tokens = refill >= rate || refill < 0 ? rate : Math.min(rate, this.tokens + refill);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Per-kind log state: the current one-second window and what happened in it. */
interface LogWindow {
  second: number;
  count: number;
  /** Lines suppressed since the last one let through. */
  suppressed: number;
}

/** ppsratecheck per message kind: at most `rate` lines of each kind in each second. */
export class LogLimiter {
  private readonly windows = new Map<string, LogWindow>();

  /**
   * Whether a line of `kind` may go out in second `nowSec` at `rate` lines per second
   * (0: no limit). Returns the number of lines suppressed before it (0 if none), or -1 when
   * this one is suppressed (and counted for the next).
   */
  admit(kind: string, nowSec: number, rate: number): number {
    let window = this.windows.get(kind);
    if (!window) {
      if (rate === 0) return 0;
      window = { second: nowSec, count: 0, suppressed: 0 };
      this.windows.set(kind, window);
    }
    if (window.second !== nowSec) {
      window.second = nowSec;
      window.count = 0;
    }
    if (rate !== 0 && window.count >= rate) {
      window.suppressed++;
      return -1;
    }
    window.count++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return suppressed;
  }
}
