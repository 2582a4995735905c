/**
 * Watches certificate and key files for changes: one fs.watch per directory (so files replaced
 * by rename, as cert managers do, are still seen), filtered by file name, debounced on the Clock
 * so a cert and its key written one after the other cause one reload.
 * Must never: keep the process alive (watchers are not persistent), read the files, or throw
 * from a watcher event.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../api/clock';
import type { Logger } from '../api/filter';

export const DEFAULT_RELOAD_DEBOUNCE_MS = 100;

export interface FileWatch {
  close(): void;
}

export function watchFiles(files: readonly string[], onChange: () => void, clock: Clock, log: Logger, debounceMs = DEFAULT_RELOAD_DEBOUNCE_MS): FileWatch {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const d = dirname(f);
    let names = byDir.get(d);
    if (names === undefined) byDir.set(d, (names = new Set()));
    names.add(basename(f));
  }
  let timer: TimerHandle | null = null;
  let closed = false;
  const fire = (): void => {
    timer = null;
    if (closed) return;
    try {
      onChange();
    } catch (e) {
      log.error('certificate reload failed', { error: String(e) });
    }
  };
  const touched = (): void => {
    if (closed) return;
    if (timer !== null) timer.cancel();
    timer = clock.setTimer(fire, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, filename) => {
        // Some platforms report no file name: treat that as "maybe ours".
        if (filename === null || names.has(String(filename))) touched();
      });
      w.on('error', (e) => log.warn('certificate directory watch failed', { dir, error: String(e) }));
      watchers.push(w);
    } catch (e) {
      log.warn('cannot watch certificate directory; certificates will not reload on change', { dir, error: String(e) });
    }
  }
  return {
    close(): void {
      closed = true;
      if (timer !== null) timer.cancel();
      timer = null;
      for (const w of watchers) w.close();
    },
  };
}
