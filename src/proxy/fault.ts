/**
 * Fault injection (for chaos testing in staging): per request, decide whether to delay it and
 * whether to abort it with a given status, each with its configured probability.
 * Must never: act on its own; the engine applies the decision.
 */
import type { FaultConfig } from '../config/types';

export interface FaultDecision {
  delayMs: number;
  abort: { status: number; grpc_status?: number } | null;
}

const NONE: FaultDecision = { delayMs: 0, abort: null };

export function decideFault(cfg: FaultConfig, random: () => number): FaultDecision {
  const delay = cfg.delay !== undefined && random() * 100 < cfg.delay.percent ? cfg.delay.duration_ms : 0;
  const abort = cfg.abort !== undefined && random() * 100 < cfg.abort.percent ? cfg.abort : null;
  if (delay === 0 && abort === null) return NONE;
  return { delayMs: delay, abort };
}
