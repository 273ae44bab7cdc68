// Whether the process was started with a V8 flag (argv or NODE_OPTIONS), in
// any of its forms: `--name`, `--no-name`, `--name=value`, with `-` or `_`
// between the words (V8 reads both). The card code sets V8 flags of its own
// at run time (jit.ts while a pool is open, gc.ts when it loads) and leaves
// one an operator gave alone.

/** `name` without its dashes, e.g. 'interrupt-budget'. */
export function givenAtStart(name: string): boolean {
  const words = name.replace(/^-+/, '').split(/[-_]/).join('[-_]');
  const re = new RegExp(`^--(?:no-)?${words}(?:=.*)?$`);
  const nodeOptions = (process.env.NODE_OPTIONS ?? '').split(/\s+/);
  return [...process.execArgv, ...nodeOptions].some((a) => re.test(a));
}
