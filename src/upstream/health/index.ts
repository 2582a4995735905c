/**
 * Active health checking: the per-cluster manager, the per-endpoint checker and the probers.
 * Must never: hold logic of its own (re-exports only).
 */
export { ClusterHealth, createProber, HEALTH_CHECKS_COUNTER, HEALTH_TRANSITIONS_COUNTER } from './cluster-health';
export type { ClusterHealthDeps, HealthInfo } from './cluster-health';
export { EndpointChecker } from './checker';
export type { ActiveHealth, CheckerDeps, CheckerTiming, LastCheck } from './checker';
export type { Prober, ProbeDone, ProbeHandle, ProbeTarget } from './probe';
export { OneShot } from './probe';
export { tcpProber } from './probe-tcp';
export { httpProber, parseStatusLine, statusExpected } from './probe-http';
export type { HttpProbeOptions } from './probe-http';
export {
  grpcProber, encodeHealthCheckRequest, decodeServingStatus, grpcFrame, unaryMessage, HEALTH_CHECK_PATH, SERVING,
} from './probe-grpc';
export { heartbeatProber } from './probe-heartbeat';
