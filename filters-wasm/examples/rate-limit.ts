// rate-limit: allows at most `limit` requests per key per window and answers 429 beyond it. Counts
// live in the host's shared data (so every worker VM shares them) and are updated with
// compare-and-swap; the window advances on the root context's tick.
//
// Configuration (JSON):
//   { "limit": 100, "window_ms": 1000, "key_header": "x-api-key", "key_prefix": "rl:" }
// Requests without the key header share one bucket. Shared value: 8 bytes, little-endian u32 window
// number then u32 count. Metric: counter "rate_limit.limited".
// Per request: one header read, one shared-data read, one CAS write (retried on conflict).

export * from "../sdk/exports";
import {
  Action, Context, Counter, Headers, RootContext, Status, currentTimeNanos, getSharedData, logError,
  registerRootContext, setSharedData,
} from "../sdk";

const MAX_CAS_RETRIES: i32 = 8;

class RateLimitRoot extends RootContext {
  limit: u32 = 100;
  windowMs: u32 = 1000;
  keyHeader: string = "x-api-key";
  prefix: string = "rl:";
  /** Current window number: host time / window, refreshed on every tick. */
  window: u32 = 0;
  limited: Counter | null = null;
  value: ArrayBuffer = new ArrayBuffer(8);

  onConfigure(size: u32): bool {
    const cfg = this.configurationJson();
    if (cfg === null || !cfg.isObject()) {
      logError("rate-limit: configuration must be a JSON object");
      return false;
    }
    const limit = cfg.getInt("limit", 100);
    const windowMs = cfg.getInt("window_ms", 1000);
    if (limit < 0 || windowMs <= 0 || windowMs > 86400000) {
      logError("rate-limit: limit must be >= 0 and window_ms in 1..86400000");
      return false;
    }
    this.limit = <u32>limit;
    this.windowMs = <u32>windowMs;
    this.keyHeader = cfg.getString("key_header", "x-api-key").toLowerCase();
    this.prefix = cfg.getString("key_prefix", "rl:");
    if (this.limited === null) this.limited = new Counter("rate_limit.limited");
    this.refreshWindow();
    this.setTickPeriod(this.windowMs);
    return true;
  }

  onTick(): void { this.refreshWindow(); }

  refreshWindow(): void {
    this.window = <u32>(currentTimeNanos() / (<u64>this.windowMs * 1000000));
  }

  /** Counts one request for `key`; true when it is within the limit. */
  admit(key: string): bool {
    const v = this.value;
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const cur = getSharedData(key);
      let count: u32 = 0;
      let cas: u32 = 0;
      if (cur.status == Status.Ok) {
        const b = cur.value!;
        cas = cur.cas;
        if (b.byteLength == 8 && load<u32>(changetype<usize>(b)) == this.window) count = load<u32>(changetype<usize>(b), 4);
      }
      if (count >= this.limit) return false;
      store<u32>(changetype<usize>(v), this.window);
      store<u32>(changetype<usize>(v), count + 1, 4);
      const st = setSharedData(key, v, cas);
      if (st == Status.Ok) return true;
      if (st != Status.CasMismatch) return true; // the store failed: fail open rather than block traffic
    }
    return false; // heavy contention on this key: treat as over the limit
  }

  createContext(id: u32): Context { return new RateLimit(id, this); }
}

class RateLimit extends Context {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): i32 {
    const root = this.root as RateLimitRoot;
    const k = this.requestHeaders.get(root.keyHeader);
    if (root.admit(k === null ? root.prefix : root.prefix + k)) return Action.Continue;
    const limited = root.limited;
    if (limited !== null) limited.increment();
    const headers = new Headers().add("retry-after", ((root.windowMs + 999) / 1000).toString());
    this.sendLocalResponse(429, "too many requests\n", headers, "rate_limited");
    return Action.Pause;
  }
}

registerRootContext((id: u32): RootContext => new RateLimitRoot(id), "rate-limit");
