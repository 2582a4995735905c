/**
 * The public API of Switchyard: everything protocols/, filters and user plugins may import.
 */
export * from './headers';
export * from './clock';
export * from './errors';
export * from './stream';
export * from './filter';
export * from './lb';
export * from './codec';
export * from './rpc';
export * from './discovery';
export * from './registry';
