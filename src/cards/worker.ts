import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic.ts';
import { type CardJob, renderCard } from './render.ts';

// One card in, one PNG written (atomically) out. Used by pool workers and by
// the in-process path alike, so both behave the same. The PNG never crosses
// the thread boundary: only its hash comes back.

export interface CardTask {
  job: CardJob;
  file: string;
}

export interface CardTaskResult {
  sha256: string;
  width: number;
  height: number;
  bytes: number;
}

export async function renderToFile(task: CardTask): Promise<CardTaskResult> {
  const { png, width, height } = await renderCard(task.job);
  await writeFileAtomic(task.file, png);
  return { sha256: createHash('sha256').update(png).digest('hex'), width, height, bytes: png.length };
}

export default renderToFile;
