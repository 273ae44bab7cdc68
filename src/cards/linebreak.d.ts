// linebreak 1.1.0 (UAX #14), the line breaker satori finds words with; no types of its own.
declare module 'linebreak' {
  export default class LineBreaker {
    constructor(text: string);
    nextBreak(): { position: number; required: boolean } | null;
  }
}
