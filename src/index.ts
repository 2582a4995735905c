/**
 * The package entry point (`require('switchyard')`): the public API that plugins use —
 * registries, HeaderMap, and the interface types. Must never: export internals.
 */
export * from './api';
