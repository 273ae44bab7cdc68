// Secrets and deployment settings come from the environment only (names are a
// contract, see DESIGN.md § Environment). Nothing here is ever written to disk
// by Broadsheet except the generated fallback secret (store folder, mode 0600).
export interface Secrets {
  smtpUrl?: string;
  secret?: string;
  editorPassword?: string;
  dkimPrivateKeyFile?: string;
}

export function readSecrets(env: NodeJS.ProcessEnv = process.env): Secrets {
  const v = (k: string) => (env[k] && env[k]!.trim() !== '' ? env[k]!.trim() : undefined);
  return {
    smtpUrl: v('SMTP_URL'),
    secret: v('BROADSHEET_SECRET'),
    editorPassword: v('BROADSHEET_EDITOR_PASSWORD'),
    dkimPrivateKeyFile: v('DKIM_PRIVATE_KEY_FILE'),
  };
}

/** Non-secret overrides: env beats the file, CLI flags beat env. */
export const ENV_OVERRIDES: Record<string, readonly string[]> = {
  BROADSHEET_PUBLIC_URL: ['publicUrl'],
  BROADSHEET_TIMEZONE: ['timezone'],
  BROADSHEET_LOCALE: ['locale'],
};
