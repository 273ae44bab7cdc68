// Which worker draws which card: each worker keeps to one format while that
// format has cards left.
//
// A worker's glyph cache holds coverage bitmaps by size, and every format
// draws its text at its own sizes (its scale). From one shared queue, sorted
// by format, both workers drew the same format at once, so each rasterized
// every glyph of it: on the sample's first pass (cold caches), 2 workers
// spent 57 ms of CPU a card against 45 ms with the formats split between
// them (.probe, same run; docs/performance-cards.md).
//
// A lane that runs out of its format takes the format with the most cards
// that no other lane holds; when every format left is held, it joins the
// one with the most cards left (two lanes share it only at the end).

export interface Lane<T, R> {
  /** Runs one task on this lane's worker. */
  run(task: T): Promise<R>;
  /** Tasks this lane may have in flight at once. */
  capacity: number;
}

interface Queued<T, R> {
  task: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export function laneScheduler<T, R>(lanes: Lane<T, R>[], keyOf: (task: T) => string) {
  const queues = new Map<string, Queued<T, R>[]>();
  const state = lanes.map(() => ({ key: undefined as string | undefined, busy: 0 }));

  const left = (key: string) => queues.get(key)?.length ?? 0;
  /** The format lane `i` should draw next, or undefined when nothing is queued. */
  const pick = (i: number): string | undefined => {
    const own = state[i]!.key;
    const held = new Set(
      state.flatMap((s, j) => (j !== i && s.key !== undefined && left(s.key) ? [s.key] : [])),
    );
    if (own !== undefined && left(own) && !held.has(own)) return own;
    let best: string | undefined;
    let bestFree: string | undefined;
    for (const [key, q] of queues) {
      if (!q.length) continue;
      if (best === undefined || q.length > left(best)) best = key;
      if (!held.has(key) && (bestFree === undefined || q.length > left(bestFree))) bestFree = key;
    }
    // Every format left is held: stay on one's own while it lasts, else join the biggest.
    return bestFree ?? (own !== undefined && left(own) ? own : best);
  };

  const pump = () => {
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      const s = state[i]!;
      while (s.busy < lane.capacity) {
        const key = pick(i);
        if (key === undefined) break;
        const item = queues.get(key)!.shift()!;
        s.key = key;
        s.busy++;
        lane
          .run(item.task)
          .then(item.resolve, item.reject)
          .finally(() => {
            s.busy--;
            pump();
          });
      }
    }
  };

  return {
    /** Rejects every task still queued (the pool is closing): none is left waiting forever. */
    cancel(err: Error) {
      for (const q of queues.values()) for (const item of q.splice(0)) item.reject(err);
    },
    run(task: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const key = keyOf(task);
        const q = queues.get(key) ?? [];
        queues.set(key, q);
        q.push({ task, resolve, reject });
        // Once every task of this turn is queued: a lane then picks among all of them.
        queueMicrotask(pump);
      });
    },
  };
}
