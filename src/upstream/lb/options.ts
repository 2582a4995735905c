/**
 * What the core hands built-in balancers beyond the public LoadBalancerOptions (a clock), and the
 * readers that turn `lb_config` values into checked numbers. Readers throw a TypeError naming the
 * balancer and key; the cluster reports it as a config error. Must never: hold state, or be
 * needed by plugin balancers (they see only src/api).
 */
import type { LoadBalancerOptions } from '../../api/lb';
import { systemClock, type Clock } from '../../api/clock';
import { parseDuration } from '../../config/duration';

/** LoadBalancerOptions as the Cluster builds them: the cluster's injectable clock included. */
export interface CoreLbOptions extends LoadBalancerOptions {
  clock?: Clock;
}

export function clockOf(options: LoadBalancerOptions): Clock {
  return (options as CoreLbOptions).clock ?? systemClock;
}

export type LbConfig = Readonly<Record<string, unknown>> | undefined;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An integer in [min, max], `def` when absent. */
export function readInt(lb: string, key: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new TypeError(`${lb}: ${key} must be an integer from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/** A finite number in [min, max], `def` when absent. */
export function readNumber(lb: string, key: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new TypeError(`${lb}: ${key} must be a number from ${min} to ${max}, got ${String(v)}`);
  }
  return v;
}

/** A duration ("10s", "250ms" or milliseconds) in ms, `def` when absent; must be > 0 unless allowZero. */
export function readDuration(lb: string, key: string, v: unknown, def: number, allowZero = false): number {
  if (v === undefined) return def;
  let ms: number;
  try {
    ms = parseDuration(v as string | number);
  } catch (err) {
    throw new TypeError(`${lb}: ${key}: ${(err as Error).message}`);
  }
  if (ms === 0 && !allowZero) throw new TypeError(`${lb}: ${key} must be greater than zero`);
  return ms;
}
