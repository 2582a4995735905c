/**
 * Outlier detection: the per-cluster detector and the TryResult the engine reports per try.
 * Must never: hold logic of its own (re-exports only).
 */
export { OutlierDetector, EJECTIONS_COUNTER, EJECTED_GAUGE } from './detector';
export type { EjectionReason, OutlierDeps, OutlierInfo } from './detector';
export { statusResult, failureResult, isGatewayStatus, isGatewayFailure } from './result';
export type { TryResult, TryFailure } from './result';
export { successRateOutliers, meanAndStdev } from './success-rate';
export type { SuccessRateInput, SuccessRateVerdict } from './success-rate';
