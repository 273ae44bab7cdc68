import { readFileSync } from 'node:fs';

// This process's own peak RSS in MB. On Linux, VmHWM of /proc/self/status: the
// peak of this program's address space. Not getrusage's maxRSS: for a process
// a bench spawned, the kernel carries the forking parent's RSS into it at exec
// (measured: a child of an 843 MB parent reports maxRSS 804 MB, VmHWM 43 MB),
// so a child of a large bench parent read as large as its parent.
// Elsewhere (no /proc), maxRSS.
export function peakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** The same, as source for a `--import` hook file a spawned CLI runs (prints `peakrss <MB>` to stderr at exit). */
export const PEAK_RSS_HOOK = `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  let mb = process.resourceUsage().maxRSS / 1024;
  try { const kb = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]; if (kb) mb = Number(kb) / 1024; } catch {}
  process.stderr.write('\\npeakrss ' + mb + '\\n');
});
`;
