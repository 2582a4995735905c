/**
 * Reader for the top-level `overload` section (load shedding thresholds).
 * Must never: measure anything (src/runtime/overload.ts does).
 */
import type { OverloadConfig } from './types';
import type { Reader } from './schema';

export function readOverload(r: Reader): OverloadConfig | null {
  const o = r.object('overload', ['max_heap_bytes', 'max_event_loop_lag', 'sample_interval']);
  if (!o) return null;
  const out: OverloadConfig = {
    max_heap_bytes: o.int('max_heap_bytes', 0, { min: 0 }) ?? 0,
    max_event_loop_lag_ms: o.duration('max_event_loop_lag', 0) ?? 0,
    sample_interval_ms: o.duration('sample_interval', 100) ?? 100,
  };
  if (out.max_heap_bytes === 0 && out.max_event_loop_lag_ms === 0) {
    r.issues.add(o.path, 'needs max_heap_bytes or max_event_loop_lag');
  }
  if (out.sample_interval_ms < 10) r.issues.add(o.at('sample_interval'), 'must be at least 10ms');
  return out;
}
