/**
 * proxy-wasm host: the `wasm` filter factory (register it with registerFilter). Must never:
 * export internals the runtime does not need.
 */
export { wasmFilterFactory, validateWasmConfig, type WasmFilterConfig } from './filter';
export { resetSharedState } from './shared';
