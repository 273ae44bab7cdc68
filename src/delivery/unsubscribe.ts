import { issueToken } from './tokens.ts';

// Reader links (see tokens.ts for the format): /u/<token> one-click
// unsubscribe, /p/<token> preference centre. Both name the subscriber by row
// id inside an encrypted token — never by address.

export function unsubscribeToken(keys: readonly Buffer[], list: string, subscriberId: number): string {
  return issueToken(keys, { kind: 'u', id: subscriberId, list });
}

export function preferencesToken(keys: readonly Buffer[], list: string, subscriberId: number): string {
  return issueToken(keys, { kind: 'p', id: subscriberId, list });
}

export const unsubscribeUrl = (publicUrl: string, token: string) => new URL(`u/${token}`, publicUrl).href;
export const preferencesUrl = (publicUrl: string, token: string) => new URL(`p/${token}`, publicUrl).href;
