// mjml 5 ships no type declarations; this is the part Broadsheet uses.
declare module 'mjml' {
  export interface MJMLParseError {
    line: number;
    message: string;
    tagName: string;
    formattedMessage: string;
  }
  export interface MJMLParseResults {
    html: string;
    errors: MJMLParseError[];
  }
  export interface MJMLOptions {
    fonts?: Record<string, string>;
    keepComments?: boolean;
    minify?: boolean;
    minifyOptions?: Record<string, unknown>;
    validationLevel?: 'strict' | 'soft' | 'skip';
    filePath?: string;
    actualPath?: string;
    ignoreIncludes?: boolean;
    includePath?: string | string[];
    beautify?: boolean;
  }
  /** Async since mjml 5. Throws a ValidationError (with `.errors`) under validationLevel strict. */
  export default function mjml2html(input: string, options?: MJMLOptions): Promise<MJMLParseResults>;
}
