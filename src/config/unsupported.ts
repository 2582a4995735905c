/**
 * The one list of config keys DESIGN.md shows but this build does not implement yet. The loader
 * rejects them with `<path>: "<key>" is not supported by this version yet` instead of ignoring
 * them. When a capability lands, remove its key here and teach the section's reader about it.
 * Must never: hold validation logic.
 */

export const NOT_YET_SUPPORTED = {
  top: ['workers'],
  listener: [],
  route: [],
  cluster: ['discovery'],
} as const satisfies Record<string, readonly string[]>;

export type ConfigSection = keyof typeof NOT_YET_SUPPORTED;

export function notSupportedMessage(key: string): string {
  return `"${key}" is not supported by this version yet`;
}
