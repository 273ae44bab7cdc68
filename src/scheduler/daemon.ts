// `broadsheet schedule`: one node-cron task per scheduled job, named
// `broadsheet:<job>`, ticking every second. Each tick asks
// occurrences.ts whether an occurrence of the job has come due since the last
// tick — node-cron's own matcher skips times in a spring-forward gap, so it
// only keeps time; what is due is computed here with Intl. A tick that finds
// nothing due costs one comparison. The occurrence itself then runs through
// execute.ts (lease + run record + time limit), so two daemons, or a daemon
// and `broadsheet run`, run each occurrence once.
//
// Ticks never wait for a running job (no node-cron noOverlap: it drops the
// ticks that come while the callback runs, without a trace). An occurrence
// that comes due while the previous one still runs is recorded `skipped`,
// with that reason, by execute.ts; a job past its time limit is stopped there,
// so the next occurrence runs on time.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.ts';
import { type Heartbeat, startHeartbeat } from '../ops/heartbeat.ts';
import { type HeartbeatStore, heartbeatsFor } from '../ops/heartbeat-store.ts';
import {
  beat,
  beginHeartbeat,
  type HeartbeatRow,
  isDeadProcessError,
  lastBeatFor,
  type RunTrigger,
} from '../store/jobs.ts';
import { formatLocal } from '../util/zoned.ts';
import { type Job, jobZone } from './config.ts';
import { formatDuration } from './duration.ts';
import {
  type Active,
  backendOf,
  describeOccurrence,
  type ExecEnv,
  isoOf,
  reapDeadRunsIn,
  reposOf,
  runOccurrence,
  skipOccurrences,
} from './execute.ts';
import { seconds } from './limit.ts';
import { LATE_TOLERANCE_MS, planDue } from './missed.ts';
import { nextOccurrence, type Schedule, scheduleOf } from './occurrences.ts';

export interface SchedulerOptions {
  /** How often the heartbeat row is written (default 10 s). */
  heartbeatMs?: number;
  /** How long a stop waits for running jobs before interrupting them (default 5 min). */
  graceMs?: number;
  /** Skipped occurrences recorded one by one per catch-up (default 100; the rest are counted in the log). */
  keepSkipped?: number;
}

class JobLoop {
  readonly schedule: Schedule;
  /** Occurrences up to here have been planned; undefined until the first tick (catch-up). */
  cursor: number | undefined;
  next: number | undefined;
  /** Occurrence whose process died before it finished, that catch-up should run again. */
  retry: number | undefined;

  constructor(
    private readonly s: Scheduler,
    readonly job: Job,
  ) {
    this.schedule = scheduleOf(job.cron!, jobZone(job, s.env.ctx.config));
  }

  private get log(): Logger {
    return this.s.log;
  }

  async tick(): Promise<void> {
    await this.s.ready;
    if (this.s.stopping) return;
    const now = this.s.env.ctx.clock.now().getTime();
    if (this.cursor === undefined) return this.catchUp(now);
    if (now < this.next!) return;
    // While alive, lateness up to a minute is jitter, not a miss (a catchUp of 0 must still run on time).
    const plan = planDue(this.schedule, {
      fromMs: this.cursor,
      nowMs: now,
      windowMs: Math.max(this.job.catchUp, LATE_TOLERANCE_MS),
      keep: this.s.keepSkipped,
    });
    this.advance(now);
    await this.apply(plan, 'schedule', now);
  }

  private advance(now: number) {
    this.cursor = now;
    this.next = nextOccurrence(this.schedule, now);
  }

  private async catchUp(now: number): Promise<void> {
    const { runs } = await reposOf(this.s.env);
    const last = await runs.lastOccurrence(this.job.name);
    const from = last?.occurrence ? Date.parse(last.occurrence) : await this.s.lastBeatFor(this.job.name);
    this.advance(now);
    if (from === undefined) {
      this.log.info(
        `${this.job.name}: first start, nothing to catch up; next ${formatLocal(this.next!, this.schedule.timezone)}`,
      );
      return;
    }
    const plan = planDue(this.schedule, {
      fromMs: from,
      nowMs: now,
      windowMs: this.job.catchUp,
      keep: this.s.keepSkipped,
      extra: this.retry === undefined ? [] : [this.retry],
    });
    await this.apply(plan, 'catch-up', now);
  }

  private async apply(plan: ReturnType<typeof planDue>, trigger: RunTrigger, now: number) {
    if (plan.skippedTotal) {
      const first = plan.skipped[0];
      this.log.warn(
        {
          job: this.job.name,
          skipped: plan.skippedTotal,
          recorded: plan.skipped.length,
          occurrences: plan.skipped.map((s) => isoOf(s.at)),
        },
        `${this.job.name}: skipping ${plan.skippedTotal} missed occurrence(s)` +
          (first ? ` (e.g. ${formatLocal(first.at, this.schedule.timezone)}: ${first.reason})` : '') +
          (plan.run === undefined && trigger === 'catch-up'
            ? `; none is within catchUp ${formatDuration(this.job.catchUp)}`
            : ''),
      );
      await skipOccurrences(this.s.env, this.job, plan.skipped, trigger);
    }
    if (plan.run === undefined || this.s.stopping) return;
    if (trigger === 'catch-up')
      this.log.info(
        `${this.job.name}: catching up ${formatLocal(plan.run, this.schedule.timezone)}, missed ${formatDuration(Math.round((now - plan.run) / 1000) * 1000)} ago`,
      );
    const retakeDead = plan.run === this.retry;
    if (retakeDead) this.retry = undefined;
    const r = await runOccurrence(this.s.env, this.job, plan.run, trigger, {
      onStart: (a) => this.s.active.set(a.runId, a),
      onEnd: (a) => this.s.active.delete(a.runId),
      retakeDead,
    });
    if (r.state === 'held')
      this.log.debug(
        `${this.job.name}: ${isoOf(plan.run)} is running in pid ${r.holder.pid} on ${r.holder.host}`,
      );
    else if (r.state === 'settled')
      this.log.debug(`${this.job.name}: ${isoOf(plan.run)} already ${r.row.outcome} (run ${r.row.id})`);
  }
}

export class Scheduler {
  readonly instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly log: Logger;
  readonly loops: JobLoop[];
  readonly active = new Map<number, Active>();
  readonly keepSkipped: number;
  stopping = false;
  private readonly heartbeatMs: number;
  private readonly graceMs: number;
  private readonly inflight = new Set<Promise<void>>();
  private tasks: ScheduledTask[] = [];
  private beatTimer: NodeJS.Timeout | undefined;
  /** This daemon's row in process_heartbeats (issue 17), once start() has written it. */
  heartbeat: Heartbeat | undefined;
  /** The heartbeat store (status of every host, the health check's ping). */
  beats: HeartbeatStore | undefined;
  /** Settles when start() has registered the heartbeat and reaped dead runs; ticks wait for it. */
  ready: Promise<void> = Promise.resolve();
  private stopped: Promise<{ forced: boolean }> | undefined;
  private forceStop: (() => void) | undefined;
  private forcedBy: string | undefined;
  private resolveDone: (r: { forced: boolean }) => void = () => {};
  private readonly done = new Promise<{ forced: boolean }>((resolve) => {
    this.resolveDone = resolve;
  });

  constructor(
    readonly env: ExecEnv,
    jobs: Job[],
    opts: SchedulerOptions = {},
  ) {
    this.log = env.ctx.logger;
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.graceMs = opts.graceMs ?? 300_000;
    this.keepSkipped = opts.keepSkipped ?? 100;
    this.loops = jobs.filter((j) => j.cron).map((j) => new JobLoop(this, j));
  }

  /**
   * Register the heartbeat, deal with runs left `running` by dead processes,
   * and (unless `tick: false`, for tests that call tick() themselves) start
   * the node-cron tasks. The first tick of each job is its catch-up.
   */
  start(opts: { tick?: boolean } = {}): Promise<void> {
    this.ready = this.init();
    if (opts.tick === false) return this.ready;
    return this.ready.then(() => {
      if (!this.stopping) this.schedule();
    });
  }

  private async init() {
    const { ctx } = this.env;
    const legacy = this.legacyDb();
    // The SQLite store keeps its issue-6 scheduler_heartbeats row too (tools and
    // monitors that read it); process_heartbeats is the row of every host's processes.
    if (legacy)
      beginHeartbeat(legacy, {
        instance: this.instance,
        host: hostname(),
        intervalMs: this.heartbeatMs,
        jobs: this.loops.map((l) => l.job.name),
        now: ctx.clock.now(),
      });
    const backend = backendOf(this.env);
    this.beats = await heartbeatsFor(backend, () => ctx.clock.now().getTime());
    this.heartbeat = await startHeartbeat(backend, {
      role: 'daemon',
      instance: this.instance,
      intervalMs: this.heartbeatMs,
      now: () => ctx.clock.now().getTime(),
      logger: this.log,
      detail: () => ({
        jobs: this.loops.map((l) => l.job.name),
        running: [...this.active.values()].map((a) => ({ job: a.job, occurrence: a.occurrence })),
      }),
    });
    await this.reap();
    if (legacy) this.beatTimer = setInterval(() => this.beat('running'), this.heartbeatMs);
  }

  /** The SQLite store, when that is the store (the legacy heartbeat table lives there). */
  private legacyDb() {
    const b = this.env.backend;
    return b ? (b.kind === 'sqlite' ? b.db : undefined) : this.env.db;
  }

  /** When a daemon that scheduled `job` was last seen alive (not this one), if ever. */
  async lastBeatFor(job: string): Promise<number | undefined> {
    const legacy = this.legacyDb();
    if (legacy) return lastBeatFor(legacy, job, this.instance);
    const rows = (await this.beats?.list({ role: 'daemon', limit: 50 })) ?? [];
    const hit = rows.find(
      (r) => r.instance !== this.instance && ((r.detail?.jobs as string[] | undefined) ?? []).includes(job),
    );
    return hit ? Date.parse(hit.beatAt) : undefined;
  }

  private schedule() {
    // node-cron's own warnings ("missed execution" when the event loop was
    // busy) say nothing the run records do not, so they go to debug.
    const cronLog = {
      info: (m: string) => this.log.debug(`node-cron: ${m}`),
      warn: (m: string) => this.log.debug(`node-cron: ${m}`),
      error: (m: string | Error, e?: Error) => this.log.error({ err: e ?? m }, 'node-cron error'),
      debug: (m: string | Error) => this.log.trace(`node-cron: ${String(m)}`),
    };
    for (const loop of this.loops) {
      this.tasks.push(
        cron.schedule('* * * * * *', () => this.track(loop.tick()), {
          name: `broadsheet:${loop.job.name}`,
          // Ticks must come while a job runs: a tick that finds an occurrence
          // due records it skipped if the previous one is still running.
          noOverlap: false,
          timezone: 'UTC',
          logger: cronLog,
          suppressMissedWarning: true,
        }),
      );
    }
  }

  /** Tick every job once, in parallel, and wait (tests drive the clock this way). */
  async tickAll(): Promise<void> {
    await Promise.all(this.loops.map((l) => this.track(l.tick())));
  }

  private track(p: Promise<void>): Promise<void> {
    const t = p.catch((err) => this.log.error({ err }, 'scheduler tick failed'));
    this.inflight.add(t);
    void t.finally(() => this.inflight.delete(t));
    return t;
  }

  /**
   * Runs whose process died are marked failed ("interrupted"), here or
   * earlier by `status`. The latest occurrence of a job, still inside its
   * catch-up window with nothing due after it, is run again by catch-up.
   */
  private async reap() {
    const { ctx } = this.env;
    const now = ctx.clock.now().getTime();
    const repos = await reposOf(this.env);
    for (const row of await reapDeadRunsIn(repos, ctx.clock.now()))
      this.log.warn(
        { job: row.job, occurrence: row.occurrence, pid: row.pid, host: row.host },
        `${row.job}: ${row.occurrence ?? 'manual run'} was left running by pid ${row.pid} on ${row.host}, which is gone: recorded failed (interrupted)`,
      );
    for (const loop of this.loops) {
      const last = await repos.runs.lastOccurrence(loop.job.name);
      if (!last?.occurrence || last.outcome !== 'failed' || !isDeadProcessError(last.error)) continue;
      const at = Date.parse(last.occurrence);
      if (now - at > loop.job.catchUp || nextOccurrence(loop.schedule, at) <= now) continue;
      loop.retry = at;
      this.log.warn(
        `${last.job}: ${describeOccurrence(ctx, loop.job, last.occurrence)} was interrupted (pid ${last.pid} on ${last.host}); it runs again now`,
      );
    }
  }

  private beat(state: HeartbeatRow['state']) {
    if (state !== 'running') void this.heartbeat?.beat(state);
    const legacy = this.legacyDb();
    if (!legacy) return;
    try {
      beat(
        legacy,
        this.instance,
        state,
        [...this.active.values()].map((a) => ({ job: a.job, occurrence: a.occurrence })),
        this.env.ctx.clock.now(),
      );
    } catch (err) {
      this.log.error({ err }, 'heartbeat write failed');
    }
  }

  /** Next occurrence per scheduled job (after the first tick; before it, computed from now). */
  nextRuns(): { job: string; at: number; local: string }[] {
    const now = this.env.ctx.clock.now().getTime();
    return this.loops.map((l) => {
      const at = l.next ?? nextOccurrence(l.schedule, now);
      return { job: l.job.name, at, local: formatLocal(at, l.schedule.timezone) };
    });
  }

  /**
   * Stop: no new ticks, wait up to the grace period for running jobs, then
   * release everything. `forced` when runs had to be interrupted (grace
   * exceeded, or force() — a second signal).
   */
  stop(why = 'stop requested'): Promise<{ forced: boolean }> {
    this.stopped ??= this.doStop(why).then((r) => {
      this.resolveDone(r);
      return r;
    });
    return this.stopped;
  }

  /** Settles when a stop (from anywhere: a signal handler) has finished. */
  whenStopped(): Promise<{ forced: boolean }> {
    return this.done;
  }

  /** End running jobs now (a second signal): `why` names it in their run records. */
  force(why = 'a second stop request') {
    this.forcedBy ??= why;
    this.forceStop?.();
  }

  private async doStop(why: string): Promise<{ forced: boolean }> {
    this.stopping = true;
    const t0 = performance.now();
    for (const t of this.tasks) await t.stop();
    this.beat('stopping');
    if (this.active.size)
      this.log.info(
        { running: [...this.active.values()].map((a) => `${a.job}@${a.occurrence ?? 'manual'}`) },
        `stopping: waiting for ${this.active.size} running job(s) to finish (up to ${formatDuration(this.graceMs)})`,
      );
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), this.graceMs);
      this.forceStop = () => resolve('cut');
    });
    const how = await Promise.race([Promise.allSettled([...this.inflight]).then(() => 'done' as const), cut]);
    clearTimeout(timer);
    const forced = how === 'cut' && this.active.size > 0;
    if (forced) {
      // The error text states what really happened: the time waited since the
      // stop began and how long the run had been going, not the configured grace.
      const waited = seconds(performance.now() - t0);
      const cause = this.forcedBy
        ? `${why}, then ${this.forcedBy} after ${waited}`
        : `${why}; --grace ${formatDuration(this.graceMs)} ran out after ${waited}`;
      for (const a of [...this.active.values()]) {
        a.interrupt(
          (ms) => `interrupted: the scheduler stopped (${cause}) while the run was going (${seconds(ms)})`,
        );
        this.log.error(`${a.job}: ${a.occurrence ?? 'manual run'} interrupted by the stop`);
      }
      // Each interrupted run records itself and releases its lease; give the
      // loops a moment to do so, then make sure of it here.
      const settled = Promise.allSettled([...this.inflight]);
      await Promise.race([settled, new Promise((r) => setTimeout(r, 2000).unref())]);
      const { runs } = await reposOf(this.env);
      for (const a of this.active.values()) {
        await runs.markInterrupted(
          a.runId,
          `interrupted: the scheduler stopped (${cause}) while the run was going (${seconds(performance.now() - a.startedAt)})`,
          this.env.ctx.clock.now(),
        );
        await Promise.resolve()
          .then(() => a.lease.release())
          .catch(() => {});
      }
    }
    for (const t of this.tasks) await t.destroy();
    clearInterval(this.beatTimer);
    this.beat('stopped');
    await this.heartbeat?.stop();
    return { forced };
  }
}
